// L-BFGS-B: limited-memory BFGS for simple bounds lower <= x <= upper
// (Byrd, Lu, Nocedal & Zhu, SIAM J. Sci. Comput. 16(5), 1995, "BLNZ" below),
// with the subspace step of Morales & Nocedal, ACM TOMS 38(1), 2011.
//
// Each iteration, at x with gradient g and the compact quasi-Newton matrix
// B = theta I - W M W^T (W = [Y, theta S], n x 2k; BLNZ section 3):
//   1. the generalized Cauchy point x_c: the first local minimizer of the
//      quadratic model along the projected steepest-descent path
//      P(x - t g), visiting the breakpoints in order (BLNZ section 4);
//   2. subspace minimization: the model minimized over the variables free
//      at x_c (the others held at their bounds), by the Sherman–Morrison–
//      Woodbury form of the reduced B (BLNZ section 5.1); the minimizer is
//      projected onto the box, and if that is not a descent direction the
//      step is truncated at the first bound instead (Morales–Nocedal);
//   3. a Moré–Thuente line search along d = x_bar - x whose step is capped
//      where the first bound is met.
// Stops as scipy.optimize's L-BFGS-B does: the projected gradient
// ||P(x - g) - x||_inf <= stop.gradient_tolerance (pgtol), or the relative
// reduction (f_{k-1} - f_k) / max(|f_{k-1}|, |f_k|, 1) <= stop.value_tolerance.
//
// The limited-memory matrices live in preallocated n x (m + 1) and small
// storage (circular by column, one spare). The 2k x 2k systems are formed
// from Gram matrices of S and Y over the free and active variables, kept up
// to date by adding and removing the few variables that change status
// between iterations, so a step costs O(m n) arithmetic, not O(m^2 n), and
// makes no allocation after the first. The O(m n) work is three blocked
// passes over S and Y per iteration (the step's update with the next Cauchy
// point's products, the subspace residual with its products, the subspace
// step with its projection), not one pass per column and product.
//
// Glossary: k the pairs held (<= m); age a = 0 is the oldest pair; slot the
// column that holds a pair; free_[i] = 1 when x_i is free at the Cauchy
// point; xc the Cauchy point; c = W^T (xc - x); t the path parameter.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "descent/core/bounds.hpp"
#include "descent/core/callback.hpp"
#include "descent/core/error.hpp"
#include "descent/core/memory.hpp"
#include "descent/core/parallel.hpp"
#include "descent/core/result.hpp"
#include "descent/core/slab.hpp"
#include "descent/core/stopping.hpp"
#include "descent/linesearch/strong_wolfe.hpp"
#include "descent/solvers/detail/evaluator.hpp"
#include "descent/solvers/detail/monitor.hpp"

namespace descent {

struct LbfgsbOptions {
  // m, the number of (s, y) pairs kept. Range: >= 1.
  Index memory = 10;
  // scipy's defaults: pgtol = 1e-5 on the projected gradient's infinity
  // norm, ftol = factr * eps = 1e7 * 2.2e-16 on the relative reduction.
  StopOptions stop = [] {
    StopOptions s;
    s.gradient_tolerance = 1e-5;
    s.value_tolerance = 2.220446049250313e-09;
    return s;
  }();
  // The search of the Fortran code: c1 = 1e-3, c2 = 0.9, interval
  // tolerance 0.1, at most 20 evaluations.
  StrongWolfeOptions line_search = [] {
    StrongWolfeOptions w;
    w.sufficient_decrease = 1e-3;
    w.curvature = 0.9;
    w.interval_tolerance = 0.1;
    w.max_evaluations = 20;
    return w;
  }();
};

namespace detail {

// The compact limited-memory BFGS matrix B = theta I - W M W^T and the
// Gram matrices the subspace step needs.
template <class T>
class CompactBfgs {
 public:
  using VectorMap = Eigen::Map<Vector<T>>;
  using MatrixMap = Eigen::Map<Matrix<T>>;
  // The sums a step's pass forms against each slot (see install).
  // The last two, y_slot.d and s_slot.d, are the next Cauchy point's p = W^T d.
  enum PairSum : Index { kSS, kSY, kYS, kYY, kYYFree, kSYFree, kYSFree, kSSActive, kYD, kSD, kPairSums };

  // The pieces the constructor takes from its slab, in order.
  static void plan(SlabPlan& p, Index n, Index m) {
    for (int i = 0; i < 2; ++i) p.add<T>(n * (m + 1));
    for (int i = 0; i < 5; ++i) p.add<T>((m + 1) * (m + 1));
    p.add<std::uint8_t>(n);
    p.add<Index>(n);
    p.add<T>(m);
    for (int i = 0; i < 6; ++i) p.add<T>(m * m);
    p.add<T>(2 * m);
  }

  CompactBfgs(Index n, Index m, Slab& slab)
      : n_(n), m_(m), slots_(m + 1), s_(slab.matrix<T>(n, m + 1)), y_(slab.matrix<T>(n, m + 1)),
        ss_(slab.matrix<T>(m + 1, m + 1)), sy_(slab.matrix<T>(m + 1, m + 1)),
        yy_free_(slab.matrix<T>(m + 1, m + 1)), sy_free_(slab.matrix<T>(m + 1, m + 1)),
        ss_active_(slab.matrix<T>(m + 1, m + 1)), gram_free_(slab.take<std::uint8_t>(n)),
        changed_(slab.take<Index>(n)), d_(slab.vector<T>(m)), l_(slab.matrix<T>(m, m)),
        t_chol_(slab.matrix<T>(m, m)), e_chol_(slab.matrix<T>(m, m)), k21_(slab.matrix<T>(m, m)),
        x_(slab.matrix<T>(m, m)), sc_chol_(slab.matrix<T>(m, m)), scratch_(slab.take<T>(2 * m)) {
    for (auto* a : {&ss_, &sy_, &yy_free_, &sy_free_, &ss_active_}) a->setZero();
    std::fill(gram_free_, gram_free_ + n, std::uint8_t(1));
  }

  Index count() const { return count_; }
  T theta() const { return theta_; }
  void reset() {
    count_ = 0;
    theta_ = T(1);
  }

  // The storage has m + 1 columns (slots), used circularly: the pairs held
  // and one spare, into which a step writes its new pair before deciding
  // whether to keep it, so a rejected pair never overwrites the oldest.
  Index slots() const { return slots_; }
  Index slot(Index a) const { return (newest_ - (count_ - 1 - a) + 2 * slots_) % slots_; }
  Index spare() const { return (newest_ + 1) % slots_; }
  const T* s(Index a) const { return s_.col(slot(a)).data(); }
  const T* y(Index a) const { return y_.col(slot(a)).data(); }
  T* s_at(Index slot) { return s_.col(slot).data(); }
  T* y_at(Index slot) { return y_.col(slot).data(); }
  // The free set (one byte per variable) the split Grams describe.
  const std::uint8_t* gram_free() const { return gram_free_; }

  // Keeps the pair in the spare slot, s = x_new - x_old, y = g_new - g_old,
  // unless s.y <= eps * (-s.g_old) (BLNZ section 6's curvature test, as the
  // Fortran code applies it). sums[kPairSums * slot + q] holds the new
  // pair's products with the pair in `slot` (the spare itself included),
  // one per PairSum: the new s and y against s_slot and y_slot over all
  // variables, and split by gram_free(). Returns whether it was kept; then
  // call factor_middle.
  bool install(const T* sums, T sg) {
    const Index fresh = spare();
    const T* own = sums + kPairSums * fresh;
    const T sy = own[kSY];
    if (!(sy > std::numeric_limits<T>::epsilon() * -sg)) return false;
    newest_ = fresh;
    if (count_ < m_) ++count_;
    for (Index a = 0; a < count_; ++a) {
      const Index sa = slot(a);
      const T* q = sums + kPairSums * sa;
      ss_(fresh, sa) = ss_(sa, fresh) = q[kSS];
      sy_(fresh, sa) = q[kSY];
      sy_(sa, fresh) = q[kYS];
      yy_free_(fresh, sa) = yy_free_(sa, fresh) = q[kYYFree];
      sy_free_(fresh, sa) = q[kSYFree];
      sy_free_(sa, fresh) = q[kYSFree];
      ss_active_(fresh, sa) = ss_active_(sa, fresh) = q[kSSActive];
    }
    theta_ = own[kYY] / sy;
    return true;
  }

  // Builds the factors of the middle matrix M and the small age-ordered
  // blocks D and L. False when theta S^T S + L D^-1 L^T is not positive
  // definite (the pairs are nearly dependent): the caller resets.
  bool factor_middle() {
    const Index k = count_;
    for (Index a = 0; a < k; ++a) {
      d_[a] = sy_(slot(a), slot(a));
      for (Index b = 0; b < k; ++b) l_(a, b) = a > b ? sy_(slot(a), slot(b)) : T(0);
    }
    for (Index a = 0; a < k; ++a)
      for (Index b = 0; b <= a; ++b) {
        T v = theta_ * ss_(slot(a), slot(b));
        for (Index c = 0; c < b; ++c) v += l_(a, c) * l_(b, c) / d_[c];
        t_chol_(a, b) = v;
      }
    return cholesky(t_chol_, k);
  }

  // out = M v for v of length 2k (Y part first, then the S part).
  void middle_times(const T* v, T* out) const {
    const Index k = count_;
    // p2 = (theta S'S + L D^-1 L')^-1 (v2 + L D^-1 v1); p1 = D^-1 (L' p2 - v1).
    T* p2 = out + k;
    for (Index a = 0; a < k; ++a) {
      T acc = v[k + a];
      for (Index b = 0; b < a; ++b) acc += l_(a, b) * v[b] / d_[b];
      p2[a] = acc;
    }
    cholesky_solve(t_chol_, k, p2);
    for (Index a = 0; a < k; ++a) {
      T acc = -v[a];
      for (Index b = a + 1; b < k; ++b) acc += l_(b, a) * p2[b];
      out[a] = acc / d_[a];
    }
  }

  // Row i of W = [Y, theta S] in age order.
  void w_row(Index i, T* w) const {
    for (Index a = 0; a < count_; ++a) {
      w[a] = y_(i, slot(a));
      w[count_ + a] = theta_ * s_(i, slot(a));
    }
  }

  // v -= W_F' W_F u for u of length 2k, W = [Y, theta S] restricted to the
  // free set of the last factor_subspace, from the split Grams (no pass
  // over the variables).
  void subtract_free_gram(const T* u, T* v) const {
    const Index k = count_;
    const T* uy = u;
    const T* us = u + k;
    for (Index a = 0; a < k; ++a) {
      const Index sa = slot(a);
      T yw = 0, sw = 0;  // y_a' W_F u and s_a' W_F u over the free set
      for (Index b = 0; b < k; ++b) {
        const Index sb = slot(b);
        const T ss_free = ss_(sa, sb) - ss_active_(sa, sb);
        yw += yy_free_(sa, sb) * uy[b] + theta_ * sy_free_(sb, sa) * us[b];
        sw += sy_free_(sa, sb) * uy[b] + theta_ * ss_free * us[b];
      }
      v[a] -= yw;
      v[k + a] -= theta_ * sw;
    }
  }

  // Brings the free/active Gram matrices to the free set `free` (one byte
  // per variable) by adding and removing the variables that changed, then
  // factors K = M^-1 - W_F^T W_F / theta. False if a factor is not positive
  // definite.
  bool factor_subspace(const std::uint8_t* free) {
    sync_gram(free);
    const Index k = count_;
    // E = D + Y_F'Y_F / theta (= -K11); K21 = L - S_F'Y_F; K22 = theta S_A'S_A.
    for (Index a = 0; a < k; ++a)
      for (Index b = 0; b < k; ++b) {
        e_chol_(a, b) = yy_free_(slot(a), slot(b)) / theta_ + (a == b ? d_[a] : T(0));
        k21_(a, b) = l_(a, b) - sy_free_(slot(a), slot(b));
      }
    if (!cholesky(e_chol_, k)) return false;
    // X = chol(E)^-1 K21' column by column; Sc = K22 + X'X.
    for (Index c = 0; c < k; ++c) {
      for (Index a = 0; a < k; ++a) x_(a, c) = k21_(c, a);
      forward_solve(e_chol_, k, &x_(0, c), 1);
    }
    for (Index a = 0; a < k; ++a)
      for (Index b = 0; b <= a; ++b) {
        T v = theta_ * ss_active_(slot(a), slot(b));
        for (Index c = 0; c < k; ++c) v += x_(c, a) * x_(c, b);
        sc_chol_(a, b) = v;
      }
    return cholesky(sc_chol_, k);
  }

  // v <- K^-1 v for v of length 2k, after factor_subspace.
  void subspace_solve(T* v) const {
    const Index k = count_;
    T* v1 = v;
    T* v2 = v + k;
    T* e_inv_v1 = scratch_;
    // b = Sc^-1 (v2 + K21 E^-1 v1); a = E^-1 (K21' b - v1).
    for (Index a = 0; a < k; ++a) e_inv_v1[a] = v1[a];
    cholesky_solve(e_chol_, k, e_inv_v1);
    for (Index a = 0; a < k; ++a) {
      T acc = v2[a];
      for (Index b = 0; b < k; ++b) acc += k21_(a, b) * e_inv_v1[b];
      v2[a] = acc;
    }
    cholesky_solve(sc_chol_, k, v2);
    for (Index a = 0; a < k; ++a) {
      T acc = -v1[a];
      for (Index b = 0; b < k; ++b) acc += k21_(b, a) * v2[b];
      v1[a] = acc;
    }
    cholesky_solve(e_chol_, k, v1);
  }

 private:
  // In-place Cholesky of the lower triangle of a(0:k, 0:k).
  static bool cholesky(MatrixMap& a, Index k) {
    for (Index j = 0; j < k; ++j) {
      T diag = a(j, j);
      for (Index c = 0; c < j; ++c) diag -= a(j, c) * a(j, c);
      if (!(diag > T(0)) || !std::isfinite(diag)) return false;
      a(j, j) = std::sqrt(diag);
      for (Index i = j + 1; i < k; ++i) {
        T v = a(i, j);
        for (Index c = 0; c < j; ++c) v -= a(i, c) * a(j, c);
        a(i, j) = v / a(j, j);
      }
    }
    return true;
  }
  // v <- L^-1 v for the lower factor L in a (stride: element step in v).
  static void forward_solve(const MatrixMap& a, Index k, T* v, Index stride) {
    for (Index i = 0; i < k; ++i) {
      T acc = v[i * stride];
      for (Index c = 0; c < i; ++c) acc -= a(i, c) * v[c * stride];
      v[i * stride] = acc / a(i, i);
    }
  }
  // v <- (L L')^-1 v.
  static void cholesky_solve(const MatrixMap& a, Index k, T* v) {
    forward_solve(a, k, v, 1);
    for (Index i = k - 1; i >= 0; --i) {
      T acc = v[i];
      for (Index c = i + 1; c < k; ++c) acc -= a(c, i) * v[c];
      v[i] = acc / a(i, i);
    }
  }

  // Adds the variables that became free to the free Grams (and removes
  // them from the active one), and the reverse for those that left.
  void sync_gram(const std::uint8_t* free) {
    Index changed = 0;
    for (Index j = 0; j < n_; ++j)
      if (free[j] != gram_free_[j]) changed_[changed++] = j;
    const Index k = count_;
    for (Index c = 0; c < changed; ++c) {
      const Index j = changed_[c];
      const T sign = free[j] ? T(1) : T(-1);  // entering the free set: +1
      for (Index a = 0; a < k; ++a) {
        const Index sa = slot(a);
        const T sja = s_(j, sa), yja = y_(j, sa);
        for (Index b = 0; b < k; ++b) {
          const Index sb = slot(b);
          yy_free_(sa, sb) += sign * yja * y_(j, sb);
          sy_free_(sa, sb) += sign * sja * y_(j, sb);
          ss_active_(sa, sb) -= sign * sja * s_(j, sb);
        }
      }
      gram_free_[j] = free[j];
    }
  }

  Index n_, m_, slots_;
  MatrixMap s_, y_;                             // n x (m + 1), circular by column (slot)
  MatrixMap ss_, sy_;                           // by slot: s_a's_b, s_a'y_b over all variables
  MatrixMap yy_free_, sy_free_, ss_active_;     // by slot, over the free (active) variables of gram_free_
  std::uint8_t* gram_free_;                     // n: the free set the split Grams describe
  Index* changed_;                              // n: variables whose status changed (sync_gram)
  VectorMap d_;                                 // age order: s_a'y_a
  MatrixMap l_;                                 // age order: s_a'y_b for a > b
  MatrixMap t_chol_;                            // chol(theta S'S + L D^-1 L')
  MatrixMap e_chol_, k21_, x_, sc_chol_;        // the factors of K
  T* scratch_;                                  // 2m
  Index newest_ = -1, count_ = 0;
  T theta_ = T(1);
};

}  // namespace detail

template <class T>
class LbfgsbSolver;

// Minimizes f over the box `bounds` (validated; lower_i = -inf and
// upper_i = inf allowed), starting from x projected onto it. Returns the
// Result with gradient_norm = ||P(x - g) - x||_inf and the active bounds.
template <class F, class X, class T = typename std::decay_t<X>::Scalar>
Result<T> lbfgsb(F& f, X&& x, const Bounds& bounds, const LbfgsbOptions& o = {}, Callback<T>* callback = nullptr);

}  // namespace descent

#include "descent/solvers/detail/lbfgsb_impl.hpp"
