// descent_problems: descent's test problems as a Python module, so that
// scipy.optimize minimizes exactly the functions descent does.
//
//   import descent_problems as dp
//   p = dp.make("extended_rosenbrock", dim=10**6)
//   scipy.optimize.minimize(p.fun_and_jac, p.start(), jac=True, method="L-BFGS-B")
//   t = dp.make("torsion", dim=10**6); lo, hi = t.bounds   # a bound-constrained one
//   dp.lbfgs(p, m=6, tol=1e-6)   # descent's L-BFGS on it, for side-by-side timing
//
// Arrays go in and out as float64 numpy arrays; inputs that are already
// float64 and contiguous are read in place, outputs are written straight into
// freshly allocated numpy arrays (no copies at n = 10^6).
#include <optional>
#include <string>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "descent/problems/problem.hpp"
#include "descent/solvers/lbfgs.hpp"
#include "descent/solvers/lbfgsb.hpp"

namespace py = pybind11;

namespace {

using descent::Index;
using descent::problems::Problem;
using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;
using ConstMap = Eigen::Map<const Eigen::VectorXd>;
using Map = Eigen::Map<Eigen::VectorXd>;

ConstMap as_vector(const Problem& p, const Array& a, const char* what) {
  if (a.ndim() != 1 || a.shape(0) != p.dimension())
    throw py::value_error(std::string(what) + " must be a vector of length " + std::to_string(p.dimension()) +
                          " for " + std::string(p.name()));
  return ConstMap(a.data(), a.shape(0));
}

Array new_vector(Index n) { return Array(py::ssize_t(n)); }

}  // namespace

PYBIND11_MODULE(descent_problems, m) {
  m.doc() = "descent's test problems (Moré–Garbow–Hillstrom, extended Rosenbrock, quadratics) for scipy";

  py::class_<Problem>(m, "Problem")
      .def_property_readonly("name", [](const Problem& p) { return std::string(p.name()); })
      .def_property_readonly("n", &Problem::dimension, "number of variables")
      .def_property_readonly("known_minimum", &Problem::known_minimum,
                             "the published minimum value f*, or None when unknown")
      .def_property_readonly("bounds", [](const Problem& p) -> py::object {
        const auto b = p.bounds();
        if (!b) return py::none();
        Array lower = new_vector(p.dimension()), upper = new_vector(p.dimension());
        Map(lower.mutable_data(), p.dimension()) = b->lower;
        Map(upper.mutable_data(), p.dimension()) = b->upper;
        return py::make_tuple(lower, upper);
      }, "(lower, upper) of a bound-constrained problem (inf where a side is open), or None")
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
        return "<descent_problems.Problem " + std::string(p.name()) + " n=" + std::to_string(p.dimension()) + ">";
      });

  m.def("make", [](const std::string& name, std::optional<Index> dim) {
    return descent::problems::make_problem(name, {.dimension = dim});
  }, py::arg("name"), py::arg("dim") = py::none(),
        "build a problem by name; dim for the variably sized ones (default: the paper's)");
  m.def("lbfgs", [](const Problem& p, Index memory, double tol, Index max_iterations) {
    descent::Vector<double> x = p.start();
    descent::Result<double> r;
    {
      py::gil_scoped_release unlocked;
      r = descent::lbfgs(p, x, descent::LbfgsOptions{.memory = memory, .line_search = {},
                                                     .stop = {.gradient_tolerance = tol,
                                                              .max_iterations = max_iterations}});
    }
    py::dict d;
    d["f"] = r.value;
    d["gradient_norm"] = r.gradient_norm;
    d["iterations"] = r.iterations;
    d["value_evaluations"] = r.value_evaluations;
    d["gradient_evaluations"] = r.gradient_evaluations;
    d["seconds"] = r.seconds;
    d["status"] = std::string(descent::to_string(r.status));
    d["converged"] = r.converged();
    d["message"] = r.message;
    return d;
  }, py::arg("problem"), py::arg("m") = 10, py::arg("tol") = 1e-6, py::arg("max_iter") = 10000,
        "descent's L-BFGS from the standard start (||g||_2 <= tol); a dict like Result, x left out");
  m.def("lbfgsb", [](const Problem& p, const Array& x0, const Array& lower, const Array& upper, Index memory,
                     double pgtol, double ftol, Index max_iterations) {
    descent::Vector<double> x = as_vector(p, x0, "x0");
    descent::Bounds bounds{as_vector(p, lower, "lower"), as_vector(p, upper, "upper")};
    descent::LbfgsbOptions o;
    o.memory = memory;
    o.stop.gradient_tolerance = pgtol;
    o.stop.value_tolerance = ftol;
    o.stop.max_iterations = max_iterations;
    descent::Result<double> r;
    {
      py::gil_scoped_release unlocked;
      r = descent::lbfgsb(p, x, bounds, o);
    }
    py::dict d;
    d["f"] = r.value;
    d["projected_gradient"] = r.gradient_norm;
    d["iterations"] = r.iterations;
    d["value_evaluations"] = r.value_evaluations;
    d["seconds"] = r.seconds;
    d["status"] = std::string(descent::to_string(r.status));
    d["converged"] = r.converged();
    d["message"] = r.message;
    d["active"] = r.active_lower.size() + r.active_upper.size();
    return d;
  }, py::arg("problem"), py::arg("x0"), py::arg("lower"), py::arg("upper"), py::arg("m") = 10,
        py::arg("pgtol") = 1e-5, py::arg("ftol") = 2.220446049250313e-09, py::arg("max_iter") = 15000,
        "descent's L-BFGS-B with scipy's stopping rules (pgtol on ||P(x-g)-x||_inf, ftol on the relative "
        "reduction); a dict like Result, x left out");
  m.def("mgh_names", &descent::problems::mgh_problem_names, "the 35 Moré–Garbow–Hillstrom names, in the paper's order");
  m.def("bounded_names", &descent::problems::bounded_problem_names,
        "the bound-constrained problems (Hock–Schittkowski, then the MINPACK-2 grids)");
  m.def("names", [] {
    std::vector<std::string> names;
    for (const auto& info : descent::problems::problem_catalog()) names.push_back(info.name);
    return names;
  }, "every problem name");
}
