// descent._core's steppers and schedules, for descent.optim and descent.torch.
//
// A Stepper here is one C++ stepper over the parameters of one parameter
// group: each array is a segment of the stepper's Layout (a 2-D or higher
// array a matrix segment, rows = its first dimension), so shape-aware
// methods (Adafactor, Muon) see the matrices they expect. step() updates the
// arrays in place:
//   - when the arrays are consecutive pieces of one buffer (descent.torch
//     arranges that, and descent.optim.flat_buffer hands them out), the
//     stepper runs one fused pass over that buffer, with no copy;
//   - otherwise the values are gathered into a scratch vector, stepped and
//     written back: two extra passes, no allocation after the first step.
// The GIL is released for the pass and the copies.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "descent/optim/factory.hpp"
#include "descent/optim/schedule.hpp"
#include "optim.hpp"

namespace py = pybind11;

namespace {

using descent::Index;
using descent::Vector;

template <class T>
const char* dtype_name() {
  return sizeof(T) == 4 ? "float32" : "float64";
}

// The data of params[i], which is updated in place: it must be a writable,
// C-contiguous array of exactly the stepper's dtype (a copy would leave the
// caller's array unchanged).
template <class T>
T* parameter_data(const py::handle& h, std::size_t i) {
  const std::string where = "params[" + std::to_string(i) + "]";
  if (!py::isinstance<py::array>(h))
    throw py::type_error(where + " is a " + std::string(py::str(py::type::of(h).attr("__name__"))) +
                         ", not a numpy array; parameters are updated in place, so they must be arrays");
  auto a = py::reinterpret_borrow<py::array>(h);
  if (!a.dtype().is(py::dtype::of<T>()))
    throw py::type_error(where + " has dtype " + std::string(py::str(a.dtype())) + "; this optimizer updates " +
                         dtype_name<T>() + " arrays (every parameter of a group has one dtype)");
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(where + " is not C-contiguous; pass np.ascontiguousarray(p) and keep that array");
  if (!a.writeable()) throw py::value_error(where + " is read-only");
  return static_cast<T*>(a.mutable_data());
}

// Whether pieces of these sizes at these addresses follow each other in
// memory, so that they form one contiguous vector from pointers[0].
template <class P>
bool consecutive(const std::vector<P*>& pointers, const std::vector<Index>& sizes) {
  for (std::size_t i = 1; i < pointers.size(); ++i)
    if (pointers[i - 1] + sizes[i - 1] != pointers[i]) return false;
  return true;
}

// Reads StateVisitor's pieces into a dict (save) or checks and writes them
// from one (load).
template <class T>
class DictSaver final : public descent::optim::StateVisitor<T> {
 public:
  py::dict out;
  void vector(std::string_view name, Vector<T>& v) override {
    py::array_t<T> a(py::ssize_t(v.size()));
    std::copy(v.data(), v.data() + v.size(), a.mutable_data());
    out[py::str(std::string(name))] = a;
  }
  void scalar(std::string_view name, double& s) override { out[py::str(std::string(name))] = s; }
  void counter(std::string_view name, std::int64_t& c) override { out[py::str(std::string(name))] = c; }
};

template <class T>
class DictLoader final : public descent::optim::StateVisitor<T> {
 public:
  DictLoader(const py::dict& in, bool write) : in_(in), write_(write) {}
  void vector(std::string_view name, Vector<T>& v) override {
    const auto a = py::cast<py::array_t<T, py::array::c_style | py::array::forcecast>>(get(name));
    if (a.size() != py::ssize_t(v.size()))
      throw py::value_error("state '" + std::string(name) + "' has " + std::to_string(a.size()) +
                            " values; this optimizer's has " + std::to_string(v.size()));
    if (write_) std::copy(a.data(), a.data() + a.size(), v.data());
  }
  void scalar(std::string_view name, double& s) override {
    const double value = py::cast<double>(get(name));
    if (write_) s = value;
  }
  void counter(std::string_view name, std::int64_t& c) override {
    const auto value = py::cast<std::int64_t>(get(name));
    if (value < 0) throw py::value_error("state '" + std::string(name) + "' is negative");
    if (write_) c = value;
  }

 private:
  py::object get(std::string_view name) const {
    const py::str key{std::string(name)};
    if (!in_.contains(key)) throw py::key_error("the state has no '" + std::string(name) + "'");
    return in_[key];
  }
  const py::dict& in_;
  bool write_;
};

template <class T>
class PyStepper {
 public:
  PyStepper(const std::string& method, const py::sequence& params, const std::map<std::string, double>& hp,
            double clip_norm, double clip_value, double l1) {
    descent::Layout layout;
    for (std::size_t i = 0; i < params.size(); ++i) {
      const py::handle p = params[i];
      parameter_data<T>(p, i);
      const auto a = py::reinterpret_borrow<py::array>(p);
      const Index size = Index(a.size());
      if (a.ndim() >= 2 && size > 0)
        layout.add("p" + std::to_string(i), Index(a.shape(0)), size / Index(a.shape(0)));
      else
        layout.add("p" + std::to_string(i), size);
      sizes_.push_back(size);
    }
    if (sizes_.empty()) throw py::value_error("the optimizer got an empty list of parameters");
    n_ = layout.size();
    if (n_ == 0) throw py::value_error("the parameters have no elements");

    std::vector<T*> x;
    for (std::size_t i = 0; i < params.size(); ++i) x.push_back(parameter_data<T>(params[i], i));
    Vector<T> x0(n_);
    gather(x, x0.data());

    descent::optim::Regularization reg;
    reg.clip_norm = clip_norm;
    reg.clip_value = clip_value;
    reg.l1 = l1;
    descent::optim::Hyperparameters given(hp.begin(), hp.end());
    stepper_ = descent::optim::make_stepper<T>(method, layout, x0, given, reg, &resolved_);
  }

  void step(const py::sequence& params, const py::sequence& grads, double lr) {
    const std::size_t k = sizes_.size();
    if (params.size() != k || grads.size() != k)
      throw py::value_error("step got " + std::to_string(params.size()) + " parameters and " +
                            std::to_string(grads.size()) + " gradients; the optimizer was made for " +
                            std::to_string(k));
    std::vector<T*> x(k);
    std::vector<const T*> g(k);
    std::vector<py::object> keep(k);  // converted gradients live until the step is done
    for (std::size_t i = 0; i < k; ++i) {
      x[i] = parameter_data<T>(params[i], i);
      const py::handle gh = grads[i];
      const auto ga = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(gh);
      if (!ga) throw py::type_error("grads[" + std::to_string(i) + "] is not an array of numbers");
      const Index xs = Index(py::reinterpret_borrow<py::array>(params[i]).size());
      if (xs != sizes_[i] || Index(ga.size()) != sizes_[i])
        throw py::value_error("params[" + std::to_string(i) + "] has " + std::to_string(xs) + " elements and grads[" +
                              std::to_string(i) + "] " + std::to_string(ga.size()) + "; the optimizer was made for " +
                              std::to_string(sizes_[i]));
      g[i] = ga.data();
      keep[i] = ga;
    }
    const bool direct_x = consecutive(x, sizes_);
    const bool direct_g = consecutive(g, sizes_);
    py::gil_scoped_release release;
    T* xp = x[0];
    const T* gp = g[0];
    if (!direct_x) {
      scratch_x_.resize(n_);
      gather(x, scratch_x_.data());
      xp = scratch_x_.data();
    }
    if (!direct_g) {
      scratch_g_.resize(n_);
      gather(g, scratch_g_.data());
      gp = scratch_g_.data();
    }
    Eigen::Map<Vector<T>> xm(xp, n_);
    Eigen::Map<const Vector<T>> gm(gp, n_);
    stepper_->step(xm, gm, T(lr));
    if (!direct_x) scatter(scratch_x_.data(), x);
  }

  // The point to evaluate or save the model at, as arrays shaped like params
  // (the averaged iterate for the schedule-free methods, params otherwise).
  py::list evaluation_point(const py::sequence& params) const {
    std::vector<T*> x;
    for (std::size_t i = 0; i < params.size(); ++i) x.push_back(parameter_data<T>(params[i], i));
    if (x.size() != sizes_.size()) throw py::value_error("evaluation_point got the wrong number of parameters");
    Vector<T> in(n_), out(n_);
    gather(x, in.data());
    stepper_->evaluation_point(in, out);
    py::list result;
    Index offset = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const auto p = py::reinterpret_borrow<py::array>(params[i]);
      py::array_t<T> a(std::vector<py::ssize_t>(p.shape(), p.shape() + p.ndim()));
      std::copy(out.data() + offset, out.data() + offset + sizes_[i], a.mutable_data());
      offset += sizes_[i];
      result.append(a);
    }
    return result;
  }

  py::dict state() {
    DictSaver<T> saver;
    stepper_->visit_state(saver);
    return saver.out;
  }

  // All or nothing: every piece is checked before any is written.
  void load_state(const py::dict& in) {
    DictLoader<T> check(in, false);
    stepper_->visit_state(check);
    DictLoader<T> load(in, true);
    stepper_->visit_state(load);
  }

  std::string name() const { return stepper_->name(); }
  std::int64_t steps() const { return stepper_->steps(); }
  Index size() const { return n_; }
  std::map<std::string, double> hyperparameters() const { return {resolved_.begin(), resolved_.end()}; }
  double state_bytes_per_parameter() const { return stepper_->state_bytes_per_parameter(); }

 private:
  template <class P>
  void gather(const std::vector<P*>& pieces, T* out) const {
    Index offset = 0;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      std::memcpy(out + offset, pieces[i], std::size_t(sizes_[i]) * sizeof(T));
      offset += sizes_[i];
    }
  }
  void scatter(const T* in, const std::vector<T*>& pieces) const {
    Index offset = 0;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      std::memcpy(pieces[i], in + offset, std::size_t(sizes_[i]) * sizeof(T));
      offset += sizes_[i];
    }
  }

  std::unique_ptr<descent::optim::Stepper<T>> stepper_;
  descent::optim::Hyperparameters resolved_;
  std::vector<Index> sizes_;
  Index n_ = 0;
  Vector<T> scratch_x_, scratch_g_;
};

template <class T>
void def_stepper(py::module_& m, const char* name) {
  py::class_<PyStepper<T>>(m, name)
      .def(py::init<const std::string&, const py::sequence&, const std::map<std::string, double>&, double, double,
                    double>(),
           py::arg("method"), py::arg("params"), py::arg("hyperparameters"), py::arg("clip_norm") = 0.0,
           py::arg("clip_value") = 0.0, py::arg("l1") = 0.0)
      .def("step", &PyStepper<T>::step, py::arg("params"), py::arg("grads"), py::arg("lr"))
      .def("evaluation_point", &PyStepper<T>::evaluation_point, py::arg("params"))
      .def("state", &PyStepper<T>::state)
      .def("load_state", &PyStepper<T>::load_state, py::arg("state"))
      .def_property_readonly("name", &PyStepper<T>::name)
      .def_property_readonly("steps", &PyStepper<T>::steps)
      .def_property_readonly("size", &PyStepper<T>::size)
      .def_property_readonly("hyperparameters", &PyStepper<T>::hyperparameters)
      .def_property_readonly("state_bytes_per_parameter", &PyStepper<T>::state_bytes_per_parameter);
}

}  // namespace

void def_optim(py::module_& m) {
  using descent::optim::Schedule;
  def_stepper<double>(m, "Stepper_f64");
  def_stepper<float>(m, "Stepper_f32");
  m.def("stepper_names", [] { return descent::optim::stepper_names(); });

  py::class_<Schedule>(m, "Schedule")
      .def_static("constant", &Schedule::constant)
      .def_static("step", &Schedule::step, py::arg("step_size"), py::arg("gamma"))
      .def_static("multistep", &Schedule::multistep, py::arg("milestones"), py::arg("gamma"))
      .def_static("exponential", &Schedule::exponential, py::arg("gamma"))
      .def_static("inverse_time", &Schedule::inverse_time, py::arg("decay"))
      .def_static("polynomial", &Schedule::polynomial, py::arg("total"), py::arg("power"))
      .def_static("cosine", &Schedule::cosine, py::arg("t_max"), py::arg("eta_min"))
      .def_static("cosine_restarts", &Schedule::cosine_restarts, py::arg("t_0"), py::arg("t_mult"), py::arg("eta_min"))
      .def_static("one_cycle", &Schedule::one_cycle, py::arg("total"), py::arg("pct_start"), py::arg("div_factor"),
                  py::arg("final_div_factor"))
      .def_static("parse", &descent::optim::parse_schedule, py::arg("spec"), py::arg("total_steps") = 0)
      .def("with_warmup", &Schedule::with_warmup, py::arg("steps"), py::arg("start_factor"))
      .def("lr", &Schedule::lr, py::arg("base_lr"), py::arg("k"))
      .def_property_readonly("warmup_steps", &Schedule::warmup_steps)
      .def_property_readonly("warmup_start_factor", &Schedule::warmup_start_factor)
      .def("describe", &Schedule::describe)
      .def("__repr__", [](const Schedule& s) { return "<Schedule " + s.describe() + ">"; });

  using descent::optim::PlateauOptions;
  using descent::optim::ReduceOnPlateau;
  py::class_<ReduceOnPlateau>(m, "ReduceOnPlateau")
      .def(py::init([](double base_lr, const std::string& mode, double factor, Index patience, double threshold,
                       const std::string& threshold_mode, Index cooldown, double min_lr, double eps) {
             PlateauOptions o;
             if (mode != "min" && mode != "max") throw py::value_error("mode must be 'min' or 'max'; got '" + mode + "'");
             if (threshold_mode != "rel" && threshold_mode != "abs")
               throw py::value_error("threshold_mode must be 'rel' or 'abs'; got '" + threshold_mode + "'");
             o.mode = mode == "min" ? descent::optim::PlateauMode::min : descent::optim::PlateauMode::max;
             o.threshold_mode = threshold_mode == "rel" ? descent::optim::ThresholdMode::relative
                                                        : descent::optim::ThresholdMode::absolute;
             o.factor = factor;
             o.patience = patience;
             o.threshold = threshold;
             o.cooldown = cooldown;
             o.min_lr = min_lr;
             o.eps = eps;
             return ReduceOnPlateau(base_lr, o);
           }),
           py::arg("base_lr"), py::arg("mode"), py::arg("factor"), py::arg("patience"), py::arg("threshold"),
           py::arg("threshold_mode"), py::arg("cooldown"), py::arg("min_lr"), py::arg("eps"))
      .def("report", &ReduceOnPlateau::report, py::arg("metric"))
      .def_property_readonly("lr", &ReduceOnPlateau::lr)
      .def("state",
           [](const ReduceOnPlateau& p) {
             const auto& s = p.state();
             py::dict d;
             d["lr"] = s.lr;
             d["best"] = s.best;
             d["bad_reports"] = s.bad_reports;
             d["cooldown_left"] = s.cooldown_left;
             d["reports"] = s.reports;
             return d;
           })
      .def("restore", [](ReduceOnPlateau& p, const py::dict& d) {
        ReduceOnPlateau::State s;
        s.lr = py::cast<double>(d["lr"]);
        s.best = py::cast<double>(d["best"]);
        s.bad_reports = py::cast<std::int64_t>(d["bad_reports"]);
        s.cooldown_left = py::cast<std::int64_t>(d["cooldown_left"]);
        s.reports = py::cast<std::int64_t>(d["reports"]);
        p.restore(s);
      });
}
