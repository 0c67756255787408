// Nonlinear conjugate gradient: d_k = -g_k + beta_k d_{k-1}, with a strong
// Wolfe search (c2 = 0.1 by default, as these methods need near-exact
// searches). The beta formulas, with y = g_k - g_{k-1}:
//   Fletcher–Reeves (1964):     beta = |g_k|^2 / |g_{k-1}|^2
//   Polak–Ribiere+ (Powell 1986): beta = max(0, g_k.y / |g_{k-1}|^2)
//   Hestenes–Stiefel (1952):    beta = g_k.y / d.y
//   Dai–Yuan (1999):            beta = |g_k|^2 / d.y
//   Hager–Zhang (2005):         beta = (y - 2 d |y|^2 / d.y).g_k / d.y, bounded
//                               below by -1 / (|d| min(0.01, |g_{k-1}|))
// Restarts (beta = 0) every `restart_every` iterations, and when successive
// gradients are far from orthogonal: |g_k.g_{k-1}| >= 0.2 |g_k|^2 (Powell,
// Math. Programming 12, 1977). See Nocedal & Wright, chapter 5.2.
#pragma once

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "descent/solvers/detail/line_search_method.hpp"

namespace descent {

enum class CgUpdate { fletcher_reeves, polak_ribiere_plus, hestenes_stiefel, dai_yuan, hager_zhang };

struct ConjugateGradientOptions {
  CgUpdate update = CgUpdate::polak_ribiere_plus;
  // Restart with steepest descent every this many iterations. Range: >= 0
  // (0 means every n iterations, n the number of variables).
  Index restart_every = 0;
  // Powell's restart test threshold nu in |g_k.g_{k-1}| >= nu |g_k|^2.
  // Range: >= 0 (0 disables the test).
  double restart_orthogonality = 0.2;
  StrongWolfeOptions line_search{.curvature = 0.1};
  StopOptions stop;
};

namespace detail {

template <class T>
class ConjugateDirection {
 public:
  ConjugateDirection(const ConjugateGradientOptions& o, Index n)
      : o_(o), restart_every_(o.restart_every > 0 ? o.restart_every : n), y_(n) {}

  template <class E>
  bool compute(E&, const Vector<T>&, const Vector<T>& g, Vector<T>& d) {
    if (restart_) {
      d = -g;
      restart_ = false;
      since_restart_ = 0;
      return true;
    }
    d = -g + beta_ * d;
    ++since_restart_;
    return false;
  }

  T initial_step(const StepContext<T>& c) const {
    if (c.iteration == 0) return T(1) / std::max(c.gradient_norm, T(1e-30));
    return std::min(T(1e10), c.previous_step * c.previous_gd / c.gd);
  }

  void update(const Vector<T>&, const Vector<T>&, const Vector<T>& g_old, const Vector<T>& g_new, T,
              const Vector<T>& d) {
    const T gg_old = g_old.squaredNorm();
    const T gg_new = g_new.squaredNorm();
    y_ = g_new - g_old;
    const T dy = d.dot(y_);
    T beta = T(0);
    switch (o_.update) {
      case CgUpdate::fletcher_reeves: beta = gg_new / gg_old; break;
      case CgUpdate::polak_ribiere_plus: beta = std::max(T(0), g_new.dot(y_) / gg_old); break;
      case CgUpdate::hestenes_stiefel: beta = g_new.dot(y_) / dy; break;
      case CgUpdate::dai_yuan: beta = gg_new / dy; break;
      case CgUpdate::hager_zhang: {
        const T yy = y_.squaredNorm();
        beta = (g_new.dot(y_) - T(2) * yy * d.dot(g_new) / dy) / dy;
        const T lower = T(-1) / (d.norm() * std::min(T(0.01), std::sqrt(gg_old)));
        beta = std::max(beta, lower);
        break;
      }
    }
    const bool lost_conjugacy = o_.restart_orthogonality > 0 &&
                                std::abs(g_new.dot(g_old)) >= T(o_.restart_orthogonality) * gg_new;
    restart_ = !std::isfinite(beta) || since_restart_ + 1 >= restart_every_ ||
               (lost_conjugacy && o_.update != CgUpdate::hager_zhang);
    beta_ = beta;
  }

  void reset() { restart_ = true; }

 private:
  ConjugateGradientOptions o_;
  Index restart_every_;
  Vector<T> y_;
  T beta_ = T(0);
  bool restart_ = true;
  Index since_restart_ = 0;
};

}  // namespace detail

inline const char* method_name(CgUpdate u) {
  switch (u) {
    case CgUpdate::fletcher_reeves: return "cg-fr";
    case CgUpdate::polak_ribiere_plus: return "cg-pr";
    case CgUpdate::hestenes_stiefel: return "cg-hs";
    case CgUpdate::dai_yuan: return "cg-dy";
    case CgUpdate::hager_zhang: return "cg-hz";
  }
  return "cg";
}

template <class F, class X, class T = typename std::decay_t<X>::Scalar>
Result<T> conjugate_gradient(F& f, X&& x, const ConjugateGradientOptions& o = {}, Callback<T>* callback = nullptr) {
  DESCENT_REQUIRE(o.restart_every >= 0,
          fmt::format("ConjugateGradientOptions::restart_every must be >= 0; got {}", o.restart_every));
  DESCENT_REQUIRE(o.restart_orthogonality >= 0,
          fmt::format("ConjugateGradientOptions::restart_orthogonality must be >= 0; got {}", o.restart_orthogonality));
  const auto rule = detail::StepRule::strong_wolfe_search(o.line_search);
  detail::ConjugateDirection<T> direction(o, Index(x.size()));
  return detail::line_search_method<T>(f, VectorRef<T>(x), direction, rule, o.stop, callback, method_name(o.update));
}

}  // namespace descent
