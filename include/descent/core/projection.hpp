// Euclidean projections onto convex sets, P_C(x) = argmin_{y in C} ||y - x||_2,
// for the projected solvers (projected gradient, SPG) and for every
// stochastic stepper (applied after each step; a box is fused into the
// step's own pass).
//
// The exact projections, in place:
//   project_box(x, lo, hi)           clamp each coordinate
//   project_simplex(x, r, scratch)   {x >= 0, sum x = r}: Duchi, Shalev-Shwartz,
//                                    Singer & Chandra, ICML 2008, Fig. 1 (sort, O(n log n))
//   project_l1_ball(x, r, scratch)   {||x||_1 <= r}: the simplex projection of |x|, signs restored
//   project_l2_ball(x, r)            {||x||_2 <= r}: radial scaling
//
// A Projection is a product of such sets over disjoint ranges of x; the
// variables outside every range are free:
//
//   auto p = Projection::simplex().on(0, 10);       // x[0, 10) a probability vector
//   p.also(Projection::nonnegative().on(10, 5));    // x[10, 15) >= 0, the rest free
//   p.validate(n);
//   p.apply(x);
//
// The CLI spells a piece as text (Projection::parse): "nonneg", "box:LO,HI",
// "simplex", "simplex:R", "l1:R", "l2:R".
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "descent/core/bounds.hpp"
#include "descent/core/segments.hpp"
#include "descent/core/types.hpp"

namespace descent {

template <class T>
void project_box(VectorRef<T> x, T lower, T upper) {
  T* p = x.data();
  const Index n = x.size();
#pragma omp simd
  for (Index i = 0; i < n; ++i) p[i] = std::min(std::max(p[i], lower), upper);
}

// The threshold tau with sum_i max(u_i - tau, 0) = radius for the values u
// held in `u` (Duchi et al. 2008, Fig. 1); sorts u in place.
template <class T>
T simplex_threshold(std::vector<T>& u, T radius) {
  std::sort(u.begin(), u.end(), [](T a, T b) { return a > b; });
  T cumulative = 0, tau = 0;
  for (std::size_t j = 0; j < u.size(); ++j) {
    cumulative += u[j];
    const T candidate = (cumulative - radius) / T(j + 1);
    // rho = the largest j with u_j - (sum_{i<=j} u_i - r) / (j + 1) > 0.
    if (u[j] - candidate > T(0)) tau = candidate;
  }
  return tau;
}

// `scratch` holds a copy of x during the call; it keeps its capacity, so a
// projection repeated on vectors of one size allocates once.
template <class T>
void project_simplex(VectorRef<T> x, T radius, std::vector<T>& scratch) {
  const Index n = x.size();
  if (n == 0) return;
  scratch.assign(x.data(), x.data() + n);
  const T tau = simplex_threshold(scratch, radius);
  for (Index i = 0; i < n; ++i) x[i] = std::max(x[i] - tau, T(0));
}

template <class T>
void project_l1_ball(VectorRef<T> x, T radius, std::vector<T>& scratch) {
  const Index n = x.size();
  T norm1 = 0;
  for (Index i = 0; i < n; ++i) norm1 += std::abs(x[i]);
  if (norm1 <= radius) return;
  // |x| onto the simplex of the same radius, then the signs back.
  scratch.resize(std::size_t(n));
  for (Index i = 0; i < n; ++i) scratch[std::size_t(i)] = std::abs(x[i]);
  const T tau = simplex_threshold(scratch, radius);
  for (Index i = 0; i < n; ++i) x[i] = std::copysign(std::max(std::abs(x[i]) - tau, T(0)), x[i]);
}

template <class T>
void project_l2_ball(VectorRef<T> x, T radius) {
  const T norm = x.norm();
  if (norm > radius) x *= radius / norm;
}

class Projection {
 public:
  enum class Kind { box, bounds, simplex, l1_ball, l2_ball };

  struct Piece {
    Kind kind = Kind::box;
    Index begin = 0;
    Index size = -1;  // -1: from begin to the end of x
    double lower = -Bounds::inf, upper = Bounds::inf;  // Kind::box
    double radius = 1.0;                              // Kind::simplex, l1_ball, l2_ball
    std::shared_ptr<const Bounds> bounds;             // Kind::bounds, indexed from begin

    // [first, last) of this piece in a vector of n elements.
    Index first() const { return begin; }
    Index last(Index n) const { return size < 0 ? n : begin + size; }
  };

  // No constraint.
  Projection() = default;
  // The product of these pieces (check with validate()).
  explicit Projection(std::vector<Piece> pieces) : pieces_(std::move(pieces)) {}

  static Projection box(double lower, double upper);
  static Projection nonnegative() { return box(0.0, Bounds::inf); }
  static Projection simplex(double radius = 1.0);
  static Projection l1_ball(double radius);
  static Projection l2_ball(double radius);
  // lower_i <= x_i <= upper_i per variable.
  static Projection bounds(Bounds b);

  // Parses one piece: "nonneg", "box:LO,HI" (inf allowed), "simplex",
  // "simplex:R", "l1:R", "l2:R". Throws descent::invalid_argument naming
  // the forms it accepts.
  static Projection parse(std::string_view spec);

  // The same set restricted to x[begin, begin + size). Only for a projection
  // of one piece over the whole vector.
  Projection on(Index begin, Index size) const;
  // The same set on each segment of `layout` whose name matches `pattern`,
  // one piece per segment: a name, or a pattern where '*' stands for any
  // run of characters ("*.weight": every layer's weights). Only for a
  // projection of one piece over the whole vector. Throws
  // descent::invalid_argument naming the segments when none matches.
  Projection on_segments(const Layout& layout, std::string_view pattern) const;
  // Adds the pieces of `other` (on variables disjoint from this one's).
  Projection& also(const Projection& other);

  bool empty() const { return pieces_.empty(); }
  const std::vector<Piece>& pieces() const { return pieces_; }
  // Every piece is a box (uniform or per variable): separable, so a
  // stepper clamps inside its own pass.
  bool is_box() const;

  // Throws descent::invalid_argument unless every piece lies inside [0, n),
  // pieces do not overlap, radii are positive and finite, and boxes are
  // non-empty.
  void validate(Index n) const;

  // The pieces over x[first, last) of an n-vector, re-based to start at 0:
  // the projection a stepper over that slice of x applies (a data-parallel
  // rank's shard). Boxes and per-variable bounds are cut at the slice's
  // ends; a simplex or ball must lie wholly inside or outside it (it couples
  // its variables), else descent::invalid_argument. Check is_box() first to
  // know whether any slicing can succeed.
  Projection slice(Index n, Index first, Index last) const;

  // x <- P(x). Not safe to call on one object from several threads at once
  // (the sort scratch is shared).
  template <class T>
  void apply(VectorRef<T> x) const;
  template <class T>
  void apply(Vector<T>& x) const {
    apply<T>(VectorRef<T>(x));
  }

  // The box as per-variable bounds over n variables (free where no piece
  // lies), for L-BFGS-B; nullopt unless is_box().
  std::optional<Bounds> as_bounds(Index n) const;

  // One line, e.g. "simplex(1) on [0, 10); box[0, inf) on [10, 15)".
  std::string describe() const;

 private:
  std::vector<Piece> pieces_;
  mutable std::vector<double> scratch_d_;
  mutable std::vector<float> scratch_f_;

  template <class T>
  std::vector<T>& scratch() const {
    if constexpr (std::is_same_v<T, float>) return scratch_f_;
    else return scratch_d_;
  }
};

template <class T>
void Projection::apply(VectorRef<T> x) const {
  const Index n = x.size();
  for (const Piece& p : pieces_) {
    const Index first = p.first(), last = std::min(p.last(n), n);
    if (first >= last) continue;
    auto seg = x.segment(first, last - first);
    switch (p.kind) {
      case Kind::box: project_box<T>(seg, T(p.lower), T(p.upper)); break;
      case Kind::bounds:
        for (Index i = 0; i < seg.size(); ++i)
          seg[i] = std::clamp(seg[i], T(p.bounds->lower[i]), T(p.bounds->upper[i]));
        break;
      case Kind::simplex: project_simplex<T>(seg, T(p.radius), scratch<T>()); break;
      case Kind::l1_ball: project_l1_ball<T>(seg, T(p.radius), scratch<T>()); break;
      case Kind::l2_ball: project_l2_ball<T>(seg, T(p.radius)); break;
    }
  }
}

}  // namespace descent
