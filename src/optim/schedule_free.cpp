// Schedule-free SGD and AdamW in the memory-efficient form: x holds y, the
// point where gradients are taken; z is the state; the averaged iterate is
// reconstructed on demand.
#include <cmath>

#include "descent/core/parallel.hpp"
#include "descent/core/memory.hpp"
#include "descent/optim/detail/check.hpp"
#include "descent/optim/steppers.hpp"

namespace descent::optim {

void ScheduleFreeOptions::validate() const {
  DESCENT_REQUIRE(std::isfinite(beta1) && beta1 > 0 && beta1 <= 1,
          fmt::format("ScheduleFreeOptions::beta1 must be in (0, 1]; got {}", beta1));
  detail::check_range(beta2, 0, 1, "ScheduleFreeOptions::beta2");
  detail::check_positive(eps, "ScheduleFreeOptions::eps");
  detail::check_non_negative(weight_decay, "ScheduleFreeOptions::weight_decay");
  detail::check_non_negative(r, "ScheduleFreeOptions::r");
  detail::check_non_negative(weight_lr_power, "ScheduleFreeOptions::weight_lr_power");
}

template <class T>
ScheduleFree<T>::ScheduleFree(Layout layout, ConstVectorRef<T> x0, const ScheduleFreeOptions& options,
                              const Regularization& regularization)
    : Stepper<T>(std::move(layout), regularization), options_(options) {
  options_.validate();
  DESCENT_REQUIRE(x0.size() == this->layout_.size(),
          fmt::format("{}: x0 has {} elements; the layout has {}", name(), x0.size(), this->layout_.size()));
  z_ = descent::detail::workspace_vector<T>(x0.size());
  z_ = x0;
  if (options_.adam) v_ = descent::detail::workspace_zeros<T>(this->layout_.size());
}

template <class T>
void ScheduleFree<T>::evaluation_point(ConstVectorRef<T> x, VectorRef<T> out) const {
  DESCENT_REQUIRE(x.size() == z_.size() && out.size() == z_.size(),
          fmt::format("{}: evaluation_point needs vectors of {} elements", name(), z_.size()));
  const T beta = T(options_.beta1);
  out = (x - (T(1) - beta) * z_) / beta;
}

template <class T>
void ScheduleFree<T>::update(T* x, const T* g, T lr, T clip_scale) {
  const double t = double(this->steps_);
  // The Adam form warms its step up with the bias correction of v.
  const double rate = options_.adam ? double(lr) * std::sqrt(1 - std::pow(options_.beta2, t)) : double(lr);
  lr_max_ = std::max(lr_max_, rate);
  const double weight = std::pow(t, options_.r) * std::pow(lr_max_, options_.weight_lr_power);
  weight_sum_ += weight;
  const double ckp1 = weight_sum_ > 0 ? weight / weight_sum_ : 0.0;
  y_weight_on_z_ = 1 - options_.beta1 * (1 - ckp1);
  const T c = T(ckp1), beta = T(options_.beta1);
  const T beta2 = T(options_.beta2), one_minus2 = T(1 - options_.beta2), eps = T(options_.eps);
  const T decay = T(options_.weight_decay);
  for (const Segment& s : this->layout_.segments()) {
    // Segment learning-rate multipliers scale both sequences' steps.
    const PassConstants<T> pc = this->constants(s, lr, clip_scale);
    const T step = T(rate * s.lr_scale), y_coefficient = step * (beta * (T(1) - c) - T(1));
    T* z = z_.data() + s.offset;
    if (!options_.adam) {
      elementwise_pass(s.length, x + s.offset, g + s.offset, pc, [=](Index j, T yj, T gj) {
        const T zj = z[j];
        z[j] = zj - step * gj;
        return yj + c * (zj - yj) + y_coefficient * gj;
      });
    } else {
      T* v = v_.data() + s.offset;
      const T segment_decay = decay * T(s.decay);
      elementwise_pass(s.length, x + s.offset, g + s.offset, pc, [=](Index j, T yj, T gj) {
        const T vj = beta2 * v[j] + one_minus2 * gj * gj;
        v[j] = vj;
        const T u = gj / (std::sqrt(vj) + eps) + segment_decay * yj;
        const T zj = z[j];
        z[j] = zj - step * u;
        return yj + c * (zj - yj) + y_coefficient * u;
      });
    }
  }
}

template <class T>
void ScheduleFree<T>::projection_changed() {
  z_before_ = this->projection().empty() ? Vector<T>() : descent::detail::workspace_vector<T>(z_.size());
}

// y_{t+1} = (1 - beta) z_{t+1} + beta x_{t+1} with x_{t+1} = (1 - c) x_t +
// c z_{t+1}: y moves by 1 - beta (1 - c) times any change of z_{t+1}. So
// projecting z keeps z, the averaged x and y in the (convex) set.
template <class T>
void ScheduleFree<T>::project(T* x) {
  const Index n = z_.size();
  T* z = z_.data();
  T* before = z_before_.data();
  descent::detail::for_each_index(n, [=](Index j) { before[j] = z[j]; });
  this->projection().apply(VectorRef<T>(z_));
  const T weight = T(y_weight_on_z_);
  descent::detail::for_each_index(n, [=](Index j) { x[j] += weight * (z[j] - before[j]); });
}

template <class T>
void ScheduleFree<T>::visit_method_state(StateVisitor<T>& v) {
  v.vector("z", z_);
  if (options_.adam) v.vector("exp_avg_sq", v_);
  v.scalar("weight_sum", weight_sum_);
  v.scalar("lr_max", lr_max_);
}

template class ScheduleFree<float>;
template class ScheduleFree<double>;

}  // namespace descent::optim
