// Gradient descent: x_{k+1} = x_k - alpha_k g_k, with the step alpha_k
//  - fixed (the learning rate of the textbooks),
//  - from an Armijo backtracking search, first trial by Nocedal & Wright
//    eq. 3.60 (alpha_{k-1} g_{k-1}.d_{k-1} / g_k.d_k),
//  - or Barzilai–Borwein: alpha_k = s.s / s.y (IMA J. Numer. Anal. 8, 1988),
//    made global by the non-monotone Armijo search of Raydan (SIAM J. Optim.
//    7(1), 1997).
// Glossary: s = x_k - x_{k-1}, y = g_k - g_{k-1}.
#pragma once

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "descent/solvers/detail/line_search_method.hpp"

namespace descent {

enum class GradientStep { fixed, armijo, barzilai_borwein };

struct GradientDescentOptions {
  GradientStep step = GradientStep::armijo;
  // The step of GradientStep::fixed. Range: > 0.
  double step_size = 1e-3;
  // The search of GradientStep::armijo and ::barzilai_borwein.
  BacktrackingOptions line_search;
  // Values the non-monotone search of Barzilai–Borwein compares against
  // (Raydan's M). Range: >= 1.
  Index nonmonotone_memory = 10;
  StopOptions stop;
};

namespace detail {

template <class T>
class SteepestDirection {
 public:
  explicit SteepestDirection(GradientStep step) : step_(step) {}

  template <class E>
  bool compute(E&, const Vector<T>&, const Vector<T>& g, Vector<T>& d) {
    d = -g;
    return true;
  }

  T initial_step(const StepContext<T>& c) const {
    if (c.iteration == 0 || (step_ == GradientStep::barzilai_borwein && !(bb_step_ > T(0))))
      return T(1) / std::max(c.gradient_norm, T(1e-30));
    if (step_ == GradientStep::barzilai_borwein) return bb_step_;
    return std::min(T(1e10), c.previous_step * c.previous_gd / c.gd);
  }

  void update(const Vector<T>&, const Vector<T>&, const Vector<T>& g_old, const Vector<T>& g_new, T alpha,
              const Vector<T>& d) {
    if (step_ != GradientStep::barzilai_borwein) return;
    // s = alpha d, so s.s = alpha^2 d.d and s.y = alpha (d.g_new - d.g_old).
    const T ss = alpha * alpha * d.squaredNorm();
    const T sy = alpha * (d.dot(g_new) - d.dot(g_old));
    bb_step_ = sy > T(0) ? std::clamp(ss / sy, T(1e-10), T(1e10)) : T(0);
  }

  void reset() { bb_step_ = T(0); }

 private:
  GradientStep step_;
  T bb_step_ = T(0);
};

}  // namespace detail

template <class F, class X, class T = typename std::decay_t<X>::Scalar>
Result<T> gradient_descent(F& f, X&& x, const GradientDescentOptions& o = {}, Callback<T>* callback = nullptr) {
  DESCENT_REQUIRE(o.step_size > 0, fmt::format("GradientDescentOptions::step_size must be > 0; got {}", o.step_size));
  DESCENT_REQUIRE(o.nonmonotone_memory >= 1,
          fmt::format("GradientDescentOptions::nonmonotone_memory must be >= 1; got {}", o.nonmonotone_memory));
  detail::StepRule rule;
  rule.fixed_step = o.step_size;
  rule.backtracking = o.line_search;
  rule.nonmonotone_memory = o.nonmonotone_memory;
  rule.kind = o.step == GradientStep::fixed    ? detail::StepRule::Kind::fixed
              : o.step == GradientStep::armijo ? detail::StepRule::Kind::armijo
                                               : detail::StepRule::Kind::nonmonotone_armijo;
  detail::SteepestDirection<T> direction(o.step);
  const char* name = o.step == GradientStep::fixed ? "gd" : o.step == GradientStep::armijo ? "gd-armijo" : "gd-bb";
  return detail::line_search_method<T>(f, VectorRef<T>(x), direction, rule, o.stop, callback, name);
}

}  // namespace descent
