// descent's test problems (problems/) for Python: the Moré–Garbow–Hillstrom
// set, extended Rosenbrock, the quadratics and the bound-constrained set,
// each with its value, gradient, Hessian and Hessian-vector product in C++.
// descent.minimize runs on a Problem without calling back into Python; its
// methods serve scipy the very same functions.
//
// Arrays go in and out as float64 numpy arrays; inputs that are already
// float64 and contiguous are read in place, outputs are written straight into
// freshly allocated numpy arrays (no copies at n = 10^6).
#include <optional>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "problems.hpp"

namespace py = pybind11;

namespace descent_python {

Eigen::Map<const Eigen::VectorXd> as_vector(const descent::problems::Problem& p, const ProblemArray& a,
                                            const char* what) {
  if (a.ndim() != 1 || a.shape(0) != p.dimension())
    throw py::value_error(std::string(what) + " must be a vector of length " + std::to_string(p.dimension()) +
                          " for " + std::string(p.name()));
  return Eigen::Map<const Eigen::VectorXd>(a.data(), a.shape(0));
}

}  // namespace descent_python

namespace {

using descent::Index;
using descent::problems::Problem;
using descent_python::as_vector;
using Array = descent_python::ProblemArray;
using Map = Eigen::Map<Eigen::VectorXd>;

Array new_vector(Index n) { return Array(py::ssize_t(n)); }

// (lower, upper) as two arrays, or None.
py::object as_tuple(const std::optional<descent::Bounds>& b, Index n) {
  if (!b) return py::none();
  Array lower = new_vector(n), upper = new_vector(n);
  Map(lower.mutable_data(), n) = b->lower;
  Map(upper.mutable_data(), n) = b->upper;
  return py::make_tuple(lower, upper);
}

}  // namespace

void def_problems(py::module_& m) {
  py::class_<Problem>(m, "Problem", py::module_local())
      .def_property_readonly("name", [](const Problem& p) { return std::string(p.name()); })
      .def_property_readonly("n", &Problem::dimension, "number of variables")
      .def_property_readonly("known_minimum", &Problem::known_minimum,
                             "the published minimum value f*, or None when unknown")
      .def_property_readonly("bounds", [](const Problem& p) { return as_tuple(p.bounds(), p.dimension()); },
                             "(lower, upper) of a bound-constrained problem (inf where a side is open), or None")
      .def_property_readonly("domain", [](const Problem& p) { return as_tuple(p.domain(), p.dimension()); },
                             "(lower, upper) of a multimodal test function's search domain (not a constraint), or None")
      .def_property_readonly("has_hessian", &Problem::has_hessian, "whether hess() is available (n <= 4096)")
      .def("start", [](const Problem& p) {
        Array out = new_vector(p.dimension());
        Map(out.mutable_data(), p.dimension()) = p.start();
        return out;
      }, "the standard starting point x0")
      .def("fun", [](const Problem& p, const Array& x) { return p.value(as_vector(p, x, "x")); }, py::arg("x"))
      .def("jac", [](const Problem& p, const Array& x) {
        Array g = new_vector(p.dimension());
        Map gm(g.mutable_data(), p.dimension());
        p.value_and_gradient(as_vector(p, x, "x"), gm);
        return g;
      }, py::arg("x"))
      .def("fun_and_jac", [](const Problem& p, const Array& x) {
        Array g = new_vector(p.dimension());
        Map gm(g.mutable_data(), p.dimension());
        const double f = p.value_and_gradient(as_vector(p, x, "x"), gm);
        return py::make_tuple(f, g);
      }, py::arg("x"), "(f(x), grad f(x)), for scipy's jac=True")
      .def("hess", [](const Problem& p, const Array& x) {
        if (!p.has_hessian())
          throw py::value_error("hess() forms a dense matrix only for n <= " +
                                std::to_string(Problem::kMaxDenseDimension));
        const Index n = p.dimension();
        py::array_t<double, py::array::f_style> h({py::ssize_t(n), py::ssize_t(n)});
        Eigen::Map<Eigen::MatrixXd> hm(h.mutable_data(), n, n);
        p.hessian(as_vector(p, x, "x"), hm);
        return h;
      }, py::arg("x"), "the dense Hessian (n x n)")
      .def("hessp", [](const Problem& p, const Array& x, const Array& v) {
        if (!p.has_hessian_vector())
          throw py::value_error("hessp() is not available for " + std::string(p.name()) + " at this n");
        Array out = new_vector(p.dimension());
        Map om(out.mutable_data(), p.dimension());
        p.hessian_vector(as_vector(p, x, "x"), as_vector(p, v, "p"), om);
        return out;
      }, py::arg("x"), py::arg("p"), "the Hessian-vector product H(x) p")
      .def("__repr__", [](const Problem& p) {
        return "<descent.problems.Problem " + std::string(p.name()) + " n=" + std::to_string(p.dimension()) + ">";
      });

  m.def("make", [](const std::string& name, std::optional<Index> dim) {
    return descent::problems::make_problem(name, {.dimension = dim});
  }, py::arg("name"), py::arg("dim") = py::none(),
        "build a problem by name; dim for the variably sized ones (default: the paper's)");
  m.def("make", [](const std::string& name, std::optional<Index> dim, double condition) {
    descent::problems::ProblemOptions o;
    o.dimension = dim;
    o.condition = condition;
    return descent::problems::make_problem(name, o);
  }, py::arg("name"), py::arg("dim") = py::none(), py::arg("condition") = 1e6,
        "build a problem by name; dim for the variably sized ones (default: the paper's); condition for "
        "ill_conditioned_quadratic");
  m.def("mgh_names", &descent::problems::mgh_problem_names, "the 35 Moré–Garbow–Hillstrom names, in the paper's order");
  m.def("bounded_names", &descent::problems::bounded_problem_names,
        "the bound-constrained problems (Hock–Schittkowski, then the MINPACK-2 grids)");
  m.def("multimodal_names", &descent::problems::multimodal_problem_names,
        "the multimodal test functions of global optimization (Ackley ... Michalewicz), each with a domain");
  m.def("names", [] {
    std::vector<std::string> names;
    for (const auto& info : descent::problems::problem_catalog()) names.push_back(info.name);
    return names;
  }, "every problem name");
  m.def("catalog", [] {
    py::list out;
    for (const auto& info : descent::problems::problem_catalog()) {
      py::dict d;
      d["name"] = info.name;
      d["description"] = info.description;
      d["default_dimension"] = info.default_dimension;
      d["variable_dimension"] = info.variable_dimension;
      d["mgh"] = info.in_mgh_set;
      d["bounded"] = info.bounded;
      d["multimodal"] = info.multimodal;
      out.append(d);
    }
    return out;
  }, "every problem with its description, default n, and whether n may vary");
}
