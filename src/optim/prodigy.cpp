// Prodigy: Adam with a step size lr * d, where d estimates the distance from
// the start to the solution, grown from d0 by the ratio of two running sums
// (Mishchenko & Defazio 2023). Two passes: one forms the sums and the
// moments, one moves x with the new d.
#include <cmath>

#include "descent/core/parallel.hpp"
#include "descent/core/memory.hpp"
#include "descent/optim/detail/check.hpp"
#include "descent/optim/steppers.hpp"

namespace descent::optim {

void ProdigyOptions::validate() const {
  detail::check_range(beta1, 0, 1, "ProdigyOptions::beta1");
  detail::check_range(beta2, 0, 1, "ProdigyOptions::beta2");
  DESCENT_REQUIRE(beta3 == -1 || (std::isfinite(beta3) && beta3 >= 0 && beta3 < 1),
          fmt::format("ProdigyOptions::beta3 must be in [0, 1) or -1 (sqrt(beta2)); got {}", beta3));
  detail::check_positive(eps, "ProdigyOptions::eps");
  detail::check_non_negative(weight_decay, "ProdigyOptions::weight_decay");
  detail::check_positive(d0, "ProdigyOptions::d0");
  detail::check_positive(d_coef, "ProdigyOptions::d_coef");
  DESCENT_REQUIRE(growth_rate >= 1, fmt::format("ProdigyOptions::growth_rate must be >= 1; got {}", growth_rate));
}

template <class T>
Prodigy<T>::Prodigy(Layout layout, ConstVectorRef<T> x0, const ProdigyOptions& options,
                    const Regularization& regularization)
    : Stepper<T>(std::move(layout), regularization), options_(options), d_(options.d0), d_max_(options.d0) {
  options_.validate();
  const Index n = this->layout_.size();
  DESCENT_REQUIRE(x0.size() == n, fmt::format("prodigy: x0 has {} elements; the layout has {}", x0.size(), n));
  x0_ = descent::detail::workspace_vector<T>(x0.size());
  x0_ = x0;
  s_ = descent::detail::workspace_zeros<T>(n);
  m_ = descent::detail::workspace_zeros<T>(n);
  v_ = descent::detail::workspace_zeros<T>(n);
}

template <class T>
void Prodigy<T>::update(T* x, const T* g, T lr, T clip_scale) {
  const double beta3 = options_.beta3 == -1 ? std::sqrt(options_.beta2) : options_.beta3;
  const double d = d_, d0 = options_.d0;
  const T b1 = T(options_.beta1), b2 = T(options_.beta2), b3 = T(beta3);
  const T m_scale = T(d * (1 - options_.beta1)), v_scale = T(d * d * (1 - options_.beta2));

  // Pass 1, per segment (each with its own lr): the moments, s, and the two sums.
  double numerator = 0, denominator = 0;
  for (const Segment& seg : this->layout_.segments()) {
    const PassConstants<T> c = this->constants(seg, lr, clip_scale);
    const double dlr = d * double(c.lr);
    const T s_scale = T(d / d0 * dlr);
    const T scale = c.clip_scale, bound = c.clip_value, l2 = c.l2;
    const T* gs = g + seg.offset;
    const T* xs = x + seg.offset;
    const T* x0 = x0_.data() + seg.offset;
    T *m = m_.data() + seg.offset, *v = v_.data() + seg.offset, *s = s_.data() + seg.offset;
    const auto [dot, abs_sum] = descent::detail::sum2_over<double>(seg.length, [=](Index j, double& a, double& b) {
      const T gj = std::clamp(gs[j] * scale, -bound, bound) + l2 * xs[j];
      a += double(gj) * double(x0[j] - xs[j]);
      m[j] = b1 * m[j] + m_scale * gj;
      v[j] = b2 * v[j] + v_scale * gj * gj;
      const T sj = b3 * s[j] + s_scale * gj;
      s[j] = sj;
      b += double(std::abs(sj));
    });
    numerator += d / d0 * dlr * dot;
    denominator += abs_sum;
  }
  d_numerator_ = beta3 * d_numerator_ + numerator;
  if (denominator == 0) return;  // a zero gradient so far: nothing to learn from, no step

  const double d_hat = options_.d_coef * d_numerator_ / denominator;
  if (d_ == d0) d_ = std::max(d_, d_hat);
  d_max_ = std::max(d_max_, d_hat);
  d_ = std::min(d_max_, d_ * options_.growth_rate);

  // Pass 2: the step, with the new d in eps's place and the old d in dlr.
  const T eps_d = T(options_.eps * d_);
  for (const Segment& seg : this->layout_.segments()) {
    const PassConstants<T> c = this->constants(seg, lr, clip_scale);
    const double dlr = d * double(c.lr);
    const T step = T(dlr), keep = T(1 - options_.weight_decay * seg.decay * dlr) * c.keep;
    const T threshold = c.l1_threshold;
    T* xs = x + seg.offset;
    const T *m = m_.data() + seg.offset, *v = v_.data() + seg.offset;
    descent::detail::for_each_index(seg.length, [=](Index j) {
      const T updated = xs[j] * keep - step * m[j] / (std::sqrt(v[j]) + eps_d);
      xs[j] = std::copysign(std::max(std::abs(updated) - threshold, T(0)), updated);
    });
  }
}

template <class T>
void Prodigy<T>::visit_method_state(StateVisitor<T>& v) {
  v.vector("p0", x0_);
  v.vector("s", s_);
  v.vector("exp_avg", m_);
  v.vector("exp_avg_sq", v_);
  v.scalar("d", d_);
  v.scalar("d_max", d_max_);
  v.scalar("d_numerator", d_numerator_);
}

template class Prodigy<float>;
template class Prodigy<double>;

}  // namespace descent::optim
