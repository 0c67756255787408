// Internal: the L-BFGS-B iteration (see solvers/lbfgsb.hpp for the method
// and its references).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace descent {
namespace detail {

template <class T, class F>
class LbfgsbRun {
 public:
  LbfgsbRun(F& f, const Bounds& bounds, const LbfgsbOptions& o, Callback<T>* callback, Index n)
      : options_(o), bounds_(bounds), monitor_("lbfgsb", o.stop, callback, n), eval_(f), n_(n),
        bfgs_(n, o.memory), lo_(workspace_vector<T>(n)), hi_(workspace_vector<T>(n)), x_(workspace_vector<T>(n)),
        g_(workspace_vector<T>(n)), xc_(workspace_vector<T>(n)), d_(workspace_vector<T>(n)),
        r_(workspace_vector<T>(n)), x_trial_(workspace_vector<T>(n)), g_trial_(workspace_vector<T>(n)),
        t_(workspace_vector<T>(n)), free_(std::size_t(n), 1), breaks_(std::size_t(n)), p_(2 * o.memory),
        c_(2 * o.memory), w_(2 * o.memory), u_(2 * o.memory) {
    for (Index i = 0; i < n; ++i) {
      lo_[i] = T(bounds.lower[i]);
      hi_[i] = T(bounds.upper[i]);
      if (std::isfinite(bounds.lower[i]) || std::isfinite(bounds.upper[i])) constrained_ = true;
      if (!std::isfinite(bounds.lower[i]) || !std::isfinite(bounds.upper[i])) boxed_ = false;
    }
  }

  Result<T> run(VectorRef<T> x_io) {
    monitor_.set_gradient_label("projected gradient");
    auto counts = [&] { return Counts{eval_.value_evaluations, eval_.gradient_evaluations, 0}; };
    project(x_io, x_);
    T fx = eval_.value_and_gradient(x_, g_);
    T pg = projected_gradient_norm();
    auto finish = [&](Status s, Index k) {
      x_io = x_;
      Result<T> r = monitor_.finish(s, x_, fx, pg, k, counts());
      ActiveBounds active = active_bounds(bounds_, x_);
      r.active_lower = std::move(active.lower);
      r.active_upper = std::move(active.upper);
      return r;
    };
    if (auto s = monitor_.start(x_, fx, pg, counts())) return finish(*s, 0);

    Index completed = 0;  // accepted iterations
    for (Index k = 1;; ++k) {
      // 1-2: the Cauchy point and the subspace step give x_bar (in xc_).
      if (!search_point()) {
        bfgs_.reset();  // a factor of the subspace system was not positive definite
        --k;
        continue;
      }
      // d = x_bar - x.
      const T gd = direction();
      if (!(gd < T(0))) {
        if (bfgs_.count() > 0) {  // the model misleads: forget it and retry
          bfgs_.reset();
          --k;
          continue;
        }
        monitor_.set_reason(fmt::format("no descent direction at iteration {} (projected gradient {:.3g})", k,
                                        double(pg)));
        return finish(Status::line_search_failed, completed);
      }

      // 3: a Moré–Thuente search along d, capped where the first bound is met.
      const T max_step = constrained_ ? (completed == 0 ? T(1) : feasible_step()) : T(1e10);
      const T first_step = (completed == 0 && !boxed_) ? std::min(T(1) / d_.norm(), max_step) : T(1);
      StrongWolfeOptions wolfe = options_.line_search;
      wolfe.max_step = double(std::max(max_step, T(1)));
      wolfe.min_step = std::min(wolfe.min_step, 1e-20);
      auto phi = [&](T alpha) {
        trial_point(alpha);
        const T ft = eval_.value_and_gradient(x_trial_, g_trial_);
        return LinePoint<T>{ft, dot(g_trial_, d_)};
      };
      const LineSearchResult<T> ls = strong_wolfe_search(phi, LinePoint<T>{fx, gd}, first_step, wolfe);
      const bool accepted = ls.ok() || ((ls.status == LineSearchStatus::step_at_maximum ||
                                         ls.status == LineSearchStatus::interval_too_small) &&
                                        ls.point.finite() && ls.point.value < fx);
      if (!accepted) {
        if (bfgs_.count() > 0) {
          bfgs_.reset();
          --k;
          continue;
        }
        monitor_.set_reason(fmt::format("{} at iteration {} (projected gradient {:.3g})", ls.describe(), k,
                                        double(pg)));
        if (ls.status == LineSearchStatus::non_finite) monitor_.set_diverged_at(k);
        return finish(ls.status == LineSearchStatus::non_finite ? Status::diverged : Status::line_search_failed,
                      completed);
      }

      // Learn from the step and move.
      if (bfgs_.update(x_.data(), x_trial_.data(), g_.data(), g_trial_.data()) && !bfgs_.factor_middle())
        bfgs_.reset();
      const T f_prev = fx;
      fx = ls.point.value;
      const T step_norm = (options_.stop.step_tolerance > 0) ? distance(x_, x_trial_) : T(0);
      x_.swap(x_trial_);
      g_.swap(g_trial_);
      pg = projected_gradient_norm();
      completed = k;
      if (auto s = monitor_.iterate(k, x_, f_prev, fx, pg, ls.step, step_norm, counts())) return finish(*s, k);
    }
  }

 private:
  void project(ConstVectorRef<T> in, Vector<T>& out) const {
    for (Index i = 0; i < n_; ++i) out[i] = std::clamp(in[i], lo_[i], hi_[i]);
  }

  // ||P(x - g) - x||_inf.
  T projected_gradient_norm() const {
    const T *x = x_.data(), *g = g_.data(), *lo = lo_.data(), *hi = hi_.data();
    T worst = 0;
    const Index n = n_;
    auto moved = [=](Index i) { return std::abs(std::min(std::max(x[i] - g[i], lo[i]), hi[i]) - x[i]); };
    if (worth_threads(n)) {  // an OpenMP region allocates even on one thread: branch outside it
#pragma omp parallel for simd schedule(static) reduction(max : worst)
      for (Index i = 0; i < n; ++i) worst = std::max(worst, moved(i));
    } else {
#pragma omp simd reduction(max : worst)
      for (Index i = 0; i < n; ++i) worst = std::max(worst, moved(i));
    }
    return worst;
  }

  static T distance(const Vector<T>& a, const Vector<T>& b) {
    const T *ap = a.data(), *bp = b.data();
    return std::sqrt(sum_over<T>(a.size(), [=](Index j) { return (ap[j] - bp[j]) * (ap[j] - bp[j]); }));
  }

  // x_trial = P(x + alpha d); the projection only guards against rounding,
  // since alpha stays below the feasible step.
  void trial_point(T alpha) {
    T* out = x_trial_.data();
    const T *x = x_.data(), *d = d_.data(), *lo = lo_.data(), *hi = hi_.data();
    if (constrained_)
      for_each_index(n_, [=](Index j) { out[j] = std::min(std::max(x[j] + alpha * d[j], lo[j]), hi[j]); });
    else
      for_each_index(n_, [=](Index j) { out[j] = x[j] + alpha * d[j]; });
  }

  // The largest step along d that stays in the box (the Fortran code's stpmx).
  T feasible_step() const {
    T step = T(1e10);
    for (Index i = 0; i < n_; ++i) {
      const T di = d_[i];
      if (di < T(0) && std::isfinite(lo_[i])) step = std::min(step, std::max((lo_[i] - x_[i]) / di, T(0)));
      else if (di > T(0) && std::isfinite(hi_[i])) step = std::min(step, std::max((hi_[i] - x_[i]) / di, T(0)));
    }
    return step;
  }

  // d = x_bar - x (x_bar in xc_); returns g.d.
  T direction() {
    T* d = d_.data();
    const T *xb = xc_.data(), *x = x_.data(), *g = g_.data();
    return sum_over<T>(n_, [=](Index j) {
      d[j] = xb[j] - x[j];
      return g[j] * d[j];
    });
  }

  // x_bar into xc_: the Cauchy point, then the subspace step. False when the
  // subspace system could not be factored.
  bool search_point() {
    if (!constrained_ && bfgs_.count() > 0) {
      // No bound can be met: the Cauchy point is x itself, every variable is
      // free, and the subspace step is the L-BFGS step -B^-1 g.
      xc_ = x_;
      std::fill(c_.data(), c_.data() + 2 * bfgs_.count(), T(0));
      return subspace_step(n_);
    }
    const Index free_count = cauchy_point();
    if (bfgs_.count() == 0 || free_count == 0) return true;
    return subspace_step(free_count);
  }

  // The generalized Cauchy point (BLNZ Algorithm CP) into xc_, c_ and free_;
  // returns the number of free variables.
  Index cauchy_point() {
    const Index k = bfgs_.count();
    const T theta = bfgs_.theta();
    // Breakpoints t_i where x_i - t g_i meets its bound; d = -g on the
    // variables that can move.
    Index nbreak = 0, moving_unbounded = 0, free_count = 0;
    for (Index i = 0; i < n_; ++i) {
      const T gi = g_[i], xi = x_[i];
      T tb = std::numeric_limits<T>::infinity();
      if (gi < T(0) && std::isfinite(hi_[i])) tb = (xi - hi_[i]) / gi;
      else if (gi > T(0) && std::isfinite(lo_[i])) tb = (xi - lo_[i]) / gi;
      xc_[i] = xi;
      if (lo_[i] == hi_[i] || tb <= T(0)) {
        d_[i] = T(0);
        free_[std::size_t(i)] = 0;
        continue;
      }
      d_[i] = -gi;
      free_[std::size_t(i)] = 1;
      ++free_count;
      t_[i] = tb;
      if (std::isfinite(tb)) breaks_[std::size_t(nbreak++)] = i;
      else if (gi != T(0)) ++moving_unbounded;
    }
    // p = W^T d; c = 0; f1 = g.d = -d.d; f2 = d^T B d.
    T* p = p_.data();
    T* c = c_.data();
    for (Index a = 0; a < k; ++a) {
      const T *ya = bfgs_.y(a), *sa = bfgs_.s(a), *d = d_.data();
      const auto [yd, sd] = sum2_over<T>(n_, [=](Index j, T& yacc, T& sacc) {
        yacc += ya[j] * d[j];
        sacc += sa[j] * d[j];
      });
      p[a] = yd;
      p[k + a] = theta * sd;
    }
    std::fill(c, c + 2 * k, T(0));
    T f1 = -d_.squaredNorm();
    if (f1 == T(0)) return free_count;
    T f2 = -theta * f1 - middle_form(p, p);
    const T f2_floor = std::numeric_limits<T>::epsilon() * f2;
    T dtm = -f1 / f2, t_old = 0;

    // Visit the breakpoints in increasing order while the minimizer along
    // the current segment lies beyond its end.
    auto later = [&](Index a, Index b) { return t_[a] > t_[b]; };
    std::make_heap(breaks_.begin(), breaks_.begin() + nbreak, later);
    Index left = nbreak;
    while (left > 0) {
      std::pop_heap(breaks_.begin(), breaks_.begin() + left, later);
      const Index b = breaks_[std::size_t(--left)];
      const T dt = t_[b] - t_old;
      if (dtm < dt) break;
      // x_b reaches its bound and leaves the free set.
      const T bound = d_[b] > T(0) ? hi_[b] : lo_[b];
      const T zb = bound - x_[b], gb = g_[b];
      xc_[b] = bound;
      d_[b] = T(0);
      free_[std::size_t(b)] = 0;
      --free_count;
      for (Index a = 0; a < 2 * k; ++a) c[a] += dt * p[a];
      T wmc = 0, wmp = 0, wmw = 0;
      if (k > 0) {
        bfgs_.w_row(b, w_.data());
        bfgs_.middle_times(w_.data(), u_.data());
        for (Index a = 0; a < 2 * k; ++a) {
          wmc += u_[a] * c[a];
          wmp += u_[a] * p[a];
          wmw += u_[a] * w_[a];
        }
      }
      f1 += dt * f2 + gb * gb + theta * gb * zb - gb * wmc;
      f2 -= theta * gb * gb + T(2) * gb * wmp + gb * gb * wmw;
      f2 = std::max(f2_floor, f2);
      for (Index a = 0; a < 2 * k; ++a) p[a] += gb * w_[a];
      t_old = t_[b];
      dtm = (left == 0 && moving_unbounded == 0) ? T(0) : -f1 / f2;
    }
    dtm = std::max(dtm, T(0));
    t_old += dtm;
    for (Index i = 0; i < n_; ++i)
      if (d_[i] != T(0)) xc_[i] = x_[i] + t_old * d_[i];
    for (Index a = 0; a < 2 * k; ++a) c[a] += dtm * p[a];
    return free_count;
  }

  // a^T M b for vectors of length 2k.
  T middle_form(const T* a, const T* b) {
    const Index k = bfgs_.count();
    if (k == 0) return T(0);
    bfgs_.middle_times(b, u_.data());
    T acc = 0;
    for (Index i = 0; i < 2 * k; ++i) acc += a[i] * u_[i];
    return acc;
  }

  // Minimizes the model over the free variables from xc_ (BLNZ section
  // 5.1, the direct primal method), then Morales–Nocedal's projection.
  bool subspace_step(Index free_count) {
    (void)free_count;
    const Index k = bfgs_.count();
    const T theta = bfgs_.theta(), inv_theta = T(1) / theta;
    if (!bfgs_.factor_subspace(free_)) return false;
    // r = Z^T (g + theta (xc - x) - W M c), zero off the free set.
    bfgs_.middle_times(c_.data(), u_.data());
    {
      T* r = r_.data();
      const T *g = g_.data(), *xc = xc_.data(), *x = x_.data();
      const std::uint8_t* fr = free_.data();
      for_each_index(n_, [=](Index j) { r[j] = T(fr[j]) * (g[j] + theta * (xc[j] - x[j])); });
      for (Index a = 0; a < k; ++a) {
        const T cy = u_[a], cs = theta * u_[k + a];
        if (cy == T(0) && cs == T(0)) continue;
        const T *ya = bfgs_.y(a), *sa = bfgs_.s(a);
        for_each_index(n_, [=](Index j) { r[j] -= T(fr[j]) * (cy * ya[j] + cs * sa[j]); });
      }
    }
    // v = K^-1 W_F^T r.
    T* v = w_.data();
    for (Index a = 0; a < k; ++a) {
      const T *ya = bfgs_.y(a), *sa = bfgs_.s(a), *r = r_.data();
      const auto [yr, sr] = sum2_over<T>(n_, [=](Index j, T& yacc, T& sacc) {
        yacc += ya[j] * r[j];
        sacc += sa[j] * r[j];
      });
      v[a] = yr;
      v[k + a] = theta * sr;
    }
    bfgs_.subspace_solve(v);
    // du = -r / theta - W_F v / theta^2, into d_.
    {
      T* du = d_.data();
      const T* r = r_.data();
      const std::uint8_t* fr = free_.data();
      for_each_index(n_, [=](Index j) { du[j] = -r[j] * inv_theta; });
      for (Index a = 0; a < k; ++a) {
        const T cy = v[a] * inv_theta * inv_theta, cs = v[k + a] * inv_theta;
        const T *ya = bfgs_.y(a), *sa = bfgs_.s(a);
        for_each_index(n_, [=](Index j) { du[j] -= T(fr[j]) * (cy * ya[j] + cs * sa[j]); });
      }
    }
    if (!constrained_) {
      xc_ += d_;
      return true;
    }
    // Morales–Nocedal: project xc + du onto the box; keep it if it points
    // downhill from x, else truncate du at the first bound it meets.
    T* xb = r_.data();  // r is no longer needed
    {
      const T *xc = xc_.data(), *du = d_.data(), *lo = lo_.data(), *hi = hi_.data();
      for_each_index(n_, [=](Index j) { xb[j] = std::min(std::max(xc[j] + du[j], lo[j]), hi[j]); });
    }
    const T *x = x_.data(), *g = g_.data();
    const T slope = sum_over<T>(n_, [=](Index j) { return (xb[j] - x[j]) * g[j]; });
    if (slope <= T(0)) {
      xc_.swap(r_);
      return true;
    }
    T alpha = 1;
    Index blocking = -1;
    for (Index i = 0; i < n_; ++i) {
      if (!free_[std::size_t(i)]) continue;
      const T di = d_[i];
      T limit = alpha;
      if (di < T(0) && std::isfinite(lo_[i])) {
        const T room = lo_[i] - xc_[i];
        limit = room >= T(0) ? T(0) : (di * alpha < room ? room / di : alpha);
      } else if (di > T(0) && std::isfinite(hi_[i])) {
        const T room = hi_[i] - xc_[i];
        limit = room <= T(0) ? T(0) : (di * alpha > room ? room / di : alpha);
      }
      if (limit < alpha) {
        alpha = limit;
        blocking = i;
      }
    }
    for (Index i = 0; i < n_; ++i)
      if (free_[std::size_t(i)]) xc_[i] += alpha * d_[i];
    if (blocking >= 0) xc_[blocking] = d_[blocking] > T(0) ? hi_[blocking] : lo_[blocking];
    return true;
  }

  const LbfgsbOptions& options_;
  const Bounds& bounds_;
  Monitor<T> monitor_;
  Evaluator<T, F> eval_;
  Index n_;
  CompactBfgs<T> bfgs_;
  Vector<T> lo_, hi_, x_, g_, xc_, d_, r_, x_trial_, g_trial_, t_;
  std::vector<std::uint8_t> free_;
  std::vector<Index> breaks_;
  Vector<T> p_, c_, w_, u_;  // length 2m
  bool constrained_ = false, boxed_ = true;
};

}  // namespace detail

template <class F, class X, class T>
Result<T> lbfgsb(F& f, X&& x, const Bounds& bounds, const LbfgsbOptions& o, Callback<T>* callback) {
  const Index n = Index(x.size());
  require(n > 0, "the starting point must have at least one variable");
  DESCENT_REQUIRE(o.memory >= 1, fmt::format("LbfgsbOptions::memory must be >= 1; got {}", o.memory));
  o.line_search.validate();
  bounds.validate(n);
  detail::LbfgsbRun<T, F> run(f, bounds, o, callback, n);
  return run.run(VectorRef<T>(x));
}

}  // namespace descent
