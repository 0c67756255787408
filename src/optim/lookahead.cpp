// The wrappers around any stepper: Lookahead and Perturbed.
#include "descent/core/parallel.hpp"
#include "descent/core/memory.hpp"
#include "descent/core/random.hpp"
#include "descent/optim/detail/check.hpp"
#include "descent/optim/steppers.hpp"

namespace descent::optim {

void LookaheadOptions::validate() const {
  DESCENT_REQUIRE(k >= 1, fmt::format("LookaheadOptions::k must be >= 1; got {}", k));
  DESCENT_REQUIRE(std::isfinite(alpha) && alpha > 0 && alpha <= 1,
          fmt::format("LookaheadOptions::alpha must be in (0, 1]; got {}", alpha));
}

namespace {

// Passes the inner stepper's state through under "inner." names.
template <class T>
class Prefixed final : public StateVisitor<T> {
 public:
  explicit Prefixed(StateVisitor<T>& outer) : outer_(outer) {}
  void vector(std::string_view name, Vector<T>& v) override { outer_.vector(prefixed(name), v); }
  void scalar(std::string_view name, double& s) override { outer_.scalar(prefixed(name), s); }
  void counter(std::string_view name, std::int64_t& c) override { outer_.counter(prefixed(name), c); }

 private:
  std::string prefixed(std::string_view name) { return "inner." + std::string(name); }
  StateVisitor<T>& outer_;
};

}  // namespace

template <class T>
Wrapper<T>::Wrapper(std::unique_ptr<Stepper<T>> inner, std::string_view what)
    : Stepper<T>(inner ? inner->layout() : Layout{}, Regularization{}), inner_(std::move(inner)) {
  require(inner_ != nullptr, fmt::format("{} needs a stepper to wrap", what));
}

template <class T>
void Wrapper<T>::visit_inner_state(StateVisitor<T>& v) {
  Prefixed<T> inner(v);
  inner_->visit_state(inner);
}

template class Wrapper<float>;
template class Wrapper<double>;

template <class T>
Lookahead<T>::Lookahead(std::unique_ptr<Stepper<T>> inner, ConstVectorRef<T> x0, const LookaheadOptions& options)
    : Wrapper<T>(std::move(inner), "lookahead"), options_(options) {
  options_.validate();
  DESCENT_REQUIRE(x0.size() == this->layout_.size(),
          fmt::format("lookahead: x0 has {} elements; the layout has {}", x0.size(), this->layout_.size()));
  slow_ = descent::detail::workspace_vector<T>(x0.size());
  slow_ = x0;
}

template <class T>
std::string Lookahead<T>::name() const {
  return this->inner_->name() + "+lookahead";
}

template <class T>
double Lookahead<T>::bytes_moved_per_step() const {
  // Every k steps: x and the slow weights read, both written.
  return this->inner_->bytes_moved_per_step() + 4.0 * sizeof(T) / double(options_.k);
}

template <class T>
void Lookahead<T>::update(T* x, const T* g, T lr, T) {
  const Index n = this->layout_.size();
  Eigen::Map<Vector<T>> xv(x, n);
  Eigen::Map<const Vector<T>> gv(g, n);
  this->inner_->step(xv, gv, lr);
  if (this->steps_ % options_.k != 0) return;
  const T alpha = T(options_.alpha);
  T* slow = slow_.data();
  descent::detail::for_each_index(n, [=](Index j) {
    const T s = slow[j] + alpha * (x[j] - slow[j]);
    slow[j] = s;
    x[j] = s;
  });
}

template <class T>
void Lookahead<T>::project(T* x) {
  // Between syncs x is the inner stepper's, already projected; a sync
  // averages two points of the set, which rounding may leave by an ulp.
  if (this->steps_ % options_.k != 0) return;
  const Index n = this->layout_.size();
  this->projection().apply(VectorRef<T>(Eigen::Map<Vector<T>>(x, n)));
  T* slow = slow_.data();
  descent::detail::for_each_index(n, [=](Index j) { slow[j] = x[j]; });
}

template <class T>
void Lookahead<T>::visit_method_state(StateVisitor<T>& v) {
  v.vector("slow", slow_);
  this->visit_inner_state(v);
}

template class Lookahead<float>;
template class Lookahead<double>;

void PerturbOptions::validate() const {
  DESCENT_REQUIRE(std::isfinite(radius) && radius > 0,
                  fmt::format("PerturbOptions::radius must be finite and > 0; got {}", radius));
  DESCENT_REQUIRE(gradient_threshold >= 0 && !std::isnan(gradient_threshold),
                  fmt::format("PerturbOptions::gradient_threshold must be >= 0; got {}", gradient_threshold));
  DESCENT_REQUIRE(interval >= 1, fmt::format("PerturbOptions::interval must be >= 1; got {}", interval));
  DESCENT_REQUIRE(decrease >= 0 && std::isfinite(decrease),
                  fmt::format("PerturbOptions::decrease must be finite and >= 0; got {}", decrease));
}

template <class T>
Perturbed<T>::Perturbed(std::unique_ptr<Stepper<T>> inner, const PerturbOptions& options)
    : Wrapper<T>(std::move(inner), "perturb"), options_(options) {
  options_.validate();
  from_ = descent::detail::workspace_vector<T>(this->layout_.size());
}

template <class T>
std::string Perturbed<T>::name() const {
  return this->inner_->name() + "+perturb";
}

template <class T>
void Perturbed<T>::update(T* x, const T* g, T lr, T) {
  const Index n = this->layout_.size();
  Eigen::Map<Vector<T>> xv(x, n);
  Eigen::Map<const Vector<T>> gv(g, n);
  const bool due = count_ == 0 || this->steps_ - last_ >= options_.interval;
  if (!requested_ && !(due && double(gv.norm()) <= options_.gradient_threshold)) {
    this->inner_->step(xv, gv, lr);
    return;
  }
  // Uniform in the ball: a normal direction, radius r u^(1/n). The draws are
  // made twice from the same seed, once for their norm and once to add them,
  // so that the step allocates nothing.
  const std::uint64_t seed = options_.seed * 0x9E3779B97F4A7C15ull + std::uint64_t(count_);
  Rng rng(seed);
  double squared = 0;
  for (Index j = 0; j < n; ++j) {
    const double z = rng.normal();
    squared += z * z;
  }
  const double length = options_.radius * std::pow(rng.uniform(), 1.0 / double(n));
  from_ = xv;
  if (squared > 0) {
    const double scale = length / std::sqrt(squared);
    rng.reseed(seed);
    for (Index j = 0; j < n; ++j) x[j] += T(scale * rng.normal());
  }
  requested_ = false;
  last_ = this->steps_;
  ++count_;
}

template <class T>
void Perturbed<T>::project(T* x) {
  if (last_ != this->steps_) return;  // the inner stepper's own step, already projected
  const Index n = this->layout_.size();
  this->projection().apply(VectorRef<T>(Eigen::Map<Vector<T>>(x, n)));
}

template <class T>
void Perturbed<T>::visit_method_state(StateVisitor<T>& v) {
  v.counter("perturbations", count_);
  v.counter("last_perturbation", last_);
  this->visit_inner_state(v);
}

template class Perturbed<float>;
template class Perturbed<double>;

}  // namespace descent::optim
