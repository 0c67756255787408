// Muon: for each matrix segment, momentum orthogonalized by a quintic
// Newton–Schulz iteration (so every singular value of the step is close to
// 1); AdamW for the other segments.
#include <cmath>

#include <Eigen/Core>

#include "descent/core/parallel.hpp"
#include "descent/core/memory.hpp"
#include "descent/optim/detail/check.hpp"
#include "descent/optim/steppers.hpp"

namespace descent::optim {

void MuonOptions::validate() const {
  detail::check_range(momentum, 0, 1, "MuonOptions::momentum");
  DESCENT_REQUIRE(ns_steps >= 1, fmt::format("MuonOptions::ns_steps must be >= 1; got {}", ns_steps));
  detail::check_range(adam_beta1, 0, 1, "MuonOptions::adam_beta1");
  detail::check_range(adam_beta2, 0, 1, "MuonOptions::adam_beta2");
  detail::check_positive(adam_eps, "MuonOptions::adam_eps");
}

// Work matrices sized for the largest matrix segment, made once so that a
// step allocates nothing of its own.
template <class T>
struct Muon<T>::Scratch {
  Vector<T> x, y, a, b;
};

template <class T>
Muon<T>::Muon(Layout layout, const MuonOptions& options, const Regularization& regularization)
    : Stepper<T>(std::move(layout), regularization), options_(options), scratch_(std::make_unique<Scratch>()) {
  options_.validate();
  // The momentum of the matrices and the moments of the rest, each packed:
  // a segment's state sits at its offset among the segments of its kind.
  Index matrix_elements = 0, other_elements = 0, largest = 0, largest_square = 0;
  for (const Segment& s : this->layout_.segments()) {
    state_offset_.push_back(s.is_matrix() ? matrix_elements : other_elements);
    if (s.is_matrix()) {
      matrix_elements += s.length;
      largest = std::max(largest, s.length);
      const Index k = std::min(s.rows, s.cols);
      largest_square = std::max(largest_square, k * k);
    } else {
      other_elements += s.length;
    }
  }
  buffer_ = descent::detail::workspace_zeros<T>(matrix_elements);
  m_ = descent::detail::workspace_zeros<T>(other_elements);
  v_ = descent::detail::workspace_zeros<T>(other_elements);
  scratch_->x.resize(largest);
  scratch_->y.resize(largest);
  scratch_->a.resize(largest_square);
  scratch_->b.resize(largest_square);
}

template <class T>
Muon<T>::~Muon() = default;

template <class T>
double Muon<T>::state_bytes_per_parameter() const {
  const double n = double(std::max<Index>(this->layout_.size(), 1));
  return double(buffer_.size() + m_.size() + v_.size()) / n * sizeof(T);
}

template <class T>
double Muon<T>::bytes_moved_per_step() const {
  // Matrices: g and the buffer read, the buffer and the work matrix written,
  // then the work matrix read (several times, cache-sized) and x updated.
  return 7.0 * sizeof(T);
}

template <class T>
void Muon<T>::update(T* x, const T* g, T lr, T clip_scale) {
  using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Map = Eigen::Map<RowMajor>;
  const T mu = T(options_.momentum);
  const bool nesterov = options_.nesterov;
  const double t = double(this->steps_);
  const double bc1 = 1 - std::pow(options_.adam_beta1, t), bc2 = 1 - std::pow(options_.adam_beta2, t);
  const T b1 = T(options_.adam_beta1), c1 = T(1 - options_.adam_beta1);
  const T b2 = T(options_.adam_beta2), c2 = T(1 - options_.adam_beta2), eps = T(options_.adam_eps);

  for (std::size_t si = 0; si < this->layout_.segments().size(); ++si) {
    const Segment& s = this->layout_.segments()[si];
    const PassConstants<T> c = this->constants(s, lr, clip_scale);
    T* xs = x + s.offset;
    const T* gs = g + s.offset;
    if (!s.is_matrix()) {
      // AdamW with torch's bias correction.
      T *m = m_.data() + state_offset_[si], *v = v_.data() + state_offset_[si];
      const T step = T(double(c.lr) / bc1), root_bc2 = T(1 / std::sqrt(bc2));
      elementwise_pass(s.length, xs, gs, c, [=](Index j, T xj, T gj) {
        const T mj = b1 * m[j] + c1 * gj, vj = b2 * v[j] + c2 * gj * gj;
        m[j] = mj;
        v[j] = vj;
        return xj - step * mj / (std::sqrt(vj) * root_bc2 + eps);
      });
      continue;
    }

    // Momentum, and the matrix to orthogonalize, with its Frobenius norm.
    T* buffer = buffer_.data() + state_offset_[si];
    T* u = scratch_->x.data();
    const T scale = c.clip_scale, bound = c.clip_value, l2 = c.l2;
    const double squares = descent::detail::sum_over<double>(s.length, [=](Index j) {
      const T gj = std::clamp(gs[j] * scale, -bound, bound) + l2 * xs[j];
      const T bj = mu * buffer[j] + gj;
      buffer[j] = bj;
      const T uj = nesterov ? gj + mu * bj : bj;
      u[j] = uj;
      return double(uj) * double(uj);
    });
    const T inverse_norm = T(1 / (std::sqrt(squares) + 1e-7));
    Map X(u, s.rows, s.cols), Y(scratch_->y.data(), s.rows, s.cols);
    X *= inverse_norm;

    // Quintic Newton–Schulz: X <- a X + (b A + c A^2) X with A = X X^T
    // (on the shorter side: X^T X and a right product for a tall X).
    constexpr T qa = T(3.4445), qb = T(-4.7750), qc = T(2.0315);
    const bool tall = s.rows > s.cols;
    const Index k = tall ? s.cols : s.rows;
    Map A(scratch_->a.data(), k, k), B(scratch_->b.data(), k, k);
    for (Index step = 0; step < options_.ns_steps; ++step) {
      if (tall) {
        A.noalias() = X.transpose() * X;
      } else {
        A.noalias() = X * X.transpose();
      }
      B.noalias() = A * A;
      B = qb * A + qc * B;
      if (tall) {
        Y.noalias() = X * B;
      } else {
        Y.noalias() = B * X;
      }
      X = qa * X + Y;
    }

    const double shape_scale = options_.rms_matching
                                   ? 0.2 * std::sqrt(double(std::max(s.rows, s.cols)))
                                   : std::sqrt(std::max(1.0, double(s.rows) / double(s.cols)));
    const T step = T(double(c.lr) * shape_scale), keep = c.keep, threshold = c.l1_threshold;
    descent::detail::for_each_index(s.length, [=](Index j) {
      const T updated = xs[j] * keep - step * u[j];
      xs[j] = std::copysign(std::max(std::abs(updated) - threshold, T(0)), updated);
    });
  }
}

template <class T>
void Muon<T>::visit_method_state(StateVisitor<T>& v) {
  if (buffer_.size() > 0) v.vector("momentum_buffer", buffer_);
  if (m_.size() > 0) {
    v.vector("exp_avg", m_);
    v.vector("exp_avg_sq", v_);
  }
}

template class Muon<float>;
template class Muon<double>;

}  // namespace descent::optim
