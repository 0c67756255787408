#include "descent/optim/factory.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "descent/core/error.hpp"

namespace descent::optim {

const std::vector<std::string>& stepper_names() {
  static const std::vector<std::string> names = {
      "sgd",   "momentum", "nesterov", "adagrad", "rmsprop",   "rmsprop-centered",  "adadelta",
      "adam",  "adamw",    "amsgrad",  "adamax",  "nadam",     "radam",             "lion",
      "adafactor", "schedule-free-sgd", "schedule-free-adamw", "prodigy", "muon"};
  return names;
}

bool is_stepper_name(std::string_view name) {
  const auto& names = stepper_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

namespace {

// Hands out hyper-parameters by name and remembers which were asked for, so
// that one the method does not know is an error rather than ignored.
class Reader {
 public:
  Reader(std::string_view method, const Hyperparameters& hp) : method_(method), hp_(hp) {}

  double get(const std::string& key, double fallback) {
    accepted_.insert(key);
    auto it = hp_.find(key);
    const double value = it == hp_.end() ? fallback : it->second;
    resolved_[key] = value;
    return value;
  }
  bool flag(const std::string& key, bool fallback) {
    const double v = get(key, fallback ? 1 : 0);
    DESCENT_REQUIRE(v == 0 || v == 1, fmt::format("{}: {} is a flag, 0 or 1; got {}", method_, key, v));
    return v == 1;
  }
  Index count(const std::string& key, Index fallback) {
    const double v = get(key, double(fallback));
    DESCENT_REQUIRE(v == std::floor(v) && v >= 0 && v < 1e15,
            fmt::format("{}: {} must be a whole number >= 0; got {}", method_, key, v));
    return Index(v);
  }
  // Throws if a hyper-parameter was given that no one asked for.
  void finish() const {
    for (const auto& [key, value] : hp_) {
      if (!accepted_.count(key)) {
        throw invalid_argument(fmt::format("{} has no hyper-parameter '{}'; it takes: {}", method_, key,
                                           fmt::join(accepted_, ", ")));
      }
    }
  }
  // Every hyper-parameter asked for, with the value it got.
  const Hyperparameters& resolved() const { return resolved_; }

 private:
  std::string method_;
  const Hyperparameters& hp_;
  std::set<std::string> accepted_;
  Hyperparameters resolved_;
};

template <class T>
std::unique_ptr<Stepper<T>> make_base(std::string_view method, const Layout& layout, ConstVectorRef<T> x0,
                                      Reader& r, Regularization reg) {
  const std::string name(method);
  auto coupled = [&](double fallback = 0) { reg.l2 += r.get("weight_decay", fallback); };
  auto decoupled = [&](double fallback) { reg.decoupled_weight_decay += r.get("weight_decay", fallback); };

  if (name == "sgd" || name == "momentum" || name == "nesterov") {
    SgdOptions o;
    const bool with_momentum = name != "sgd";
    o.momentum = r.get("momentum", with_momentum ? 0.9 : 0.0);
    o.dampening = r.get("dampening", 0);
    o.nesterov = name == "nesterov" ? r.flag("nesterov", true) : r.flag("nesterov", false);
    coupled();
    return std::make_unique<Sgd<T>>(layout, o, reg);
  }
  if (name == "adagrad") {
    AdagradOptions o;
    o.lr_decay = r.get("lr_decay", o.lr_decay);
    o.initial_accumulator_value = r.get("initial_accumulator_value", o.initial_accumulator_value);
    o.eps = r.get("eps", o.eps);
    coupled();
    return std::make_unique<Adagrad<T>>(layout, o, reg);
  }
  if (name == "rmsprop" || name == "rmsprop-centered") {
    RmspropOptions o;
    o.alpha = r.get("alpha", o.alpha);
    o.eps = r.get("eps", o.eps);
    o.momentum = r.get("momentum", o.momentum);
    o.centered = name == "rmsprop-centered";
    coupled();
    return std::make_unique<Rmsprop<T>>(layout, o, reg);
  }
  if (name == "adadelta") {
    AdadeltaOptions o;
    o.rho = r.get("rho", o.rho);
    o.eps = r.get("eps", o.eps);
    coupled();
    return std::make_unique<Adadelta<T>>(layout, o, reg);
  }
  if (name == "adam" || name == "adamw" || name == "amsgrad" || name == "adamax" || name == "nadam" ||
      name == "radam") {
    AdamOptions o;
    o.beta1 = r.get("beta1", o.beta1);
    o.beta2 = r.get("beta2", o.beta2);
    o.eps = r.get("eps", o.eps);
    if (name == "amsgrad") o.variant = AdamVariant::amsgrad;
    if (name == "adamax") o.variant = AdamVariant::adamax;
    if (name == "radam") o.variant = AdamVariant::radam;
    if (name == "nadam") {
      o.variant = AdamVariant::nadam;
      o.momentum_decay = r.get("momentum_decay", o.momentum_decay);
    }
    if (name == "adamw") {
      decoupled(0.01);
    } else {
      coupled();
    }
    return std::make_unique<Adam<T>>(layout, o, reg);
  }
  if (name == "lion") {
    LionOptions o;
    o.beta1 = r.get("beta1", o.beta1);
    o.beta2 = r.get("beta2", o.beta2);
    decoupled(0);
    return std::make_unique<Lion<T>>(layout, o, reg);
  }
  if (name == "adafactor") {
    AdafactorOptions o;
    o.beta1 = r.get("beta1", o.beta1);
    o.beta2_decay = r.get("beta2_decay", o.beta2_decay);
    o.eps1 = r.get("eps1", o.eps1);
    o.eps2 = r.get("eps2", o.eps2);
    o.clip_threshold = r.get("clip_threshold", o.clip_threshold);
    o.scale_parameter = r.flag("scale_parameter", o.scale_parameter);
    decoupled(0);
    return std::make_unique<Adafactor<T>>(layout, o, reg);
  }
  if (name == "schedule-free-sgd" || name == "schedule-free-adamw") {
    ScheduleFreeOptions o;
    o.adam = name == "schedule-free-adamw";
    o.beta1 = r.get(o.adam ? "beta1" : "momentum", o.beta1);
    if (o.adam) {
      o.beta2 = r.get("beta2", o.beta2);
      o.eps = r.get("eps", o.eps);
      o.weight_decay = r.get("weight_decay", 0);
    } else {
      coupled();
    }
    o.r = r.get("r", o.r);
    o.weight_lr_power = r.get("weight_lr_power", o.weight_lr_power);
    return std::make_unique<ScheduleFree<T>>(layout, x0, o, reg);
  }
  if (name == "prodigy") {
    ProdigyOptions o;
    o.beta1 = r.get("beta1", o.beta1);
    o.beta2 = r.get("beta2", o.beta2);
    o.beta3 = r.get("beta3", o.beta3);
    o.eps = r.get("eps", o.eps);
    o.weight_decay = r.get("weight_decay", o.weight_decay);
    o.d0 = r.get("d0", o.d0);
    o.d_coef = r.get("d_coef", o.d_coef);
    o.growth_rate = r.get("growth_rate", o.growth_rate);
    if (o.growth_rate >= 1e300) o.growth_rate = std::numeric_limits<double>::infinity();
    return std::make_unique<Prodigy<T>>(layout, x0, o, reg);
  }
  if (name == "muon") {
    MuonOptions o;
    o.momentum = r.get("momentum", o.momentum);
    o.nesterov = r.flag("nesterov", o.nesterov);
    o.ns_steps = r.count("ns_steps", o.ns_steps);
    o.rms_matching = r.flag("rms_matching", o.rms_matching);
    o.adam_beta1 = r.get("adam_beta1", o.adam_beta1);
    o.adam_beta2 = r.get("adam_beta2", o.adam_beta2);
    o.adam_eps = r.get("adam_eps", o.adam_eps);
    decoupled(0);
    return std::make_unique<Muon<T>>(layout, o, reg);
  }
  throw invalid_argument(
      fmt::format("unknown optimizer '{}'; the steppers are: {}", method, fmt::join(stepper_names(), ", ")));
}

}  // namespace

template <class T>
std::unique_ptr<Stepper<T>> make_stepper(std::string_view method, const Layout& layout, ConstVectorRef<T> x0,
                                         const Hyperparameters& hyperparameters, const Regularization& regularization,
                                         Hyperparameters* resolved) {
  DESCENT_REQUIRE(x0.size() == layout.size(),
          fmt::format("{}: x0 has {} elements; the layout has {}", method, x0.size(), layout.size()));
  Reader r(method, hyperparameters);
  const bool lookahead = hyperparameters.count("lookahead_k") || hyperparameters.count("lookahead_alpha");
  LookaheadOptions la;
  if (lookahead) {
    la.k = r.count("lookahead_k", la.k);
    la.alpha = r.get("lookahead_alpha", la.alpha);
  }
  const bool perturb = hyperparameters.count("perturb_radius") || hyperparameters.count("perturb_threshold") ||
                       hyperparameters.count("perturb_interval") || hyperparameters.count("perturb_seed") ||
                       hyperparameters.count("perturb_decrease");
  PerturbOptions pt;
  if (perturb) {
    pt.radius = r.get("perturb_radius", pt.radius);
    pt.gradient_threshold = r.get("perturb_threshold", pt.gradient_threshold);
    pt.interval = r.count("perturb_interval", pt.interval);
    pt.seed = std::uint64_t(r.count("perturb_seed", Index(pt.seed)));
    pt.decrease = r.get("perturb_decrease", pt.decrease);
  }
  auto stepper = make_base<T>(method, layout, x0, r, regularization);
  r.finish();
  if (resolved != nullptr) *resolved = r.resolved();
  if (lookahead) stepper = std::make_unique<Lookahead<T>>(std::move(stepper), x0, la);
  if (perturb) stepper = std::make_unique<Perturbed<T>>(std::move(stepper), pt);
  return stepper;
}

template std::unique_ptr<Stepper<float>> make_stepper(std::string_view, const Layout&, ConstVectorRef<float>,
                                                      const Hyperparameters&, const Regularization&,
                                                      Hyperparameters*);
template std::unique_ptr<Stepper<double>> make_stepper(std::string_view, const Layout&, ConstVectorRef<double>,
                                                       const Hyperparameters&, const Regularization&,
                                                       Hyperparameters*);

}  // namespace descent::optim
