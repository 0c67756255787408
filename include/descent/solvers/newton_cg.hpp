// Newton-CG (truncated Newton, line-search form; Nocedal & Wright,
// Algorithm 7.1): the Newton equations H d = -g are solved approximately by
// conjugate gradients, stopping when the residual |H d + g| falls below
// eta_k |g| with eta_k = min(0.5, sqrt(|g|)) (superlinear convergence), or
// at the first direction of non-positive curvature (then the iterate so
// far, or -g on the first inner step). Only Hessian-vector products are
// needed: the objective's own, else forward differences of gradients.
// Glossary: z the inner iterate, r = H z + g the residual, p the inner
// search direction.
#pragma once

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "descent/solvers/detail/line_search_method.hpp"

namespace descent {

struct NewtonCgOptions {
  StrongWolfeOptions line_search;
  // Inner CG iterations per outer iteration. Range: >= 0 (0 means n).
  Index max_inner_iterations = 0;
  // Upper bound on the forcing term eta_k. Range: (0, 1).
  double max_forcing = 0.5;
  StopOptions stop;
};

namespace detail {

template <class T>
class NewtonCgDirection {
 public:
  NewtonCgDirection(Index n, const NewtonCgOptions& o)
      : z_(workspace_vector<T>(n)),
        r_(workspace_vector<T>(n)),
        p_(workspace_vector<T>(n)),
        hp_(workspace_vector<T>(n)),
        max_inner_(o.max_inner_iterations > 0 ? o.max_inner_iterations : n),
        max_forcing_(o.max_forcing) {}

  template <class E>
  bool compute(E& eval, const Vector<T>& x, const Vector<T>& g, Vector<T>& d) {
    const T gnorm = g.norm();
    const T tolerance = std::min(T(max_forcing_), std::sqrt(gnorm)) * gnorm;
    z_.setZero();
    r_ = g;
    p_ = -g;
    T rr = gnorm * gnorm;
    for (Index j = 0; j < max_inner_; ++j) {
      eval.hessian_vector(x, g, p_, hp_);
      const T curvature = p_.dot(hp_);
      if (!(curvature > T(0))) {
        // Non-positive curvature: stop with what we have.
        if (j == 0) {
          d = -g;
          return true;
        }
        break;
      }
      const T alpha = rr / curvature;
      z_ += alpha * p_;
      r_ += alpha * hp_;
      const T rr_new = r_.squaredNorm();
      if (std::sqrt(rr_new) <= tolerance) break;
      p_ = -r_ + (rr_new / rr) * p_;
      rr = rr_new;
    }
    d = z_;
    return false;
  }

  T initial_step(const StepContext<T>&) const { return T(1); }
  void update(const Vector<T>&, const Vector<T>&, const Vector<T>&, const Vector<T>&, T, const Vector<T>&) {}
  void reset() {}

 private:
  Vector<T> z_, r_, p_, hp_;
  Index max_inner_;
  double max_forcing_;
};

}  // namespace detail

template <class F, class X, class T = typename std::decay_t<X>::Scalar>
Result<T> newton_cg(F& f, X&& x, const NewtonCgOptions& o = {}, Callback<T>* callback = nullptr) {
  DESCENT_REQUIRE(o.max_inner_iterations >= 0,
          fmt::format("NewtonCgOptions::max_inner_iterations must be >= 0; got {}", o.max_inner_iterations));
  DESCENT_REQUIRE(o.max_forcing > 0 && o.max_forcing < 1,
          fmt::format("NewtonCgOptions::max_forcing must be in (0, 1); got {}", o.max_forcing));
  const auto rule = detail::StepRule::strong_wolfe_search(o.line_search);
  detail::NewtonCgDirection<T> direction(Index(x.size()), o);
  return detail::line_search_method<T>(f, VectorRef<T>(x), direction, rule, o.stop, callback, "newton-cg");
}

}  // namespace descent
