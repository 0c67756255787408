// descent._core: the compiled half of the descent Python package.
//
// It runs descent's full-batch solvers on an objective written in Python
// (descent/_minimize.py gives it scipy.optimize.minimize's signature). The
// GIL is released while descent's own code runs and taken back for each
// call into Python; an exception raised by the user's function ends the
// solve and reaches the caller unchanged, traceback included; Ctrl-C ends
// it at the next iteration with the last accepted point.
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "descent/core/any_objective.hpp"
#include "descent/solvers/minimize.hpp"
#include "descent/solvers/multistart.hpp"
#include "optim.hpp"
#include "problems.hpp"
#include "train.hpp"

namespace py = pybind11;

namespace {

using descent::ConstVectorRef;
using descent::Index;
using descent::MatrixRef;
using descent::Vector;
using descent::VectorRef;

template <class T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

// How the gradient is had: returned with the value (jac=True), from its
// own callable (jac=callable), or by forward differences (jac=None).
enum class JacMode { with_value, separate, differences };

template <class T>
Array<T> to_array(ConstVectorRef<T> x) {
  Array<T> a(py::ssize_t(x.size()));
  std::copy(x.data(), x.data() + x.size(), a.mutable_data());
  return a;
}

// A vector the user's function returned, checked for shape.
template <class T>
void read_vector(const py::handle& obj, Index n, T* out, const char* what) {
  const Array<T> a = py::cast<Array<T>>(obj);
  if (a.size() != py::ssize_t(n) || (a.ndim() != 1 && !(a.ndim() == 2 && (a.shape(0) == 1 || a.shape(1) == 1))))
    throw py::value_error(std::string(what) + " returned an array of " + std::to_string(a.size()) +
                          " values for x of length " + std::to_string(n));
  std::copy(a.data(), a.data() + n, out);
}

double read_scalar(const py::handle& obj) {
  try {
    return double(py::float_(py::reinterpret_borrow<py::object>(obj)));
  } catch (py::error_already_set&) {
    throw py::type_error("the objective must return a real number (or a size-1 array); got " +
                         std::string(py::str(py::type::of(obj))));
  }
}

// The objective: calls into Python with the GIL held, counts the calls as
// scipy does (nfev: calls of fun, njev: of jac, nhev: of hess or hessp),
// and keeps the last point with its value and gradient, so that the
// result's jac needs no extra call.
template <class T>
class PyObjective {
 public:
  PyObjective(py::object fun, py::object jac, py::object hess, py::object hessp, py::tuple args, JacMode mode,
              double fd_step, bool fd_relative)
      : fun_(std::move(fun)), jac_(std::move(jac)), hess_(std::move(hess)), hessp_(std::move(hessp)),
        args_(std::move(args)), mode_(mode), fd_step_(fd_step), fd_relative_(fd_relative) {}

  // After Ctrl-C every evaluation is NaN, without a call into Python: the
  // solver then ends at once with its last accepted point.
  T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) {
    py::gil_scoped_acquire gil;
    if (stopping()) return interrupted_value(g);
    try {
      const T f = evaluate(x, g);
      remember(x, g);
      return f;
    } catch (py::error_already_set& e) {
      if (!e.matches(PyExc_KeyboardInterrupt)) throw;
      interrupted = true;
      return interrupted_value(g);
    }
  }

  T value(ConstVectorRef<T> x) {
    if (mode_ == JacMode::with_value) {
      scratch_.resize(x.size());
      return value_and_gradient(x, scratch_);
    }
    py::gil_scoped_acquire gil;
    if (stopping()) return std::numeric_limits<T>::quiet_NaN();
    try {
      const T f = T(read_scalar(call(fun_, x)));
      ++nfev;
      return f;
    } catch (py::error_already_set& e) {
      if (!e.matches(PyExc_KeyboardInterrupt)) throw;
      interrupted = true;
      return std::numeric_limits<T>::quiet_NaN();
    }
  }

  bool has_hessian() const { return !hess_.is_none(); }
  void hessian(ConstVectorRef<T> x, MatrixRef<T> h) {
    py::gil_scoped_acquire gil;
    const Array<T> a = hess_matrix(x);
    for (Index i = 0; i < x.size(); ++i)
      for (Index j = 0; j < x.size(); ++j) h(i, j) = a.at(i, j);
  }

  bool has_hessian_vector() const { return !hessp_.is_none() || !hess_.is_none(); }
  void hessian_vector(ConstVectorRef<T> x, ConstVectorRef<T> v, VectorRef<T> out) {
    py::gil_scoped_acquire gil;
    if (hessp_.is_none()) {
      const Array<T> a = hess_matrix(x);
      for (Index i = 0; i < x.size(); ++i) {
        T acc = 0;
        for (Index j = 0; j < x.size(); ++j) acc += a.at(i, j) * v[j];
        out[i] = acc;
      }
      return;
    }
    py::tuple full(2 + args_.size());
    full[0] = to_array<T>(x);
    full[1] = to_array<T>(v);
    for (std::size_t i = 0; i < args_.size(); ++i) full[i + 2] = args_[i];
    read_vector<T>(hessp_(*full), x.size(), out.data(), "hessp");
    ++nhev;
  }

  // The gradient at x if x was the last point evaluated, else None.
  py::object last_gradient(ConstVectorRef<T> x) const {
    if (last_x_.size() != x.size() || last_x_ != x) return py::none();
    return to_array<T>(last_g_);
  }

  Index nfev = 0, njev = 0, nhev = 0;
  bool interrupted = false;  // Ctrl-C arrived (while Python or descent ran): the solve ends

 private:
  // hess(x, *args), checked to be n x n.
  Array<T> hess_matrix(ConstVectorRef<T> x) {
    Array<T> a = py::cast<Array<T>>(call(hess_, x));
    ++nhev;
    const Index n = x.size();
    if (a.ndim() != 2 || a.shape(0) != n || a.shape(1) != n)
      throw py::value_error("hess must return an n x n array for x of length " + std::to_string(n));
    return a;
  }

  T evaluate(ConstVectorRef<T> x, VectorRef<T> g) {
    const Index n = x.size();
    if (mode_ == JacMode::with_value) {
      const py::object r = call(fun_, x);
      ++nfev;
      ++njev;
      const py::tuple pair = py::isinstance<py::tuple>(r) || py::isinstance<py::list>(r) ? py::tuple(r) : py::tuple();
      if (pair.size() != 2)
        throw py::type_error("with jac=True the objective must return (f, gradient); got " +
                             std::string(py::str(py::type::of(r))));
      read_vector<T>(pair[1], n, g.data(), "the objective's gradient");
      return T(read_scalar(pair[0]));
    }
    const T f = T(read_scalar(call(fun_, x)));
    ++nfev;
    if (mode_ == JacMode::separate) {
      read_vector<T>(call(jac_, x), n, g.data(), "jac");
      ++njev;
    } else {
      differences(x, f, g);
    }
    return f;
  }

  bool stopping() {
    check_signals();
    return interrupted;
  }
  T interrupted_value(VectorRef<T> g) {
    g.setConstant(std::numeric_limits<T>::quiet_NaN());
    return std::numeric_limits<T>::quiet_NaN();
  }

  py::object call(const py::object& f, ConstVectorRef<T> x) {
    py::tuple full(1 + args_.size());
    full[0] = to_array<T>(x);
    for (std::size_t i = 0; i < args_.size(); ++i) full[i + 1] = args_[i];
    return f(*full);
  }

  // A pending KeyboardInterrupt is taken as a request to stop; any other
  // error raised by a signal handler propagates.
  void check_signals() {
    if (PyErr_CheckSignals() == 0) return;
    if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
      PyErr_Clear();
      interrupted = true;
      return;
    }
    throw py::error_already_set();
  }

  // Forward differences, as scipy's '2-point' scheme: h_i = step *
  // max(1, |x_i|) with the sign of x_i, step = sqrt(eps) unless given; an
  // absolute step (scipy's `eps` option) is used as it is.
  void differences(ConstVectorRef<T> x, T f, VectorRef<T> g) {
    const Index n = x.size();
    const double step = fd_step_ > 0 ? fd_step_ : std::sqrt(double(std::numeric_limits<T>::epsilon()));
    Vector<T> xp = x;
    T* p = xp.data();
    py::tuple full(1 + args_.size());
    for (std::size_t i = 0; i < args_.size(); ++i) full[i + 1] = args_[i];
    for (Index i = 0; i < n; ++i) {
      const T xi = x[i];
      T h = T(fd_relative_ ? step * std::max(1.0, std::abs(double(xi))) : step);
      if (xi < T(0)) h = -h;
      p[i] = xi + h;
      h = p[i] - xi;  // the step actually taken, after rounding
      // A fresh array per call: the function may keep what it is given.
      full[0] = to_array<T>(xp);
      const T fi = T(read_scalar(fun_(*full)));
      ++nfev;
      g[i] = (fi - f) / h;
      p[i] = xi;
    }
  }

  void remember(ConstVectorRef<T> x, ConstVectorRef<T> g) {
    last_x_ = x;
    last_g_ = g;
  }

  py::object fun_, jac_, hess_, hessp_;
  py::tuple args_;
  JacMode mode_;
  double fd_step_;
  bool fd_relative_;
  Vector<T> scratch_, last_x_, last_g_;
};

// Per iteration: the user's callback(xk, f) (StopIteration, or a true return,
// stops the run as converged) and the stop after Ctrl-C. `interrupted` is the
// objective's flag; with poll_signals the callback itself looks for Ctrl-C
// (for objectives that never enter Python).
template <class T>
class PyCallback final : public descent::Callback<T> {
 public:
  PyCallback(py::object user, bool& interrupted, bool poll_signals)
      : user_(std::move(user)), interrupted_(interrupted), poll_(poll_signals) {}

  descent::Control on_iteration(const descent::IterationReport<T>& r) override {
    if (interrupted_) return descent::Control::stop_failed;
    if (poll_) {
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) {
        if (!PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) throw py::error_already_set();
        PyErr_Clear();
        interrupted_ = true;
        return descent::Control::stop_failed;
      }
    }
    if (user_.is_none() || r.iteration == 0) return descent::Control::proceed;
    py::gil_scoped_acquire gil;
    try {
      const py::object answer = user_(to_array<T>(*r.x), double(r.value));
      if (!answer.is_none() && py::bool_(answer)) {
        stopped = true;
        return descent::Control::stop_converged;
      }
    } catch (py::error_already_set& e) {
      if (e.matches(PyExc_KeyboardInterrupt)) {  // Ctrl-C while the callback ran
        interrupted_ = true;
        return descent::Control::stop_failed;
      }
      if (!e.matches(PyExc_StopIteration)) throw;
      stopped = true;
      return descent::Control::stop_converged;
    }
    return descent::Control::proceed;
  }

  bool stopped = false;

 private:
  py::object user_;
  bool& interrupted_;
  bool poll_;
};

// A C++ test problem as the objective: nothing enters Python; counted as
// PyObjective counts.
class ProblemObjective {
 public:
  explicit ProblemObjective(const descent::problems::Problem& p) : p_(p) {}
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) {
    ++nfev;
    ++njev;
    return p_.value_and_gradient(x, g);
  }
  double value(ConstVectorRef<double> x) {
    ++nfev;
    return p_.value(x);
  }
  bool has_hessian() const { return p_.has_hessian(); }
  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) {
    ++nhev;
    p_.hessian(x, h);
  }
  bool has_hessian_vector() const { return p_.has_hessian_vector(); }
  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v, VectorRef<double> out) {
    ++nhev;
    p_.hessian_vector(x, v, out);
  }
  py::object last_gradient(ConstVectorRef<double>) const { return py::none(); }

  Index nfev = 0, njev = 0, nhev = 0;
  bool interrupted = false;

 private:
  const descent::problems::Problem& p_;
};

using PyBounds = std::optional<std::pair<Array<double>, Array<double>>>;

// (lower, upper) pairs as Bounds for x0 of n elements, or none.
std::optional<descent::Bounds> box_of(const PyBounds& domain, Index n) {
  if (!domain) return std::nullopt;
  const auto& [lo, hi] = *domain;
  if (lo.size() != py::ssize_t(n) || hi.size() != py::ssize_t(n))
    throw py::value_error("bounds has " + std::to_string(lo.size()) + " pairs for x0 of length " + std::to_string(n));
  descent::Bounds box;
  box.lower = Eigen::Map<const Eigen::VectorXd>(lo.data(), n);
  box.upper = Eigen::Map<const Eigen::VectorXd>(hi.data(), n);
  return box;
}

// Runs the solver on objective f from x0 and returns the result fields.
template <class T, class Objective>
py::dict solve(Objective& f, bool poll_signals, const Array<T>& x0, const std::string& method_name,
               const PyBounds& bounds, std::optional<Index> maxiter, std::optional<double> gtol,
               std::optional<double> ftol, std::optional<Index> memory, std::optional<Index> maxfun,
               std::optional<double> initial_radius, std::optional<std::string> trust_scaling,
               bool escape_saddles, py::object callback) {
  const std::optional<descent::Method> method = descent::parse_method(method_name);
  if (!method) throw py::value_error("unknown method '" + method_name + "'; descent's are " + descent::method_names());
  const Index n = Index(x0.size());
  if (n == 0) throw py::value_error("x0 must have at least one element");

  descent::MinimizeOptions o;
  if (maxiter) o.stop.max_iterations = *maxiter;
  if (gtol) o.stop.gradient_tolerance = *gtol;
  if (ftol) o.stop.value_tolerance = *ftol;
  if (maxfun) o.stop.max_evaluations = *maxfun;
  if (memory) o.memory = *memory;
  if (initial_radius) {
    if (!(*initial_radius > 0) || !std::isfinite(*initial_radius))
      throw py::value_error("initial_trust_radius must be a positive number; got " + std::to_string(*initial_radius));
    o.initial_radius = *initial_radius;
  }
  if (trust_scaling) {
    const auto s = descent::parse_trust_region_scaling(*trust_scaling);
    if (!s)
      throw py::value_error("trust_scaling must be 'none', 'diagonal' or 'when-stalled'; got '" + *trust_scaling +
                            "'");
    o.trust_scaling = *s;
  }
  o.escape_saddles = escape_saddles;
  o.bounds = box_of(bounds, n);

  PyCallback<T> cb(std::move(callback), f.interrupted, poll_signals);
  Array<T> x = Array<T>(py::ssize_t(n));
  std::copy(x0.data(), x0.data() + n, x.mutable_data());
  Eigen::Map<Vector<T>> xmap(x.mutable_data(), n);
  descent::Result<T> r;
  {
    auto erased = descent::AnyObjective<T>::reference(f);
    py::gil_scoped_release release;
    try {
      r = descent::minimize(erased, VectorRef<T>(xmap), *method, o, &cb);
    } catch (const descent::invalid_argument& e) {
      throw std::invalid_argument(e.what());  // ValueError in Python
    }
  }

  py::dict out;
  out["x"] = x;
  out["fun"] = double(r.value);
  py::object jac_out = f.last_gradient(xmap);
  if (jac_out.is_none() && !f.interrupted) {
    Vector<T> gv(n);
    auto erased = descent::AnyObjective<T>::reference(f);
    const Index nfev = f.nfev, njev = f.njev;
    erased.value_and_gradient(xmap, gv);
    f.nfev = nfev;  // the result's jac is not the solver's evaluation
    f.njev = njev;
    jac_out = to_array<T>(gv);
  }
  out["jac"] = jac_out;
  out["nit"] = r.iterations;
  out["nfev"] = f.nfev;
  out["njev"] = f.njev;
  out["nhev"] = f.nhev;
  out["status_name"] = std::string(descent::to_string(f.interrupted ? descent::Status::interrupted : r.status));
  out["success"] = !f.interrupted && (r.converged() || cb.stopped);
  out["message"] = f.interrupted ? "interrupted (KeyboardInterrupt) after iteration " + std::to_string(r.iterations) +
                                       "; x is the last accepted point"
                                 : r.message;
  out["active_lower"] = r.active_lower;
  out["active_upper"] = r.active_upper;
  out["method"] = std::string(descent::to_string(*method));
  return out;
}

template <class T>
py::dict run(py::object fun, py::object jac, py::object hess, py::object hessp, py::tuple args, JacMode mode,
             const Array<T>& x0, const std::string& method_name, const PyBounds& bounds,
             std::optional<Index> maxiter, std::optional<double> gtol, std::optional<double> ftol,
             std::optional<Index> memory, std::optional<Index> maxfun, std::optional<double> initial_radius,
             std::optional<std::string> trust_scaling, bool escape_saddles, double fd_step, bool fd_relative,
             py::object callback) {
  PyObjective<T> f(std::move(fun), std::move(jac), std::move(hess), std::move(hessp), std::move(args), mode, fd_step,
                   fd_relative);
  return solve<T>(f, false, x0, method_name, bounds, maxiter, gtol, ftol, memory, maxfun, initial_radius,
                  std::move(trust_scaling), escape_saddles, std::move(callback));
}

py::dict run_problem(const descent::problems::Problem& problem, const Array<double>& x0,
                     const std::string& method_name, const PyBounds& bounds, std::optional<Index> maxiter,
                     std::optional<double> gtol, std::optional<double> ftol, std::optional<Index> memory,
                     std::optional<Index> maxfun, std::optional<double> initial_radius,
                     std::optional<std::string> trust_scaling, bool escape_saddles, py::object callback) {
  if (Index(x0.size()) != problem.dimension())
    throw py::value_error("x0 has " + std::to_string(x0.size()) + " elements; " + std::string(problem.name()) +
                          " has " + std::to_string(problem.dimension()) + " variables");
  ProblemObjective f(problem);
  return solve<double>(f, true, x0, method_name, bounds, maxiter, gtol, ftol, memory, maxfun, initial_radius,
                       std::move(trust_scaling), escape_saddles, std::move(callback));
}

// The global searches' local solve from Python: a call of `local`
// (descent.minimize) returning (x, fun, nit, njev, success, message). A
// Python error stops the calls; raise_pending() raises it once the search
// has returned.
class PyLocalSolve {
 public:
  PyLocalSolve(py::function local, Index n) : local_(std::move(local)), n_(n) {}

  descent::Result<double> operator()(Vector<double>& x, int) {
    descent::Result<double> r;
    r.value = NAN;
    r.x = x;
    if (error_) return r;
    try {
      const py::tuple out = local_(to_array<double>(x));
      const auto xs = out[0].cast<Array<double>>();
      if (xs.size() != py::ssize_t(n_)) throw py::value_error("the local solve returned x of another length");
      r.x = Eigen::Map<const Eigen::VectorXd>(xs.data(), n_);
      r.value = out[1].cast<double>();
      r.iterations = out[2].cast<Index>();
      r.gradient_evaluations = out[3].cast<Index>();
      r.status = out[4].cast<bool>() ? descent::Status::converged_gradient : descent::Status::max_iterations;
      r.message = out[5].cast<std::string>();
    } catch (py::error_already_set& e) {
      error_ = std::move(e);
      r.value = NAN;
    }
    return r;
  }
  void raise_pending() {
    if (error_) throw std::move(*error_);
  }

 private:
  py::function local_;
  Index n_;
  std::optional<py::error_already_set> error_;
};

// Runs `search` (basin hopping or multistart) with the Python local solve
// and returns the result's fields.
template <class Search>
py::dict global_search(py::function local, const Array<double>& x0, const PyBounds& domain, const Search& search) {
  const Index n = Index(x0.size());
  if (n == 0) throw py::value_error("x0 must have at least one element");
  const std::optional<descent::Bounds> box = box_of(domain, n);
  PyLocalSolve py_local(std::move(local), n);
  const descent::LocalSolve solve = [&](Vector<double>& x, int thread) { return py_local(x, thread); };
  descent::GlobalResult g;
  try {
    g = search(solve, Vector<double>(Eigen::Map<const Eigen::VectorXd>(x0.data(), n)), box);
  } catch (const descent::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  py_local.raise_pending();
  py::dict out;
  out["x"] = to_array<double>(g.best.x);
  out["fun"] = double(g.best.value);
  out["found"] = g.best.status != descent::Status::diverged;
  out["message"] = g.best.message;
  out["local_solves"] = g.starts;
  out["accepted"] = g.accepted;
  out["failed"] = g.failed;
  out["outside"] = g.outside;
  out["final_step"] = g.final_step;
  py::list minima;
  for (const auto& lm : g.minima) {
    py::dict d;
    d["x"] = to_array<double>(lm.x);
    d["fun"] = lm.value;
    d["count"] = lm.count;
    minima.append(d);
  }
  out["minima"] = minima;
  return out;
}

// descent.basinhopping: the C++ chain around descent.minimize.
py::dict basin_hopping(py::function local, const Array<double>& x0, const PyBounds& domain, Index hops,
                       double temperature, double step, Index interval, double target, double factor,
                       std::uint64_t seed) {
  const descent::BasinHoppingOptions o{.hops = hops,
                                       .temperature = temperature,
                                       .step = step,
                                       .interval = interval,
                                       .target_acceptance = target,
                                       .factor = factor,
                                       .seed = seed};
  return global_search(std::move(local), x0, domain, [&](const auto& solve, const auto& x, const auto& box) {
    return descent::basin_hopping(solve, x, box, o);
  });
}

// descent.multistart: the C++ starts and merging around descent.minimize,
// on the calling thread (the local solves call into Python).
py::dict multistart(py::function local, const Array<double>& x0, const PyBounds& domain, Index starts,
                    double perturbation, double merge_tolerance, std::uint64_t seed) {
  const descent::MultistartOptions o{
      .starts = starts, .seed = seed, .perturbation = perturbation, .merge_tolerance = merge_tolerance, .threads = 1};
  return global_search(std::move(local), x0, domain, [&](const auto& solve, const auto& x, const auto& box) {
    return descent::multistart(solve, x, box, o);
  });
}

template <class T>
void def_minimize(py::module_& m, const char* name) {
  m.def(name, &run<T>, py::arg("fun"), py::arg("jac"), py::arg("hess"), py::arg("hessp"), py::arg("args"),
        py::arg("mode"), py::arg("x0"), py::arg("method"), py::arg("bounds"), py::arg("maxiter"), py::arg("gtol"),
        py::arg("ftol"), py::arg("memory"), py::arg("maxfun"), py::arg("initial_radius"), py::arg("trust_scaling"),
        py::arg("escape_saddles"), py::arg("fd_step"), py::arg("fd_relative"), py::arg("callback"));
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "descent's solvers and steppers (use descent.minimize, descent.optim, descent.torch)";
  py::enum_<JacMode>(m, "JacMode")
      .value("with_value", JacMode::with_value)
      .value("separate", JacMode::separate)
      .value("differences", JacMode::differences);
  m.def("methods", [] {
    py::list names;
    for (const descent::Method method : descent::all_methods()) names.append(std::string(descent::to_string(method)));
    return names;
  });
  m.def("accepts_bounds", [](const std::string& name) {
    const auto method = descent::parse_method(name);
    return method && descent::accepts_bounds(*method);
  });
  def_minimize<double>(m, "minimize_f64");
  def_minimize<float>(m, "minimize_f32");
  m.def("minimize_problem", &run_problem, py::arg("problem"), py::arg("x0"), py::arg("method"), py::arg("bounds"),
        py::arg("maxiter"), py::arg("gtol"), py::arg("ftol"), py::arg("memory"), py::arg("maxfun"),
        py::arg("initial_radius"), py::arg("trust_scaling"), py::arg("escape_saddles"), py::arg("callback"));
  m.def("basin_hopping", &basin_hopping, py::arg("local"), py::arg("x0"), py::arg("domain"), py::arg("hops"),
        py::arg("temperature"), py::arg("step"), py::arg("interval"), py::arg("target"), py::arg("factor"),
        py::arg("seed"));
  m.def("multistart", &multistart, py::arg("local"), py::arg("x0"), py::arg("domain"), py::arg("starts"),
        py::arg("perturbation"), py::arg("merge_tolerance"), py::arg("seed"));
  auto problems = m.def_submodule("problems", "descent's test problems, in C++");
  def_problems(problems);
  def_train(m);
  def_optim(m);
  m.attr("version") = DESCENT_VERSION_STRING;
}
