// Limited-memory BFGS (Nocedal, Math. Comp. 35, 1980; Liu & Nocedal, Math.
// Programming 45, 1989): the direction d = -H g comes from the two-loop
// recursion over the last m pairs (s_i, y_i), with H_0 = gamma I,
// gamma = s.y / y.y of the newest pair (Nocedal & Wright, Algorithm 7.4 and
// eq. 7.20), and a strong Wolfe search (Moré–Thuente).
//
// Each loop of the recursion is fused with the dot product the next pair
// needs, so a direction costs m + 1 passes over memory instead of 2m + 2;
// each pass is split across the OpenMP threads for large n.
// A pair with y.s <= eps y.y is skipped; the memory is cleared after a failed
// line search (then the driver retries along -g).
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "descent/core/parallel.hpp"
#include "descent/solvers/detail/line_search_method.hpp"

namespace descent {

struct LbfgsOptions {
  // m, the number of (s, y) pairs kept. 3 to 20 is usual. Range: >= 1.
  Index memory = 10;
  StrongWolfeOptions line_search;
  StopOptions stop;
};

namespace detail {

template <class T>
class LbfgsDirection {
 public:
  LbfgsDirection(Index n, Index m)
      : s_(workspace_matrix<T>(n, m)), y_(workspace_matrix<T>(n, m)), rho_(m), alpha_(m) {}

  template <class E>
  bool compute(E&, const Vector<T>&, const Vector<T>& g, Vector<T>& d) {
    if (count_ == 0) {
      d = -g;
      return true;
    }
    const Index n = g.size(), m = s_.cols();
    auto column = [&](Index age) { return (newest_ - age + m) % m; };  // age 0 = newest pair
    T* dp = d.data();

    // First loop, newest to oldest: alpha_i = rho_i s_i.q; q -= alpha_i y_i.
    // Starting from q = -g, each pass also forms the next pair's s.q.
    {
      const T* gp = g.data();
      const T* sp = s_.col(column(0)).data();
      alpha_[column(0)] = rho_[column(0)] * sum_over<T>(n, [=](Index j) {
        dp[j] = -gp[j];
        return sp[j] * dp[j];
      });
    }
    for (Index age = 0; age < count_; ++age) {
      const Index i = column(age);
      const T a = alpha_[i];
      const T* yp = y_.col(i).data();
      if (age + 1 < count_) {
        const Index next = column(age + 1);
        const T* sp = s_.col(next).data();
        alpha_[next] = rho_[next] * sum_over<T>(n, [=](Index j) {
          dp[j] -= a * yp[j];
          return sp[j] * dp[j];
        });
      } else {
        // Scale by gamma and form y_oldest.r for the second loop.
        const T gamma = gamma_;
        beta_dot_ = sum_over<T>(n, [=](Index j) {
          dp[j] = gamma * (dp[j] - a * yp[j]);
          return yp[j] * dp[j];
        });
      }
    }

    // Second loop, oldest to newest: beta = rho_i y_i.r; r += (alpha_i - beta) s_i.
    for (Index age = count_ - 1; age >= 0; --age) {
      const Index i = column(age);
      const T c = alpha_[i] - rho_[i] * beta_dot_;
      const T* sp = s_.col(i).data();
      if (age > 0) {
        const T* yn = y_.col(column(age - 1)).data();
        beta_dot_ = sum_over<T>(n, [=](Index j) {
          dp[j] += c * sp[j];
          return yn[j] * dp[j];
        });
      } else {
        for_each_index(n, [=](Index j) { dp[j] += c * sp[j]; });
      }
    }
    return false;
  }

  T initial_step(const StepContext<T>& c) const {
    return count_ == 0 ? std::min(T(1), T(1) / std::max(c.gradient_norm, T(1e-30))) : T(1);
  }

  void update(const Vector<T>& x_old, const Vector<T>& x_new, const Vector<T>& g_old, const Vector<T>& g_new, T,
              const Vector<T>&) {
    // Write the pair into the slot after the newest, then accept or drop it.
    const Index m = s_.cols();
    const Index slot = (newest_ + 1) % m;
    const Index n = x_old.size();
    T* sp = s_.col(slot).data();
    T* yp = y_.col(slot).data();
    const T *xo = x_old.data(), *xn = x_new.data(), *go = g_old.data(), *gn = g_new.data();
    const auto [sy, yy] = sum2_over<T>(n, [=](Index j, T& sy_acc, T& yy_acc) {
      sp[j] = xn[j] - xo[j];
      yp[j] = gn[j] - go[j];
      sy_acc += sp[j] * yp[j];
      yy_acc += yp[j] * yp[j];
    });
    if (!(sy > std::numeric_limits<T>::epsilon() * yy)) {
      if (count_ == m) --count_;  // the slot held the oldest pair, now overwritten
      return;
    }
    newest_ = slot;
    rho_[slot] = T(1) / sy;
    gamma_ = sy / yy;
    if (count_ < m) ++count_;
  }

  void reset() { count_ = 0; }

 private:
  Matrix<T> s_, y_;           // n x m, circular by column
  Vector<T> rho_, alpha_;     // per pair
  Index newest_ = -1;         // column of the newest pair (valid when count_ > 0)
  Index count_ = 0;           // pairs held
  T gamma_ = T(1);            // H_0 scale
  T beta_dot_ = T(0);
};

}  // namespace detail

template <class F, class X, class T = typename std::decay_t<X>::Scalar>
Result<T> lbfgs(F& f, X&& x, const LbfgsOptions& o = {}, Callback<T>* callback = nullptr) {
  DESCENT_REQUIRE(o.memory >= 1, fmt::format("LbfgsOptions::memory must be >= 1; got {}", o.memory));
  const auto rule = detail::StepRule::strong_wolfe_search(o.line_search);
  detail::LbfgsDirection<T> direction(Index(x.size()), o.memory);
  return detail::line_search_method<T>(f, VectorRef<T>(x), direction, rule, o.stop, callback, "lbfgs");
}

}  // namespace descent
