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
#include "problems.hpp"  // python/src: the Problem class, make() and the name lists
#include "descent/solvers/lbfgs.hpp"
#include "descent/solvers/lbfgsb.hpp"

namespace py = pybind11;

namespace {

using descent::Index;
using descent::problems::Problem;
using Array = descent_python::ProblemArray;
using descent_python::as_vector;
using Map = Eigen::Map<Eigen::VectorXd>;

Array new_vector(Index n) { return Array(py::ssize_t(n)); }

}  // namespace

PYBIND11_MODULE(descent_problems, m) {
  m.doc() = "descent's test problems (Moré–Garbow–Hillstrom, extended Rosenbrock, quadratics) for scipy";

  def_problems(m);
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
}
