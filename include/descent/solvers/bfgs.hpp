// BFGS with a dense inverse-Hessian approximation H (Nocedal & Wright,
// Algorithm 6.1): d = -H g, a strong Wolfe search, then
//   H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T,   rho = 1 / y.s,
// applied as a rank-two update in O(n^2). Before the first update H is
// scaled to (y.s / y.y) I (eq. 6.20). An update with y.s <= eps |s| |y| is
// skipped, which keeps H positive definite.
// Memory: n^2 values; use L-BFGS beyond a few thousand variables.
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>

#include "descent/solvers/detail/line_search_method.hpp"

namespace descent {

struct BfgsOptions {
  StrongWolfeOptions line_search;
  // Scale H_0 by y.s / y.y before the first update. Default on (N&W 6.20).
  bool scale_initial = true;
  StopOptions stop;
};

namespace detail {

// Refuses an n x n matrix that cannot be held, before allocating it.
template <class T>
void require_dense_fits(Index n, const char* method) {
  constexpr double kLimitBytes = 16.0 * (1ull << 30);
  const double bytes = double(n) * double(n) * sizeof(T);
  DESCENT_REQUIRE(bytes <= kLimitBytes,
          fmt::format("{} needs a dense {} x {} matrix ({:.1f} GiB), more than the {:.0f} GiB limit; "
                      "use lbfgs, newton-cg or trust-region for this size",
                      method, n, n, bytes / double(1ull << 30), kLimitBytes / double(1ull << 30)));
}

template <class T>
class BfgsDirection {
 public:
  BfgsDirection(Index n, bool scale_initial)
      : h_(Matrix<T>::Identity(n, n)), s_(n), y_(n), hy_(n), scale_initial_(scale_initial) {}

  template <class E>
  bool compute(E&, const Vector<T>&, const Vector<T>& g, Vector<T>& d) {
    if (fresh_) {
      d = -g;
      return true;
    }
    d.noalias() = -(h_.template selfadjointView<Eigen::Lower>() * g);
    return false;
  }

  T initial_step(const StepContext<T>& c) const {
    return fresh_ ? std::min(T(1), T(1) / std::max(c.gradient_norm, T(1e-30))) : T(1);
  }

  void update(const Vector<T>& x_old, const Vector<T>& x_new, const Vector<T>& g_old, const Vector<T>& g_new, T,
              const Vector<T>&) {
    s_ = x_new - x_old;
    y_ = g_new - g_old;
    const T sy = s_.dot(y_);
    if (!(sy > std::numeric_limits<T>::epsilon() * s_.norm() * y_.norm())) return;
    if (fresh_) {
      h_.setIdentity();
      if (scale_initial_) h_ *= sy / y_.squaredNorm();
      fresh_ = false;
    }
    // H += ((sy + y.Hy) / sy^2) s s^T - (Hy s^T + s Hy^T) / sy, lower triangle only.
    hy_.noalias() = h_.template selfadjointView<Eigen::Lower>() * y_;
    const T yhy = y_.dot(hy_);
    auto lower = h_.template selfadjointView<Eigen::Lower>();
    lower.rankUpdate(s_, (sy + yhy) / (sy * sy));
    lower.rankUpdate(hy_, s_, T(-1) / sy);
  }

  void reset() { fresh_ = true; }

 private:
  Matrix<T> h_;
  Vector<T> s_, y_, hy_;
  bool scale_initial_;
  bool fresh_ = true;
};

}  // namespace detail

template <class F, class X, class T = typename std::decay_t<X>::Scalar>
Result<T> bfgs(F& f, X&& x, const BfgsOptions& o = {}, Callback<T>* callback = nullptr) {
  detail::require_dense_fits<T>(Index(x.size()), "bfgs");
  const auto rule = detail::StepRule::strong_wolfe_search(o.line_search);
  detail::BfgsDirection<T> direction(Index(x.size()), o.scale_initial);
  return detail::line_search_method<T>(f, VectorRef<T>(x), direction, rule, o.stop, callback, "bfgs");
}

}  // namespace descent
