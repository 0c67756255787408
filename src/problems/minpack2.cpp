// The bound-constrained problems of the MINPACK-2 collection (Averick,
// Carter, Moré, Xue, "The MINPACK-2 test problem collection", Argonne
// ANL/MCS-P153-0692, 1992) that the L-BFGS-B and TRON papers solve: each a
// finite-element discretization, by piecewise linear functions on a
// triangulation of a k x k grid of interior points, so n = k^2 scales to
// 10^6 and beyond.
//
//   torsion            elastic-plastic torsion (DEPT), c = 5:
//                        min  int 1/2 |grad v|^2 - c v  on (0,1)^2,
//                        |v| <= dist(., boundary), v = 0 on the boundary.
//   journal_bearing    pressure in a journal bearing (DPJB), ecc = 0.1, b = 10:
//                        min  int 1/2 (1 + ecc cos x)^3 |grad v|^2 - ecc sin(x) v
//                        on (0, 2 pi) x (0, 2b), v >= 0, v = 0 on the boundary.
//   minimal_surface_obstacle
//                      minimal surface area (DMSA) with Enneper's boundary
//                      values on (-1/2, 1/2)^2, held between the planes
//                      v = -0.2 and v = 0.2 (TRON's DMSA2):
//                        min  int sqrt(1 + |grad v|^2),  |v| <= 0.2.
//
// The two quadratics are written as the 5-point stencils their
// triangulation sums to (each grid edge lies in two triangles), so one
// evaluation is one pass over the grid; the minimal surface sums over the
// triangles themselves.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

#include <fmt/format.h>

#include "descent/core/error.hpp"
#include "factories.hpp"

namespace descent::problems::detail {
namespace {

// k for n = k^2, or a message naming the nearest sizes that are squares.
Index grid_side(std::string_view name, Index n) {
  Index k = Index(std::llround(std::sqrt(double(n))));
  while (k * k > n) --k;
  while ((k + 1) * (k + 1) <= n) ++k;
  DESCENT_REQUIRE(k >= 1 && k * k == n,
          fmt::format("{} is a k x k grid and needs n = k^2; got {} (the nearest are {} and {})", name, n, k * k,
                      (k + 1) * (k + 1)));
  return k;
}

// The distance from interior grid point i (1-based, of k) to the nearest edge
// of the unit interval, h = 1 / (k + 1).
double edge_distance(Index i, Index k) { return double(std::min(i, k - i + 1)) / double(k + 1); }

// f(v) = 1/2 v'Av - b'v with A the weighted 5-point stencil of a k x k grid:
//   1/2 v'Av = 1/2 sum over the horizontal edges (columns i, i+1) of ax_i (v_{i+1,j} - v_{i,j})^2
//            + 1/2 sum over the vertical edges of column i of ay_i (v_{i,j+1} - v_{i,j})^2,
// with v = 0 on the boundary. Column weights only: both problems' weights
// vary with x alone.
class GridQuadratic final : public Problem {
 public:
  GridQuadratic(std::string_view name, Index k, Vector<double> ax, Vector<double> ay, Vector<double> b,
                Vector<double> start, Bounds bounds)
      : name_(name), k_(k), ax_(std::move(ax)), ay_(std::move(ay)), b_(std::move(b)), start_(std::move(start)),
        bounds_(std::move(bounds)) {}

  std::string_view name() const override { return name_; }
  Index dimension() const override { return k_ * k_; }
  Vector<double> start() const override { return start_; }
  std::optional<Bounds> bounds() const override { return bounds_; }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    apply(x, g);
    // f = 1/2 v'(Av) - b'v = 1/2 v'(g - b) with g = Av - b.
    double f = 0;
    for (Index q = 0; q < x.size(); ++q) {
      g[q] -= b_[q];
      f += x[q] * (g[q] - b_[q]);
    }
    return 0.5 * f;
  }

  void hessian(ConstVectorRef<double>, MatrixRef<double> h) const override {
    h.setZero();
    for (Index j = 0; j < k_; ++j)
      for (Index i = 0; i < k_; ++i) {
        const Index q = j * k_ + i;
        h(q, q) = ax_[i] + ax_[i + 1] + 2 * ay_[i];
        if (i > 0) h(q, q - 1) = -ax_[i];
        if (i + 1 < k_) h(q, q + 1) = -ax_[i + 1];
        if (j > 0) h(q, q - k_) = -ay_[i];
        if (j + 1 < k_) h(q, q + k_) = -ay_[i];
      }
  }
  void hessian_vector(ConstVectorRef<double>, ConstVectorRef<double> v, VectorRef<double> out) const override {
    apply(v, out);
  }
  bool has_hessian_vector() const override { return true; }

 private:
  // out = A v, row by row of the grid; ax_[i] weighs the edge left of
  // column i (ax_[0] and ax_[k] the edges to the boundary).
  void apply(ConstVectorRef<double> v, VectorRef<double> out) const {
    const Index k = k_;
    for (Index j = 0; j < k; ++j) {
      const double* row = v.data() + j * k;
      const double* below = j > 0 ? row - k : nullptr;
      const double* above = j + 1 < k ? row + k : nullptr;
      double* o = out.data() + j * k;
      for (Index i = 0; i < k; ++i) {
        const double left = i > 0 ? row[i - 1] : 0.0, right = i + 1 < k ? row[i + 1] : 0.0;
        const double vertical = (below ? below[i] : 0.0) + (above ? above[i] : 0.0);
        o[i] = ax_[i] * (row[i] - left) + ax_[i + 1] * (row[i] - right) + ay_[i] * (2 * row[i] - vertical);
      }
    }
  }

  std::string_view name_;  // a string literal
  Index k_;
  Vector<double> ax_;  // k + 1 horizontal-edge weights, over hx^2
  Vector<double> ay_;  // k vertical-edge weights, over hy^2
  Vector<double> b_;
  Vector<double> start_;
  Bounds bounds_;
};

// Enneper's minimal surface over the point (x, y): u^2 - v^2, where (u, v)
// solves x = u + u v^2 - u^3/3, y = -v - u^2 v + v^3/3 (by Newton's method
// from (x, -y), to the last bit).
double enneper(double x, double y) {
  double u = x, v = -y;
  for (int it = 0; it < 50; ++it) {
    const double f1 = u + u * v * v - u * u * u / 3 - x;
    const double f2 = -v - u * u * v + v * v * v / 3 - y;
    if (std::hypot(f1, f2) <= 1e-15) break;
    const double j11 = 1 + v * v - u * u, j12 = 2 * u * v;
    const double j21 = -2 * u * v, j22 = -1 - u * u + v * v;
    const double det = j11 * j22 - j12 * j21;
    u -= (j22 * f1 - j12 * f2) / det;
    v -= (j11 * f2 - j21 * f1) / det;
  }
  return u * u - v * v;
}

// The area of the surface v over a k x k grid on (-1/2, 1/2)^2 with fixed
// boundary values: h^2/2 times the sum over the 2 (k+1)^2 triangles of
// sqrt(1 + dx^2 + dy^2), dx and dy the triangle's difference quotients.
// Both kinds of triangle are written as dx = (V[xp] - V[xm]) / h and
// dy = (V[yp] - V[ym]) / h on the (k+2)^2 grid V with its boundary:
//   lower, at q = (i, j), 0 <= i, j <= k:     xp = q+1, xm = q, yp = q+W, ym = q;
//   upper, at q = (i, j), 1 <= i, j <= k+1:   xp = q, xm = q-1, yp = q, ym = q-W;
// W = k + 2.
class MinimalSurface final : public Problem {
 public:
  MinimalSurface(std::string_view name, Index k, double bound) : name_(name), k_(k), bound_(bound) {
    const Index w = k + 2;
    h_ = 1.0 / double(k + 1);
    grid_ = Vector<double>::Zero(w * w);
    for (Index i = 0; i < w; ++i) {
      const double t = -0.5 + double(i) * h_;
      grid_[i] = enneper(t, -0.5);                // bottom
      grid_[(w - 1) * w + i] = enneper(t, 0.5);   // top
      grid_[i * w] = enneper(-0.5, t);            // left
      grid_[i * w + w - 1] = enneper(0.5, t);     // right
    }
    gradient_grid_ = Vector<double>::Zero(w * w);
  }

  std::string_view name() const override { return name_; }
  Index dimension() const override { return k_ * k_; }
  std::optional<Bounds> bounds() const override { return Bounds::uniform(k_ * k_, -bound_, bound_); }

  // MINPACK-2's start: at each point the mean of the linear interpolations
  // between the bottom and top values and between the left and right ones.
  Vector<double> start() const override {
    const Index w = k_ + 2;
    Vector<double> x(k_ * k_);
    for (Index j = 1; j <= k_; ++j)
      for (Index i = 1; i <= k_; ++i) {
        const double a = double(j) * h_, b = double(i) * h_;
        const double vertical = a * grid_[(w - 1) * w + i] + (1 - a) * grid_[i];
        const double horizontal = b * grid_[j * w + w - 1] + (1 - b) * grid_[j * w];
        x[(j - 1) * k_ + (i - 1)] = (vertical + horizontal) / 2;
      }
    return x;
  }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    fill(x);
    gradient_grid_.setZero();
    double sum = 0;
    for_each_triangle([&](Index xp, Index xm, Index yp, Index ym) {
      const double dx = (grid_[xp] - grid_[xm]) / h_, dy = (grid_[yp] - grid_[ym]) / h_;
      const double s = std::sqrt(1 + dx * dx + dy * dy);
      sum += s;
      const double a = dx / (h_ * s), b = dy / (h_ * s);
      gradient_grid_[xp] += a;
      gradient_grid_[xm] -= a;
      gradient_grid_[yp] += b;
      gradient_grid_[ym] -= b;
    });
    const double area = h_ * h_ / 2;
    interior(gradient_grid_, g, area);
    return area * sum;
  }
  double value(ConstVectorRef<double> x) const override {
    fill(x);
    double sum = 0;
    for_each_triangle([&](Index xp, Index xm, Index yp, Index ym) {
      const double dx = (grid_[xp] - grid_[xm]) / h_, dy = (grid_[yp] - grid_[ym]) / h_;
      sum += std::sqrt(1 + dx * dx + dy * dy);
    });
    return h_ * h_ / 2 * sum;
  }

  // Per triangle, the Hessian of s = sqrt(1 + |d|^2) in d = (dx, dy) is
  // (I - d d'/s^2) / s; with d linear in the values, the product with w is
  // that matrix times w's own difference quotients, spread as the gradient is.
  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> w, VectorRef<double> out) const override {
    fill(x);
    direction_grid_.setZero(grid_.size());
    scatter(w, direction_grid_);
    gradient_grid_.setZero();
    for_each_triangle([&](Index xp, Index xm, Index yp, Index ym) {
      const double dx = (grid_[xp] - grid_[xm]) / h_, dy = (grid_[yp] - grid_[ym]) / h_;
      const double ex = (direction_grid_[xp] - direction_grid_[xm]) / h_;
      const double ey = (direction_grid_[yp] - direction_grid_[ym]) / h_;
      const double s2 = 1 + dx * dx + dy * dy, s = std::sqrt(s2);
      const double de = (dx * ex + dy * ey) / s2;
      const double a = (ex - dx * de) / (h_ * s), b = (ey - dy * de) / (h_ * s);
      gradient_grid_[xp] += a;
      gradient_grid_[xm] -= a;
      gradient_grid_[yp] += b;
      gradient_grid_[ym] -= b;
    });
    interior(gradient_grid_, out, h_ * h_ / 2);
  }
  bool has_hessian_vector() const override { return true; }

  // The same per-triangle matrix, assembled over the (up to four) interior
  // points each triangle touches.
  void hessian(ConstVectorRef<double> x, MatrixRef<double> hess) const override {
    fill(x);
    hess.setZero();
    const double area = h_ * h_ / 2;
    for_each_triangle([&](Index xp, Index xm, Index yp, Index ym) {
      const double dx = (grid_[xp] - grid_[xm]) / h_, dy = (grid_[yp] - grid_[ym]) / h_;
      const double s2 = 1 + dx * dx + dy * dy, s = std::sqrt(s2);
      const double mxx = (1 - dx * dx / s2) / s, myy = (1 - dy * dy / s2) / s, mxy = -dx * dy / (s2 * s);
      // Each point's coefficients in dx and dy.
      const Index points[4] = {xp, xm, yp, ym};
      const double cx[4] = {1 / h_, -1 / h_, 0, 0}, cy[4] = {0, 0, 1 / h_, -1 / h_};
      for (int p = 0; p < 4; ++p) {
        const Index r = variable(points[p]);
        if (r < 0) continue;
        for (int q = 0; q < 4; ++q) {
          const Index c = variable(points[q]);
          if (c < 0) continue;
          hess(r, c) += area * (mxx * cx[p] * cx[q] + mxy * (cx[p] * cy[q] + cy[p] * cx[q]) + myy * cy[p] * cy[q]);
        }
      }
    });
  }

 private:
  template <class Visit>
  void for_each_triangle(Visit&& visit) const {
    const Index w = k_ + 2;
    for (Index j = 0; j <= k_; ++j)
      for (Index i = 0; i <= k_; ++i) {
        const Index q = j * w + i;
        visit(q + 1, q, q + w, q);  // lower
      }
    for (Index j = 1; j <= k_ + 1; ++j)
      for (Index i = 1; i <= k_ + 1; ++i) {
        const Index q = j * w + i;
        visit(q, q - 1, q, q - w);  // upper
      }
  }
  // The variable at grid index q, or -1 on the boundary.
  Index variable(Index q) const {
    const Index w = k_ + 2, i = q % w, j = q / w;
    return i >= 1 && i <= k_ && j >= 1 && j <= k_ ? (j - 1) * k_ + (i - 1) : -1;
  }
  void fill(ConstVectorRef<double> x) const { scatter(x, grid_); }
  void scatter(ConstVectorRef<double> x, Vector<double>& grid) const {
    const Index w = k_ + 2;
    for (Index j = 0; j < k_; ++j)
      std::copy_n(x.data() + j * k_, k_, grid.data() + (j + 1) * w + 1);
  }
  void interior(const Vector<double>& grid, VectorRef<double> out, double scale) const {
    const Index w = k_ + 2;
    for (Index j = 0; j < k_; ++j)
      for (Index i = 0; i < k_; ++i) out[j * k_ + i] = scale * grid[(j + 1) * w + i + 1];
  }

  std::string_view name_;  // a string literal
  Index k_;
  double bound_;
  double h_;
  mutable Vector<double> grid_;            // the values with their boundary; the interior is x's
  mutable Vector<double> gradient_grid_;   // the gradient (or H w) before its scale
  mutable Vector<double> direction_grid_;  // w with a zero boundary, for hessian_vector
};

}  // namespace

std::unique_ptr<Problem> make_torsion(Index n) {
  const Index k = grid_side("torsion", n);
  const double h = 1.0 / double(k + 1), c = 5.0;
  // Each grid edge lies in two triangles of area h^2/2; its term is
  // h^2/2 (dv/h)^2, so every weight is 1 (h^2 / h^2).
  Vector<double> ax = Vector<double>::Ones(k + 1), ay = Vector<double>::Ones(k);
  Vector<double> b = Vector<double>::Constant(n, c * h * h);
  Vector<double> dist(n);
  for (Index j = 1; j <= k; ++j)
    for (Index i = 1; i <= k; ++i) dist[(j - 1) * k + (i - 1)] = std::min(edge_distance(i, k), edge_distance(j, k));
  // MINPACK-2's start is the upper bound.
  return std::make_unique<GridQuadratic>("torsion", k, std::move(ax), std::move(ay), std::move(b), dist,
                                         Bounds{-dist, dist});
}

std::unique_ptr<Problem> make_journal_bearing(Index n) {
  const Index k = grid_side("journal_bearing", n);
  const double ecc = 0.1, half_width = 10.0;
  const double hx = 2 * std::numbers::pi / double(k + 1), hy = 2 * half_width / double(k + 1);
  auto p = [&](Index i) {
    const double t = 1 + ecc * std::cos(double(i) * hx);
    return t * t * t;
  };
  // A triangle's weight is hx hy / 6 times the sum of p at its three
  // corners (the trapezoidal rule MINPACK-2 uses); the two triangles of a
  // horizontal edge (i, i+1) sum to hx hy (p_i + p_{i+1}) / 2, and those of a
  // vertical edge in column i to hx hy (4 p_i + p_{i-1} + p_{i+1}) / 6.
  Vector<double> ax(k + 1), ay(k);
  for (Index i = 0; i <= k; ++i) ax[i] = hx * hy * (p(i) + p(i + 1)) / 2 / (hx * hx);
  for (Index i = 1; i <= k; ++i) ay[i - 1] = hx * hy * (4 * p(i) + p(i - 1) + p(i + 1)) / 6 / (hy * hy);
  Vector<double> b(n), start(n);
  for (Index j = 0; j < k; ++j)
    for (Index i = 1; i <= k; ++i) {
      const double s = std::sin(double(i) * hx);
      b[j * k + i - 1] = ecc * hx * hy * s;
      start[j * k + i - 1] = std::max(s, 0.0);
    }
  return std::make_unique<GridQuadratic>("journal_bearing", k, std::move(ax), std::move(ay), std::move(b),
                                         std::move(start), Bounds{Vector<double>::Zero(n),
                                                                  Vector<double>::Constant(n, Bounds::inf)});
}

std::unique_ptr<Problem> make_minimal_surface_obstacle(Index n) {
  return std::make_unique<MinimalSurface>("minimal_surface_obstacle", grid_side("minimal_surface_obstacle", n), 0.2);
}

}  // namespace descent::problems::detail
