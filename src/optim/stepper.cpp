#include "descent/optim/stepper.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "descent/core/error.hpp"

namespace descent::optim {

void Regularization::validate() const {
  auto check = [](double v, const char* field) {
    require(std::isfinite(v) && v >= 0, fmt::format("Regularization::{} must be finite and >= 0; got {}", field, v));
  };
  check(clip_norm, "clip_norm");
  check(clip_value, "clip_value");
  check(l2, "l2");
  check(decoupled_weight_decay, "decoupled_weight_decay");
  check(l1, "l1");
}

template <class T>
Stepper<T>::Stepper(Layout layout, const Regularization& regularization)
    : layout_(std::move(layout)), regularization_(regularization) {
  layout_.validate();
  regularization_.validate();
}

template <class T>
void Stepper<T>::step(VectorRef<T> x, ConstVectorRef<T> g, T lr) {
  double norm = 0;
  if (regularization_.clip_norm > 0 && g.size() == layout_.size()) {
    const T* gp = g.data();
    norm = std::sqrt(
        descent::detail::sum_over<double>(g.size(), [=](Index j) { return double(gp[j]) * double(gp[j]); }));
  }
  step(x, g, lr, norm);
}

template <class T>
void Stepper<T>::step(VectorRef<T> x, ConstVectorRef<T> g, T lr, double gradient_norm) {
  const Index n = layout_.size();
  // (Messages are formatted only on failure: step allocates nothing.)
  if (x.size() != n || g.size() != n)
    throw invalid_argument(
        fmt::format("{}: x has {} and g {} elements; the layout has {}", name(), x.size(), g.size(), n));
  if (!(std::isfinite(double(lr)) && lr >= 0))
    throw invalid_argument(fmt::format("{}: the learning rate must be finite and >= 0; got {}", name(), double(lr)));
  T clip_scale = T(1);
  // A non-finite norm leaves g as it is: the method then produces a
  // non-finite x, which the caller reports as divergence.
  if (regularization_.clip_norm > 0 && std::isfinite(gradient_norm) && gradient_norm > regularization_.clip_norm)
    clip_scale = T(regularization_.clip_norm / gradient_norm);
  ++steps_;
  update(x.data(), g.data(), lr, clip_scale);
}

template <class T>
void Stepper<T>::visit_state(StateVisitor<T>& visitor) {
  visitor.counter("step", steps_);
  visit_method_state(visitor);
}

template <class T>
PassConstants<T> Stepper<T>::constants(const Segment& s, T lr, T clip_scale) const {
  const Regularization& r = regularization_;
  PassConstants<T> c;
  c.lr = lr * T(s.lr_scale);
  c.clip_scale = clip_scale;
  c.clip_value = r.clip_value > 0 ? T(r.clip_value) : std::numeric_limits<T>::infinity();
  c.l2 = T(r.l2 * s.decay);
  c.keep = T(1) - c.lr * T(r.decoupled_weight_decay * s.decay);
  c.l1_threshold = c.lr * T(r.l1 * s.decay);
  c.plain = clip_scale == T(1) && r.clip_value == 0 && c.l2 == T(0) && c.keep == T(1) && c.l1_threshold == T(0);
  return c;
}

template class Stepper<float>;
template class Stepper<double>;

}  // namespace descent::optim
