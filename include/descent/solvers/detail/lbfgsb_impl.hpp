// Internal: the L-BFGS-B iteration (see solvers/lbfgsb.hpp for the method
// and its references).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <new>

namespace descent {
namespace detail {

// The step pass's loops over one block of rows, as free functions on
// restrict pointers: inside a lambda that captures by reference GCC reloads
// every captured pointer after each store and leaves the loops scalar.
template <class T>
struct StepRows {
  const T *xn, *gn, *xo, *go, *lo, *hi;  // the new and the old point and gradient, the bounds
  T *sn, *yn, *d, *xc, *tb;              // s and y (with a pair), the Cauchy path's d, xc and breakpoints
  std::uint8_t* fr;                      // free on the path
};

// acc[0..5]: s.g_old, d.d, the moving count, the moving ones with no
// breakpoint, max |P(x - g) - x| and the first breakpoint (see
// LbfgsbRun::StepSum).
template <bool kWithPair, class T>
void step_rows(const StepRows<T>& p, Index j0, Index j1, T* acc) {
  const T* __restrict xn = p.xn;
  const T* __restrict gn = p.gn;
  const T* __restrict xo = p.xo;
  const T* __restrict go = p.go;
  const T* __restrict lo = p.lo;
  const T* __restrict hi = p.hi;
  T* __restrict sn = p.sn;
  T* __restrict yn = p.yn;
  T* __restrict d = p.d;
  T* __restrict xc = p.xc;
  T* __restrict tb = p.tb;
  std::uint8_t* __restrict fr = p.fr;
  constexpr T inf = std::numeric_limits<T>::infinity();
  T sg = 0, dd = 0, nfree = 0, unbounded = 0, pg = acc[4], first = acc[5];
#pragma omp simd reduction(+ : sg, dd, nfree, unbounded) reduction(max : pg) reduction(min : first)
  for (Index j = j0; j < j1; ++j) {
    const T gi = gn[j], xi = xn[j];
    if constexpr (kWithPair) {
      const T sj = xi - xo[j];
      sn[j] = sj;
      yn[j] = gi - go[j];
      sg += sj * go[j];
    }
    // (x - hi) / g for g < 0 and (x - lo) / g for g > 0: +inf where that bound is infinite.
    const T t = gi < T(0) ? (xi - hi[j]) / gi : (gi > T(0) ? (xi - lo[j]) / gi : inf);
    const bool moving = lo[j] != hi[j] && t > T(0);
    tb[j] = t;
    const T dj = moving ? -gi : T(0);
    d[j] = dj;
    xc[j] = xi;
    dd += dj * dj;
    nfree += moving ? T(1) : T(0);
    unbounded += (moving && !(t < inf) && gi != T(0)) ? T(1) : T(0);
    first = std::min(first, moving ? t : inf);
    pg = std::max(pg, std::abs(std::min(std::max(xi - gi, lo[j]), hi[j]) - xi));
  }
  // The byte mask in a loop of its own: in the loop above it would set the
  // vector width to 64 lanes.
#pragma omp simd
  for (Index j = j0; j < j1; ++j) fr[j] = lo[j] != hi[j] && tb[j] > T(0);
  acc[0] += sg;
  acc[1] += dd;
  acc[2] += nfree;
  acc[3] += unbounded;
  acc[4] = pg;
  acc[5] = first;
}

// The products of the new pair (sn, yn) with one held pair (sp, yp) over
// [0, len), added into q in CompactBfgs::PairSum order; fr is 1 on the
// rows free at the last Gram update and 0 elsewhere (in T: a byte mask
// would make GCC widen the loop to 64 lanes and spill its ten sums), d is
// the Cauchy path.
template <class T>
void pair_sums(const T* __restrict sn, const T* __restrict yn, const T* __restrict sp, const T* __restrict yp,
               const T* __restrict d, const T* __restrict fr, Index len, T* __restrict q) {
  using Sum = typename CompactBfgs<T>::PairSum;
  T ss = 0, sy = 0, ys = 0, yy = 0, yyf = 0, syf = 0, ysf = 0, ssa = 0, yd = 0, sd = 0;
#pragma omp simd reduction(+ : ss, sy, ys, yy, yyf, syf, ysf, ssa, yd, sd)
  for (Index j = 0; j < len; ++j) {
    const T f = fr[j];
    const T pss = sn[j] * sp[j], psy = sn[j] * yp[j], pys = sp[j] * yn[j], pyy = yn[j] * yp[j];
    ss += pss;
    sy += psy;
    ys += pys;
    yy += pyy;
    yyf += f * pyy;
    syf += f * psy;
    ysf += f * pys;
    ssa += (T(1) - f) * pss;
    yd += yp[j] * d[j];
    sd += sp[j] * d[j];
  }
  q[Sum::kSS] += ss;
  q[Sum::kSY] += sy;
  q[Sum::kYS] += ys;
  q[Sum::kYY] += yy;
  q[Sum::kYYFree] += yyf;
  q[Sum::kSYFree] += syf;
  q[Sum::kYSFree] += ysf;
  q[Sum::kSSActive] += ssa;
  q[Sum::kYD] += yd;
  q[Sum::kSD] += sd;
}

// out += cy ya + cs sa over [0, len).
template <class T>
void add_pair(T* __restrict out, T cy, const T* __restrict ya, T cs, const T* __restrict sa, Index len) {
#pragma omp simd
  for (Index j = 0; j < len; ++j) out[j] += cy * ya[j] + cs * sa[j];
}

template <class T, class F>
class LbfgsbRun {
  using VectorMap = Eigen::Map<Vector<T>>;
  struct Break {
    T t;
    Index i;
  };

 public:
  LbfgsbRun(F& f, const Bounds& bounds, const LbfgsbOptions& o, Callback<T>* callback, Index n)
      : options_(o), bounds_(bounds), monitor_("lbfgsb", o.stop, callback, n), eval_(f), n_(n),
        threads_(pass_threads()), slab_(plan(n, o.memory, threads_)), bfgs_(n, o.memory, slab_),
        x_(workspace_vector<T>(n)), x_trial_(workspace_vector<T>(n)), lo_(slab_.vector<T>(n)),
        hi_(slab_.vector<T>(n)), g_(slab_.vector<T>(n)), g_trial_(slab_.vector<T>(n)), xc_(slab_.vector<T>(n)),
        d_(slab_.vector<T>(n)), t_(slab_.vector<T>(n)), free_(slab_.take<std::uint8_t>(n)),
        breaks_(slab_.take<Break>(n)), p_(slab_.vector<T>(2 * o.memory)), c_(slab_.vector<T>(2 * o.memory)),
        w_(slab_.vector<T>(2 * o.memory)), u_(slab_.vector<T>(2 * o.memory)),
        sums_(slab_.vector<T>(sum_count(o.memory))), partials_(slab_.vector<T>(threads_ * sum_count(o.memory))),
        slots_of_(slab_.take<Index>(o.memory + 1)) {
    DESCENT_ASSERT(slab_.used_up());
    std::fill(free_, free_ + n, std::uint8_t(1));
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
    T pg = step_pass(false);
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
      // d = x_bar - x, with its slope g.d.
      const T gd = slope_;
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
      const T max_step = constrained_ ? (completed == 0 ? T(1) : feasible_) : T(1e10);
      const T first_step = (completed == 0 && !boxed_) ? std::min(T(1) / d_.norm(), max_step) : T(1);
      StrongWolfeOptions wolfe = options_.line_search;
      wolfe.max_step = double(std::max(max_step, T(1)));
      wolfe.min_step = std::min(wolfe.min_step, 1e-20);
      auto phi = [&](T alpha) {
        trial_point(alpha);
        const T ft = eval_.value_and_gradient(x_trial_, g_trial_);
        return LinePoint<T>{ft, dot(g_trial_.data(), d_.data(), n_)};
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

      // Learn from the step (one pass that also prepares the next Cauchy
      // point) and move.
      pg = step_pass(true);
      if (bfgs_.install(sums_.data() + kStepSums, sums_[kSG]) && !bfgs_.factor_middle()) bfgs_.reset();
      load_cauchy_products();
      const T f_prev = fx;
      fx = ls.point.value;
      const T step_norm = std::sqrt(sums_[kStepSums + Bfgs::kPairSums * pair_slot_ + Bfgs::kSS]);  // |s|
      x_.swap(x_trial_);
      swap_views(g_, g_trial_);
      completed = k;
      if (auto s = monitor_.iterate(k, x_, f_prev, fx, pg, ls.step, step_norm, counts())) return finish(*s, k);
    }
  }

 private:
  using Bfgs = CompactBfgs<T>;

  static Index sum_count(Index m) { return kStepSums + Bfgs::kPairSums * (m + 1); }
  // The slab's pieces in the order the constructor takes them.
  static SlabPlan plan(Index n, Index m, int threads) {
    SlabPlan p;
    Bfgs::plan(p, n, m);
    for (int i = 0; i < 7; ++i) p.add<T>(n);
    p.add<std::uint8_t>(n);
    p.add<Break>(n);
    for (int i = 0; i < 4; ++i) p.add<T>(2 * m);
    p.add<T>(sum_count(m));
    p.add<T>(Index(threads) * sum_count(m));
    p.add<Index>(m + 1);
    return p;
  }
  // Exchanges what two views of the slab point at (a Map is rebound by
  // constructing it anew in place).
  void swap_views(VectorMap& a, VectorMap& b) {
    T* pa = a.data();
    T* pb = b.data();
    new (&a) VectorMap(pb, n_);
    new (&b) VectorMap(pa, n_);
  }
  // sums_: the step pass's scalars, then Bfgs::kPairSums per slot.
  enum StepSum : Index { kSG, kDD, kFree, kUnbounded, kPG, kFirstBreak, kStepSums };
  static_assert(kSG == 0 && kDD == 1 && kFree == 2 && kUnbounded == 3 && kPG == 4 && kFirstBreak == 5,
                "step_rows writes acc[0..5]");

  void project(ConstVectorRef<T> in, Vector<T>& out) const {
    for (Index i = 0; i < n_; ++i) out[i] = std::clamp(in[i], lo_[i], hi_[i]);
  }

  // The pass after an accepted step (with_pair; x_trial_ and g_trial_ the
  // new point, x_ and g_ the old) or at a point whose model was just
  // dropped (x_ and g_). At the new point it starts the Cauchy point: the
  // breakpoints t_i where x_i - t g_i meets its bound, the path direction
  // d = -g on the variables that can move (free_), xc_ = x; and forms
  // ||P(x - g) - x||_inf (returned), d.d and the counts. With the pair it
  // also writes s and y into the spare slot and forms, block by block while
  // the columns are in cache, every product install() needs and
  // y_a.d, s_a.d for the Cauchy point's p = W^T d.
  T step_pass(bool with_pair) {
    const T *xn = with_pair ? x_trial_.data() : x_.data(), *gn = with_pair ? g_trial_.data() : g_.data();
    const T *xo = x_.data(), *go = g_.data(), *lo = lo_.data(), *hi = hi_.data();
    T *d = d_.data(), *xc = xc_.data(), *tb = t_.data();
    std::uint8_t* fr = free_;
    const std::uint8_t* gram_fr = bfgs_.gram_free();
    const Index held = with_pair ? bfgs_.count() : -1;  // slots_of_[0, held] gets the spare last
    if (with_pair) {
      pair_slot_ = bfgs_.spare();
      for (Index a = 0; a < held; ++a) slots_of_[std::size_t(a)] = bfgs_.slot(a);
      slots_of_[std::size_t(held)] = pair_slot_;
    }
    T* sn = with_pair ? bfgs_.s_at(pair_slot_) : nullptr;
    T* yn = with_pair ? bfgs_.y_at(pair_slot_) : nullptr;
    const Index width = with_pair ? Index(sums_.size()) : kStepSums;
    std::fill(sums_.data(), sums_.data() + width, T(0));
    sums_[kFirstBreak] = std::numeric_limits<T>::infinity();
    const StepRows<T> rows{xn, gn, xo, go, lo, hi, sn, yn, d, xc, tb, fr};
    auto body = [&](Index j0, Index j1, T* acc) {
      if (with_pair)
        step_rows<true>(rows, j0, j1, acc);
      else
        step_rows<false>(rows, j0, j1, acc);
      if (held < 0) return;
      T mask[kBlockRows];  // gram_fr over the block, offset by j0
      for (Index j = j0; j < j1; ++j) mask[j - j0] = gram_fr[j] ? T(1) : T(0);
      for (Index a = 0; a <= held; ++a) {
        const Index sa = slots_of_[std::size_t(a)];
        pair_sums(sn + j0, yn + j0, bfgs_.s_at(sa) + j0, bfgs_.y_at(sa) + j0, d + j0, mask, j1 - j0,
                  acc + kStepSums + Bfgs::kPairSums * sa);
      }
    };
    auto fold = [width](T* acc, const T* part) {
      for (Index q = 0; q < width; ++q)
        acc[q] = q == kPG ? std::max(acc[q], part[q]) : q == kFirstBreak ? std::min(acc[q], part[q]) : acc[q] + part[q];
    };
    blocked_pass(n_, width, sums_.data(), partials_.data(), threads_, body, fold);
    cauchy_ready_ = true;
    return sums_[kPG];
  }

  // p = W^T d for the pairs now held, from the step pass's products.
  void load_cauchy_products() {
    const Index k = bfgs_.count();
    const T theta = bfgs_.theta();
    for (Index a = 0; a < k; ++a) {
      const T* q = sums_.data() + kStepSums + Bfgs::kPairSums * bfgs_.slot(a);
      p_[a] = q[Bfgs::kYD];
      p_[k + a] = theta * q[Bfgs::kSD];
    }
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

  // The largest step along d that stays in the box (the Fortran code's
  // stpmx), for one variable: +inf where d_i = 0 or the bound it heads for
  // is infinite.
  static T room(T d, T x, T lo, T hi) {
    const T r = d < T(0) ? (lo - x) / d : (d > T(0) ? (hi - x) / d : std::numeric_limits<T>::infinity());
    return std::max(r, T(0));
  }

  // d = x_bar - x, its slope g.d into slope_ and the feasible step into
  // feasible_, in one blocked pass: prepare(j0, j1) runs first on each
  // block, then x_bar(j) gives x_bar's entries (xc_ unless a caller forms
  // x_bar on the fly).
  template <class Prepare, class XBar>
  void direction_pass(const Prepare& prepare, const XBar& x_bar) {
    T* d = d_.data();
    const T *x = x_.data(), *g = g_.data(), *lo = lo_.data(), *hi = hi_.data();
    T acc[2] = {0, T(1e10)};
    auto body = [&](Index j0, Index j1, T* out) {
      prepare(j0, j1);
      T* __restrict db = d;
      const T* __restrict xb = x;
      const T* __restrict gb = g;
      const T* __restrict lb = lo;
      const T* __restrict hb = hi;
      const XBar xbar = x_bar;  // a copy: through the capture GCC reloads it on every row
      T slope = 0, step = out[1];
#pragma omp simd reduction(+ : slope) reduction(min : step)
      for (Index j = j0; j < j1; ++j) {
        const T dj = xbar(j) - xb[j];
        db[j] = dj;
        slope += gb[j] * dj;
        step = std::min(step, room(dj, xb[j], lb[j], hb[j]));
      }
      out[0] += slope;
      out[1] = step;
    };
    blocked_pass(n_, 2, acc, partials_.data(), threads_, body, fold_sum_min);
    slope_ = acc[0];
    feasible_ = acc[1];
  }

  // The same with x_bar in xc_.
  void direction() {
    const T* xb = xc_.data();
    direction_pass([](Index, Index) {}, [=](Index j) { return xb[j]; });
  }

  static void fold_sum_min(T* acc, const T* part) {
    acc[0] += part[0];
    acc[1] = std::min(acc[1], part[1]);
  }

  // x_bar, d = x_bar - x, slope_ and feasible_: the Cauchy point, then the
  // subspace step. False when the subspace system could not be factored.
  bool search_point() {
    if (!cauchy_ready_) step_pass(false);
    cauchy_ready_ = false;  // the Cauchy point and the subspace step overwrite what it prepared
    if (!constrained_ && bfgs_.count() > 0) {
      // No bound can be met: the Cauchy point is x itself (as the step pass
      // left xc_), every variable is free, and the subspace step is the
      // L-BFGS step -B^-1 g.
      std::fill(c_.data(), c_.data() + 2 * bfgs_.count(), T(0));
      cauchy_t_ = T(0);
      return subspace_step();
    }
    const Index free_count = cauchy_point();
    if (bfgs_.count() == 0 || free_count == 0) {
      direction();
      return true;
    }
    return subspace_step();
  }

  // The generalized Cauchy point (BLNZ Algorithm CP) into xc_, c_ and free_,
  // from what the step pass prepared; returns the number of free variables.
  Index cauchy_point() {
    const Index k = bfgs_.count();
    const T theta = bfgs_.theta();
    Index free_count = Index(sums_[kFree]);
    const Index moving_unbounded = Index(sums_[kUnbounded]);
    // p = W^T d (load_cauchy_products); c = 0; f1 = g.d = -d.d; f2 = d^T B d.
    T* p = p_.data();
    T* c = c_.data();
    std::fill(c, c + 2 * k, T(0));
    T f1 = -sums_[kDD];
    cauchy_t_ = T(0);
    if (f1 == T(0)) return free_count;
    T f2 = -theta * f1 - middle_form(p, p);
    const T f2_floor = std::numeric_limits<T>::epsilon() * f2;
    T dtm = -f1 / f2, t_old = 0;

    // Visit the breakpoints in increasing order while the minimizer along
    // the current segment lies beyond its end. Usually it stops after a few
    // (near a solution, before the first, which the step pass found), so
    // they are gathered only when the first is reached, and ordered a batch
    // at a time: the next smallest, selected in O(n) and sorted, the batch
    // doubling each time.
    Index nbreak = 0, next = 0, ready = 0, batch = 16;
    if (!(dtm < sums_[kFirstBreak])) {
      for (Index i = 0; i < n_; ++i)
        if (free_[std::size_t(i)] && t_[i] < std::numeric_limits<T>::infinity())
          breaks_[std::size_t(nbreak++)] = Break{t_[i], i};
    }
    auto earlier = [](const Break& a, const Break& b) { return a.t < b.t || (a.t == b.t && a.i < b.i); };
    while (next < nbreak) {
      if (next == ready) {
        Break* const first = breaks_ + next;
        Break* const last = breaks_ + nbreak;
        Break* const end = first + std::min(batch, nbreak - next);
        if (end < last) std::nth_element(first, end - 1, last, earlier);
        std::sort(first, end, earlier);
        ready = Index(end - breaks_);
        batch *= 2;
      }
      const Index b = breaks_[std::size_t(next++)].i;
      const Index left = nbreak - next;
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
    cauchy_t_ = t_old;
    {
      T* xc = xc_.data();
      const T *x = x_.data(), *d = d_.data();
      const T t = t_old;
      for_each_index(n_, [=](Index j) { xc[j] = d[j] != T(0) ? x[j] + t * d[j] : xc[j]; });
    }
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
  //
  // The reduced gradient r = Z'(q - W M c), q = g + theta (xc - x), needs
  // no pass of its own: on the free set xc - x = t* d = -t* g (t* where the
  // Cauchy point stopped), and the Cauchy point leaves p = -W_F' g, so
  // W_F' q = -(1 - theta t*) p, and W_F' W_F M c comes from the split Grams.
  // One blocked pass then forms du = -r / theta - W_F K^-1 (W_F' r) / theta^2
  // with r on the fly, and d = x_bar - x.
  bool subspace_step() {
    const Index k = bfgs_.count();
    const T theta = bfgs_.theta(), inv_theta = T(1) / theta;
    if (!bfgs_.factor_subspace(free_)) return false;
    bfgs_.middle_times(c_.data(), u_.data());  // M c
    const T* mc = u_.data();
    T* v = w_.data();
    const T scale = -(T(1) - theta * cauchy_t_);
    for (Index a = 0; a < 2 * k; ++a) v[a] = scale * p_[a];
    bfgs_.subtract_free_gram(mc, v);  // v = W_F' r
    bfgs_.subspace_solve(v);
    // du = Z (-q / theta + Y ya + S sb), ya = (M c)_y / theta - v_y /
    // theta^2, sb = (M c)_s - v_s / theta (into t_, free since the
    // Cauchy point), x_bar = P(xc + du) (Morales–Nocedal; xc + du
    // unconstrained), d = x_bar - x, its slope and the feasible step.
    T* ya = p_.data();  // p and c are spent
    T* sb = c_.data();
    for (Index a = 0; a < k; ++a) {
      ya[a] = mc[a] * inv_theta - v[a] * inv_theta * inv_theta;
      sb[a] = mc[k + a] - v[k + a] * inv_theta;
    }
    T* du = t_.data();
    const std::uint8_t* fr = free_;
    const T *g = g_.data(), *xc = xc_.data(), *x = x_.data(), *lo = lo_.data(), *hi = hi_.data();
    const bool project = constrained_;
    auto form_du = [&](Index j0, Index j1) {
      const Index len = j1 - j0;
      T* __restrict dub = du + j0;
      const T* __restrict gb = g + j0;
      const T* __restrict xcb = xc + j0;
      const T* __restrict xb = x + j0;
#pragma omp simd
      for (Index j = 0; j < len; ++j) dub[j] = -(gb[j] + theta * (xcb[j] - xb[j])) * inv_theta;
      for (Index a = 0; a < k; ++a) add_pair(dub, ya[a], bfgs_.y(a) + j0, sb[a], bfgs_.s(a) + j0, len);
      for (Index j = 0; j < len; ++j) dub[j] = fr[j0 + j] ? dub[j] : T(0);
    };
    direction_pass(form_du, [=](Index j) {
      return project ? std::min(std::max(xc[j] + du[j], lo[j]), hi[j]) : xc[j] + du[j];
    });
    // Keep the projected point if it points downhill from x, else truncate
    // du at the first bound it meets.
    if (!constrained_ || slope_ <= T(0)) return true;
    T alpha = 1;
    Index blocking = -1;
    for (Index i = 0; i < n_; ++i) {
      if (!free_[std::size_t(i)]) continue;
      const T di = du[i];
      T limit = alpha;
      if (di < T(0) && std::isfinite(lo_[i])) {
        const T space = lo_[i] - xc_[i];
        limit = space >= T(0) ? T(0) : (di * alpha < space ? space / di : alpha);
      } else if (di > T(0) && std::isfinite(hi_[i])) {
        const T space = hi_[i] - xc_[i];
        limit = space <= T(0) ? T(0) : (di * alpha > space ? space / di : alpha);
      }
      if (limit < alpha) {
        alpha = limit;
        blocking = i;
      }
    }
    for (Index i = 0; i < n_; ++i)
      if (free_[std::size_t(i)]) xc_[i] += alpha * du[i];
    if (blocking >= 0) xc_[blocking] = du[blocking] > T(0) ? hi_[blocking] : lo_[blocking];
    direction();
    return true;
  }

  const LbfgsbOptions& options_;
  const Bounds& bounds_;
  Monitor<T> monitor_;
  Evaluator<T, F> eval_;
  Index n_;
  int threads_;                     // the blocked passes' threads
  Slab slab_;                       // every buffer below but x_ and x_trial_, in this order (plan)
  CompactBfgs<T> bfgs_;
  Vector<T> x_, x_trial_;           // owned: the callback's IterationReport points at x_
  VectorMap lo_, hi_, g_, g_trial_, xc_, d_, t_;
  std::uint8_t* free_;              // n
  Break* breaks_;                   // n: the Cauchy path's breakpoints, gathered when it reaches the first
  VectorMap p_, c_, w_, u_;         // length 2m
  VectorMap sums_, partials_;       // the step pass's sums (StepSum, then per slot); threads_ rows of them
  Index* slots_of_;                 // m + 1: the slots the step pass visits: the held pairs, then the spare
  Index pair_slot_ = 0;             // the slot the last step pass wrote its pair into
  T slope_ = 0, feasible_ = 0;      // g.d and the largest feasible step along d
  T cauchy_t_ = 0;                  // t* of the last Cauchy point
  bool cauchy_ready_ = false;       // the step pass has prepared the Cauchy point at x
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
