// descent._core's training: descent.train and the scikit-learn-style
// estimators (descent/_train.py) on descent's trainer.
//
// train() is `descent train` without the command line: the data (numpy
// arrays, or a named set or file as the CLI reads it), the model spec, a
// stepper (epochs of mini-batches, in float32) or a full-batch solver (in
// float64), the trainer's options. It returns the history and a Model:
// the weights with what is needed to use them (spec, loss, standardization,
// label mapping), which predicts, evaluates, and saves and loads the CLI's
// safetensors model files. The GIL is released while the trainer runs and
// taken per epoch for the callback and per step to look for Ctrl-C, which
// stops the run at that step (status "interrupted").
#include <atomic>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "descent/autograd/tape.hpp"
#include "descent/data/named.hpp"
#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"
#include "descent/train/lr_find.hpp"
#include "descent/train/model_file.hpp"
#include "descent/train/setup.hpp"
#include "descent/train/trainer.hpp"
#include "train.hpp"

namespace py = pybind11;

namespace {

using descent::Index;
using descent::Vector;
using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;

template <class T>
struct PyModel {
  descent::nn::Model<T> model;
  Vector<T> x;
  descent::train::ModelFile about;
};

// X as rows of features (any [n, ...] array is n rows) and y as targets:
// one per row ([n]) or several ([n, t]).
descent::data::Dataset dataset(const py::object& X, const py::object& y, const char* what) {
  const Floats xs = Floats::ensure(X);
  if (!xs || xs.ndim() < 1) throw py::type_error(std::string(what) + ": X must be an array of numbers");
  descent::data::Dataset d;
  d.rows = Index(xs.shape(0));
  d.features = xs.ndim() == 1 ? 1 : Index(xs.size()) / std::max<Index>(d.rows, 1);
  d.x.assign(xs.data(), xs.data() + xs.size());
  if (y.is_none()) {
    d.targets = 1;
    d.y.assign(static_cast<std::size_t>(d.rows), 0.0f);
  } else {
    const Floats ys = Floats::ensure(y);
    if (!ys || ys.ndim() < 1 || ys.ndim() > 2 || ys.shape(0) != xs.shape(0))
      throw py::value_error(std::string(what) + ": y must have one row per row of X (" + std::to_string(d.rows) +
                            "); got " + (ys ? std::to_string(ys.shape(0)) : std::string("no array")));
    d.targets = ys.ndim() == 1 ? 1 : Index(ys.shape(1));
    d.y.assign(ys.data(), ys.data() + ys.size());
  }
  if (d.rows == 0) throw py::value_error(std::string(what) + ": X has no rows");
  for (float v : d.x)
    if (!std::isfinite(v)) throw py::value_error(std::string(what) + ": X holds a NaN or infinite value");
  for (float v : d.y)
    if (!std::isfinite(v)) throw py::value_error(std::string(what) + ": y holds a NaN or infinite value");
  d.source = what;
  d.validate();
  return d;
}

bool signed_binary(const descent::data::Dataset& d) {
  bool minus = false;
  for (float v : d.y) {
    if (v != -1.0f && v != 1.0f) return false;
    minus |= v == -1.0f;
  }
  return minus;
}

py::dict evaluation_dict(const descent::train::Evaluation& e) {
  py::dict d;
  d["rows"] = e.rows;
  d["loss"] = e.loss;
  if (e.classes > 0) {
    d["classes"] = e.classes;
    d["accuracy"] = e.accuracy;
    d["confusion"] = e.confusion;
  } else {
    d["mse"] = e.mse;
    d["r2"] = e.r2;
  }
  return d;
}

// The model's outputs for X (logits for classifiers), in evaluation mode, in
// chunks of 4096 rows, after the model's own standardization.
template <class T>
py::array_t<T> predict(PyModel<T>& m, const py::object& X) {
  descent::data::Dataset d = dataset(X, py::none(), "predict");
  const Index features = m.model.input_shape().size();
  if (d.features != features)
    throw py::value_error("predict: X has " + std::to_string(d.features) + " features; the model takes " +
                          std::to_string(features));
  const Index out = m.model.output_shape().size();
  py::array_t<T> result({py::ssize_t(d.rows), py::ssize_t(out)});
  T* o = result.mutable_data();
  {
    py::gil_scoped_release release;
    if (m.about.scaler) m.about.scaler->apply(d);
    descent::autograd::Tape<T> tape;
    descent::autograd::NoGradGuard<T> no_grad(tape);
    descent::Rng rng(0);
    std::vector<T> chunk;
    for (Index first = 0; first < d.rows; first += 4096) {
      const Index count = std::min<Index>(4096, d.rows - first);
      tape.reset();
      chunk.assign(d.x.begin() + first * features, d.x.begin() + (first + count) * features);
      const auto batch = tape.constant(chunk.data(), {count, features});
      const auto output = m.model.forward(tape, m.x.data(), nullptr, batch, false, rng);
      std::copy(output.data(), output.data() + count * out, o + first * out);
    }
  }
  return result;
}

template <class T>
py::dict evaluate(PyModel<T>& m, const py::object& X, const py::object& y) {
  descent::data::Dataset d = dataset(X, y, "evaluate");
  descent::train::Evaluation e;
  {
    py::gil_scoped_release release;
    descent::train::prepare_data(m.about, d);
    e = descent::train::evaluate(m.model, m.x, d);
  }
  return evaluation_dict(e);
}

// Per step: Ctrl-C; per epoch: the user's callback(dict) (False stops the run).
class PyTrainCallback final : public descent::train::TrainCallback {
 public:
  PyTrainCallback(py::object user, std::atomic<bool>& interrupt) : user_(std::move(user)), interrupt_(interrupt) {}
  bool on_step(const descent::train::StepRecord&) override {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) {
      if (!PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) throw py::error_already_set();
      PyErr_Clear();
      interrupt_ = true;
    }
    return true;
  }
  bool on_epoch(const descent::train::EpochRecord& r) override {
    if (user_.is_none()) return true;
    py::gil_scoped_acquire gil;
    try {
      const py::object answer = user_(epoch_dict(r));
      return answer.is_none() || py::bool_(answer);
    } catch (py::error_already_set& e) {
      if (!e.matches(PyExc_KeyboardInterrupt)) throw;
      interrupt_ = true;  // Ctrl-C while the callback ran: the run stops at this step
      return true;
    }
  }
  static py::dict epoch_dict(const descent::train::EpochRecord& r) {
    py::dict d;
    d["epoch"] = r.epoch;
    d["steps"] = r.steps;
    d["train_loss"] = r.train_loss;
    if (!std::isnan(r.validation_loss)) d["validation_loss"] = r.validation_loss;
    if (!std::isnan(r.validation_accuracy)) d["validation_accuracy"] = r.validation_accuracy;
    d["gradient_norm"] = r.gradient_norm;
    d["mean_gradient_norm"] = r.mean_gradient_norm;
    if (r.plateau_epochs > 0) d["plateau_epochs"] = r.plateau_epochs;
    d["update_norm"] = r.update_norm;
    d["lr"] = r.lr;
    d["seconds"] = r.seconds;
    d["samples_per_second"] = r.samples_per_second;
    return d;
  }

 private:
  py::object user_;
  std::atomic<bool>& interrupt_;
};

// Ctrl-C for a full-batch solve.
template <class T>
class PySolverCallback final : public descent::Callback<T> {
 public:
  descent::Control on_iteration(const descent::IterationReport<T>&) override {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() == 0) return descent::Control::proceed;
    if (!PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) throw py::error_already_set();
    PyErr_Clear();
    interrupted = true;
    return descent::Control::stop_failed;
  }
  bool interrupted = false;
};

struct Settings {
  std::string model, loss, optimizer;
  std::map<std::string, double> hyperparameters;
  double clip_norm = 0, clip_value = 0, l1 = 0;
  descent::train::TrainOptions train;
  double gtol = 1e-5;
  Index max_iter = 1000, memory = 10;
  // "": train at train.lr; "auto": train at the range test's suggestion;
  // "find": run the range test alone and return it.
  std::string lr_mode;
  descent::train::RangeTestOptions range;
};

py::dict range_test_dict(const descent::train::RangeTestResult& r) {
  py::dict d;
  auto number = [](double v) { return std::isnan(v) ? py::object(py::none()) : py::object(py::float_(v)); };
  d["suggestion"] = number(r.suggestion);
  d["steepest_lr"] = number(r.steepest_lr);
  d["minimum_lr"] = number(r.minimum_lr);
  d["initial_loss"] = r.initial_loss;
  d["lowest_loss"] = r.lowest_loss;
  d["diverged"] = r.diverged;
  d["message"] = r.message;
  py::array_t<double> lr(py::ssize_t(r.curve.size())), loss(py::ssize_t(r.curve.size())),
      smoothed(py::ssize_t(r.curve.size()));
  for (std::size_t i = 0; i < r.curve.size(); ++i) {
    lr.mutable_at(py::ssize_t(i)) = r.curve[i].lr;
    loss.mutable_at(py::ssize_t(i)) = r.curve[i].loss;
    smoothed.mutable_at(py::ssize_t(i)) = r.curve[i].smoothed;
  }
  d["lr"] = lr;
  d["loss"] = loss;
  d["smoothed"] = smoothed;
  return d;
}

template <class T>
py::dict run(descent::train::TrainingData& sets, const Settings& s, const py::object& callback) {
  const bool classifier = descent::train::is_classifier(s.model, s.loss);
  const std::string spec = descent::train::model_spec(s.model, sets);
  auto saved = std::make_unique<PyModel<T>>(PyModel<T>{
      descent::train::build_model<T>(spec, s.loss, sets, classifier), Vector<T>(), descent::train::ModelFile{}});
  saved->about = {.spec = spec, .loss = std::string(saved->model.loss().name()), .scaler = sets.scaler,
                  .signed_labels = sets.signed_labels};
  saved->x.resize(saved->model.num_parameters());
  saved->model.initialize(saved->x, s.train.seed);

  py::dict out;
  const auto method = descent::parse_method(s.optimizer);
  if (method) {
    descent::MinimizeOptions o;
    o.stop.gradient_tolerance = s.gtol;
    o.stop.max_iterations = s.max_iter;
    o.memory = s.memory;
    if (std::isfinite(s.train.time_limit)) o.stop.time_limit = s.train.time_limit;
    PySolverCallback<T> cb;
    descent::Result<T> r;
    {
      py::gil_scoped_release release;
      r = descent::train::fit_full_batch(saved->model, saved->x, sets.train, *method, o, s.train.l2, &cb);
    }
    out["status"] = cb.interrupted ? std::string("interrupted") : std::string(descent::to_string(r.status));
    out["message"] = r.message;
    out["iterations"] = r.iterations;
    out["evaluations"] = r.gradient_evaluations;
    out["train_loss"] = double(r.value);
    out["gradient_norm"] = double(r.gradient_norm);
    out["seconds"] = r.seconds;
    out["history"] = py::list();
  } else {
    descent::optim::Regularization reg;
    reg.clip_norm = s.clip_norm;
    reg.clip_value = s.clip_value;
    reg.l1 = s.l1;
    descent::optim::Hyperparameters hp(s.hyperparameters.begin(), s.hyperparameters.end()), resolved;
    auto stepper = descent::optim::make_stepper<T>(s.optimizer, saved->model.layout(), saved->x, hp, reg, &resolved);
    descent::train::TrainOptions options = s.train;
    if (!s.lr_mode.empty()) {
      descent::train::RangeTestOptions range = s.range;
      range.batch_size = s.train.batch_size;
      range.l2 = s.train.l2;
      range.seed = s.train.seed;
      descent::train::RangeTestResult test;
      {
        py::gil_scoped_release release;
        test = descent::train::lr_range_test(saved->model, saved->x, sets.train, *stepper, range);
      }
      if (s.lr_mode == "find") return range_test_dict(test);
      if (std::isnan(test.suggestion))
        throw py::value_error("lr='auto': the range test found no rate (" + test.message + "); give lr");
      options.lr = test.suggestion;
      out["lr_find"] = range_test_dict(test);
    }
    out["lr"] = options.lr;
    std::atomic<bool> interrupt(false);
    options.interrupt = &interrupt;
    PyTrainCallback cb(callback, interrupt);
    descent::train::TrainResult r;
    {
      py::gil_scoped_release release;
      r = descent::train::fit(saved->model, saved->x, sets.train, sets.has_validation ? &sets.validation : nullptr,
                              *stepper, options, &cb);
    }
    py::list history;
    for (const auto& e : r.history) history.append(PyTrainCallback::epoch_dict(e));
    out["status"] = std::string(descent::to_string(r.status));
    out["message"] = r.message;
    out["epochs"] = r.epochs;
    out["steps"] = r.steps;
    out["train_loss"] = r.train_loss;
    out["seconds"] = r.seconds;
    out["samples_per_second"] = r.samples_per_second;
    if (r.best_epoch > 0) out["best_epoch"] = r.best_epoch;
    if (r.plateau_since > 0) out["plateau_since"] = r.plateau_since;
    if (!r.checkpoint_written.empty()) out["checkpoint"] = r.checkpoint_written;
    out["history"] = history;
    out["hyperparameters"] = std::map<std::string, double>(resolved.begin(), resolved.end());
  }
  if (sets.test.rows > 0) {
    descent::train::Evaluation e;
    {
      py::gil_scoped_release release;
      e = descent::train::evaluate(saved->model, saved->x, sets.test);
    }
    out["test"] = evaluation_dict(e);
  }
  out["spec"] = spec;
  out["model"] = py::cast(std::move(saved));
  return out;
}

py::dict train(const std::string& data_name, const py::object& X, const py::object& y, const py::object& X_val,
               const py::object& y_val, const std::string& test, const std::string& label_column, bool standardize,
               double val_fraction, const Settings& s, const py::object& callback) {
  const bool classifier = descent::train::is_classifier(s.model, s.loss);
  descent::train::TrainingData sets;
  if (!data_name.empty()) {
    descent::train::DataOptions o{.data = data_name, .test = test, .label_column = label_column,
                                  .standardize = standardize, .val_fraction = val_fraction,
                                  .seed = s.train.seed, .classifier = classifier, .warn = {}};
    py::gil_scoped_release release;
    sets = descent::train::load_training_data(o);
  } else {
    sets.train = dataset(X, y, "X");
    if (!X_val.is_none()) {
      sets.validation = dataset(X_val, y_val, "X_val");
      sets.has_validation = true;
    } else if (val_fraction > 0) {
      auto parts = descent::data::split(sets.train, val_fraction, s.train.seed);
      sets.train = std::move(parts.first);
      sets.validation = std::move(parts.second);
      sets.has_validation = sets.validation.rows > 0;
    }
    if (classifier && signed_binary(sets.train)) {
      descent::train::map_signed_labels(sets.train);
      descent::train::map_signed_labels(sets.validation);
      sets.signed_labels = true;
    }
    if (standardize) {
      sets.scaler = descent::data::Standardizer::fit(sets.train);
      sets.scaler->apply(sets.train);
      if (sets.has_validation) sets.scaler->apply(sets.validation);
    }
    sets.train_rows = sets.train.rows;
    sets.classes = sets.train.classes();
  }
  const bool solver = descent::parse_method(s.optimizer).has_value();
  if (solver && !s.lr_mode.empty())
    throw py::value_error("the learning-rate range test is for the steppers; the full-batch solver " + s.optimizer +
                          " finds its own step length");
  if (!solver && !descent::optim::is_stepper_name(s.optimizer))
    throw py::value_error("unknown optimizer '" + s.optimizer + "'; the steppers are " +
                          py::str(py::cast(descent::optim::stepper_names())).cast<std::string>() +
                          ", the full-batch solvers " + descent::method_names());
  // Full-batch solvers work in float64, the steppers in float32, as in the CLI.
  return solver ? run<double>(sets, s, callback) : run<float>(sets, s, callback);
}

template <class T>
void def_model(py::module_& m, const char* name) {
  py::class_<PyModel<T>, std::unique_ptr<PyModel<T>>>(m, name)
      .def("predict", &predict<T>, py::arg("X"), "the model's outputs for X (logits for a classifier)")
      .def("evaluate", &evaluate<T>, py::arg("X"), py::arg("y"))
      .def("save", [](const PyModel<T>& p, const py::object& where) {
        const auto path = py::module_::import("os").attr("fspath")(where).cast<std::string>();
        py::gil_scoped_release release;
        descent::train::save_model(path, p.model, p.x, p.about);
      }, py::arg("path"), "writes the CLI's safetensors model file (atomically); a str or path-like")
      .def_property_readonly("spec", [](const PyModel<T>& p) { return p.about.spec; })
      .def_property_readonly("loss", [](const PyModel<T>& p) { return std::string(p.model.loss().name()); })
      .def_property_readonly("signed_labels", [](const PyModel<T>& p) { return p.about.signed_labels; })
      .def_property_readonly("n_features", [](const PyModel<T>& p) { return p.model.input_shape().size(); })
      .def_property_readonly("n_outputs", [](const PyModel<T>& p) { return p.model.output_shape().size(); })
      .def_property_readonly("dtype", [](const PyModel<T>&) { return py::dtype::of<T>(); })
      .def("summary", [](const PyModel<T>& p) { return p.model.summary(); })
      .def("weights", [](const PyModel<T>& p) {
        // name -> a copy of that segment, shaped as a matrix where it is one
        py::dict out;
        for (const auto& seg : p.model.layout().segments()) {
          std::vector<py::ssize_t> shape;
          if (seg.is_matrix()) shape = {py::ssize_t(seg.rows), py::ssize_t(seg.cols)};
          else shape = {py::ssize_t(seg.length)};
          py::array_t<T> a(shape);
          std::copy(p.x.data() + seg.offset, p.x.data() + seg.offset + seg.length, a.mutable_data());
          out[py::str(seg.name)] = a;
        }
        return out;
      }, "each parameter segment ('0.weight', '0.bias', ...) as a new array")
      .def("parameters", [](const PyModel<T>& p) {
        py::array_t<T> a(py::ssize_t(p.x.size()));
        std::copy(p.x.data(), p.x.data() + p.x.size(), a.mutable_data());
        return a;
      }, "the flat parameter vector, a copy")
      .def("__repr__", [](const PyModel<T>& p) {
        return "<descent.Model " + p.about.spec + ", " + std::to_string(p.model.num_parameters()) + " parameters>";
      });
}

template <class T>
py::object load(const std::string& path) {
  auto saved = [&] {
    py::gil_scoped_release release;
    return descent::train::load_model<T>(path);
  }();
  return py::cast(std::make_unique<PyModel<T>>(PyModel<T>{std::move(saved.model), std::move(saved.x), saved.about}));
}

}  // namespace

void def_train(py::module_& m) {
  def_model<float>(m, "Model_f32");
  def_model<double>(m, "Model_f64");
  m.def("load_model", [](const std::string& path) {
    return descent::train::saved_in_double(path) ? load<double>(path) : load<float>(path);
  }, py::arg("path"));
  m.def("model_spec_help", &descent::nn::model_spec_help);
  m.def("load_data", [](const std::string& name, const std::string& part, const std::string& label_column) {
    descent::data::Dataset d;
    {
      py::gil_scoped_release release;
      const auto names = descent::data::named_datasets();
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        if (part != "train" && part != "test")
          throw std::invalid_argument("part must be 'train' or 'test'; got '" + part + "'");
        d = descent::data::load_named(name, part == "train" ? descent::data::Part::train : descent::data::Part::test);
      } else {
        descent::train::DataOptions o;
        o.label_column = label_column;
        d = descent::train::load_data_file(name, o, 0);
      }
    }
    py::array_t<float> X({py::ssize_t(d.rows), py::ssize_t(d.features)});
    std::copy(d.x.begin(), d.x.end(), X.mutable_data());
    py::array_t<float> y = d.targets == 1 ? py::array_t<float>(py::ssize_t(d.rows))
                                          : py::array_t<float>({py::ssize_t(d.rows), py::ssize_t(d.targets)});
    std::copy(d.y.begin(), d.y.end(), y.mutable_data());
    return py::make_tuple(X, y);
  }, py::arg("name"), py::arg("part") = "train", py::arg("label_column") = "");
  m.def("train", [](const std::string& data, const py::object& X, const py::object& y, const py::object& X_val,
                    const py::object& y_val, const std::string& test, const std::string& label_column,
                    bool standardize, double val_fraction, const std::string& model, const std::string& loss,
                    const std::string& optimizer, const std::map<std::string, double>& hyperparameters,
                    double clip_norm, double clip_value, double l1, Index epochs, Index batch_size, double lr,
                    const std::string& schedule, Index patience, double l2, std::uint64_t seed, double time_limit,
                    const std::string& checkpoint, const std::string& resume, double gtol, Index max_iter,
                    Index memory, const py::object& callback, const std::string& lr_mode, double lr_min,
                    double lr_max, Index range_steps, double divergence) {
    Settings s{.model = model, .loss = loss, .optimizer = optimizer, .hyperparameters = hyperparameters,
               .clip_norm = clip_norm, .clip_value = clip_value, .l1 = l1, .train = {}, .gtol = gtol,
               .max_iter = max_iter, .memory = memory, .lr_mode = lr_mode,
               .range = {.lr_min = lr_min, .lr_max = lr_max, .steps = range_steps, .divergence = divergence}};
    s.train.epochs = epochs;
    s.train.batch_size = batch_size;
    s.train.lr = lr;
    s.train.schedule = schedule;
    s.train.patience = patience;
    s.train.l2 = l2;
    s.train.seed = seed;
    s.train.time_limit = time_limit;
    s.train.checkpoint = checkpoint;
    s.train.resume = resume;
    return train(data, X, y, X_val, y_val, test, label_column, standardize, val_fraction, s, callback);
  });
}
