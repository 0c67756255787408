// Lion (sign of an interpolated momentum) and Adafactor (factored second
// moments with update clipping).
#include <cmath>

#include "descent/core/parallel.hpp"
#include "descent/core/memory.hpp"
#include "descent/optim/detail/check.hpp"
#include "descent/optim/steppers.hpp"

namespace descent::optim {

using descent::detail::for_each_index;
using descent::detail::sum_over;

void LionOptions::validate() const {
  detail::check_range(beta1, 0, 1, "LionOptions::beta1", true);
  detail::check_range(beta2, 0, 1, "LionOptions::beta2", true);
}

template <class T>
Lion<T>::Lion(Layout layout, const LionOptions& options, const Regularization& regularization)
    : Stepper<T>(std::move(layout), regularization), options_(options) {
  options_.validate();
  m_ = descent::detail::workspace_zeros<T>(this->layout_.size());
}

template <class T>
void Lion<T>::update(T* x, const T* g, T lr, T clip_scale) {
  const T b1 = T(options_.beta1), c1 = T(1 - options_.beta1), b2 = T(options_.beta2), c2 = T(1 - options_.beta2);
  for (const Segment& s : this->layout_.segments()) {
    const PassConstants<T> c = this->constants(s, lr, clip_scale);
    const T rate = c.lr;
    T* m = m_.data() + s.offset;
    elementwise_pass(s.length, x + s.offset, g + s.offset, c, [=](Index j, T xj, T gj) {
      const T interpolated = b1 * m[j] + c1 * gj;
      // sign(c), and NaN for a NaN or infinite c (c - c), so that a bad
      // gradient shows in x instead of vanishing into a sign.
      const T sign = T(interpolated > T(0)) - T(interpolated < T(0)) + (interpolated - interpolated);
      m[j] = b2 * m[j] + c2 * gj;
      return xj - rate * sign;
    });
  }
}

template <class T>
void Lion<T>::visit_method_state(StateVisitor<T>& v) {
  v.vector("exp_avg", m_);
}

void AdafactorOptions::validate() const {
  detail::check_range(beta1, 0, 1, "AdafactorOptions::beta1");
  DESCENT_REQUIRE(std::isfinite(beta2_decay) && beta2_decay < 0,
          fmt::format("AdafactorOptions::beta2_decay must be < 0; got {}", beta2_decay));
  detail::check_positive(eps1, "AdafactorOptions::eps1");
  detail::check_non_negative(eps2, "AdafactorOptions::eps2");
  detail::check_positive(clip_threshold, "AdafactorOptions::clip_threshold");
}

template <class T>
Adafactor<T>::Adafactor(Layout layout, const AdafactorOptions& options, const Regularization& regularization)
    : Stepper<T>(std::move(layout), regularization), options_(options) {
  options_.validate();
  Index rows = 0, cols = 0, elements = 0;
  for (const Segment& s : this->layout_.segments()) {
    row_offset_.push_back(rows);
    col_offset_.push_back(cols);
    vector_offset_.push_back(elements);
    if (s.is_matrix()) {
      rows += s.rows;
      cols += s.cols;
    } else {
      elements += s.length;
    }
  }
  row_ = Vector<T>::Zero(rows);
  col_ = Vector<T>::Zero(cols);
  second_ = Vector<T>::Zero(elements);
  if (options_.beta1 > 0) m_ = descent::detail::workspace_zeros<T>(this->layout_.size());
}

template <class T>
double Adafactor<T>::state_bytes_per_parameter() const {
  const double n = double(std::max<Index>(this->layout_.size(), 1));
  const double elements = double(row_.size() + col_.size() + second_.size());
  return (elements / n + (options_.beta1 > 0 ? 1.0 : 0.0)) * sizeof(T);
}

template <class T>
double Adafactor<T>::bytes_moved_per_step() const {
  // Three passes reading x and g, the last writing x (and m).
  return (7.0 + (options_.beta1 > 0 ? 2.0 : 0.0)) * sizeof(T);
}

template <class T>
void Adafactor<T>::update(T* x, const T* g, T lr, T clip_scale) {
  const double rho = 1 - std::pow(double(this->steps_), options_.beta2_decay);
  const T keep_stat = T(rho), add_stat = T(1 - rho), eps1 = T(options_.eps1);
  const T beta1 = T(options_.beta1), one_minus1 = T(1 - options_.beta1);
  for (std::size_t si = 0; si < this->layout_.segments().size(); ++si) {
    const Segment& s = this->layout_.segments()[si];
    if (s.length == 0) continue;
    const PassConstants<T> c = this->constants(s, lr, clip_scale);
    const T scale = c.clip_scale, bound = c.clip_value, l2 = c.l2;
    T* xs = x + s.offset;
    const T* gs = g + s.offset;
    // The gradient after clipping and L2, recomputed in each pass rather than stored.
    auto effective = [=](Index j) { return std::clamp(gs[j] * scale, -bound, bound) + l2 * xs[j]; };
    const Index n = s.length;

    // Pass 1: the new statistics, and RMS(x) for the relative step size.
    double x_squares = 0;
    if (s.is_matrix()) {
      T* r = row_.data() + row_offset_[si];
      T* col = col_.data() + col_offset_[si];
      for (Index k = 0; k < s.cols; ++k) col[k] *= keep_stat;
      for (Index i = 0; i < s.rows; ++i) {
        T row_sum = 0;
        for (Index k = 0; k < s.cols; ++k) {
          const Index j = i * s.cols + k;
          const T gj = effective(j), square = gj * gj + eps1;
          row_sum += square;
          col[k] += add_stat * square;
          x_squares += double(xs[j]) * double(xs[j]);
        }
        r[i] = keep_stat * r[i] + add_stat * row_sum;
      }
    } else {
      T* v = second_.data() + vector_offset_[si];
      x_squares = sum_over<double>(n, [=](Index j) {
        const T gj = effective(j);
        v[j] = keep_stat * v[j] + add_stat * (gj * gj + eps1);
        return double(xs[j]) * double(xs[j]);
      });
    }
    const double x_rms = std::sqrt(x_squares / double(n));
    const double alpha = double(c.lr) * (options_.scale_parameter ? std::max(options_.eps2, x_rms) : 1.0);

    // U = g / sqrt(V) of a matrix segment, element by element, with
    // V = R C^T / sum(R) formed on the fly.
    auto for_each_matrix_u = [&](auto&& visit) {
      const T* r = row_.data() + row_offset_[si];
      const T* col = col_.data() + col_offset_[si];
      T row_total = 0;
      for (Index i = 0; i < s.rows; ++i) row_total += r[i];
      for (Index i = 0; i < s.rows; ++i) {
        const T ri = r[i] / row_total;
        for (Index k = 0; k < s.cols; ++k) {
          const Index j = i * s.cols + k;
          visit(j, effective(j) / std::sqrt(ri * col[k]));
        }
      }
    };

    // Pass 2: RMS of the unclipped update U.
    double u_squares = 0;
    if (s.is_matrix()) {
      for_each_matrix_u([&](Index, T u) { u_squares += double(u) * double(u); });
    } else {
      const T* v = second_.data() + vector_offset_[si];
      u_squares = sum_over<double>(n, [=](Index j) {
        const T gj = effective(j);
        return double(gj * gj / v[j]);
      });
    }
    const double u_rms = std::sqrt(u_squares / double(n));
    const T clip = T(1 / std::max(1.0, u_rms / options_.clip_threshold)), step = T(alpha);

    // Pass 3: the update, with decoupled decay and the L1 prox.
    const T keep = c.keep, threshold = c.l1_threshold;
    T* m = m_.size() > 0 ? m_.data() + s.offset : nullptr;
    auto apply = [=](Index j, T u) {
      u *= clip;  // the clipped update; the first moment averages it
      if (m) {
        m[j] = beta1 * m[j] + one_minus1 * u;
        u = m[j];
      }
      const T updated = xs[j] * keep - step * u;
      xs[j] = std::copysign(std::max(std::abs(updated) - threshold, T(0)), updated);
    };
    if (s.is_matrix()) {
      for_each_matrix_u(apply);
    } else {
      const T* v = second_.data() + vector_offset_[si];
      for_each_index(n, [=](Index j) { apply(j, effective(j) / std::sqrt(v[j])); });
    }
  }
}

template <class T>
void Adafactor<T>::visit_method_state(StateVisitor<T>& v) {
  v.vector("exp_avg_sq_row", row_);
  v.vector("exp_avg_sq_col", col_);
  v.vector("exp_avg_sq", second_);
  if (m_.size() > 0) v.vector("exp_avg", m_);
}

template class Lion<float>;
template class Lion<double>;
template class Adafactor<float>;
template class Adafactor<double>;

}  // namespace descent::optim
