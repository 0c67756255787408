#!/usr/bin/python3
"""Reference values for the bound-constrained test problems, written to
tests/problems/bounded_reference.json and read by bounded_problems_test.cpp.

  make_bounded_reference.py [--out FILE]

Each problem is written here a second time, independently of the C++ code
and in another form: the MINPACK-2 problems as sums over the triangles of
their triangulation (the C++ code sums the 5-point stencils they reduce to),
the Hock–Schittkowski ones from the book's formulas. For each problem and
size this stores

  f_start  f at the published start (checks that both codes define one function),
  f_min    the minimum over the bounds, from scipy's L-BFGS-B run to a projected
           gradient of 1e-11 (and, where the book gives f*, checked against it),
  active   how many bounds hold at that minimum.

Run once with Debian's /usr/bin/python3 (numpy, scipy); the tests never need them.
"""

import argparse
import json
import math
import os

import numpy as np
import scipy.optimize as so

HERE = os.path.dirname(os.path.abspath(__file__))
INF = np.inf


# ---------------------------------------------------------------- MINPACK-2
# The grid V[j, i] holds the (k+2) x (k+2) values with the boundary; x is
# its interior row by row (x[j*k + i]). Lower triangles at (i, j), 0 <= i, j
# <= k, have corners (i, j), (i+1, j), (i, j+1); upper ones at 1 <= i, j <=
# k+1 have (i, j), (i-1, j), (i, j-1).

def padded(x, k, boundary=None):
    v = np.zeros((k + 2, k + 2)) if boundary is None else boundary.copy()
    v[1:-1, 1:-1] = x.reshape(k, k)
    return v


def triangle_slopes(v, hx, hy):
    lower = ((v[:-1, 1:] - v[:-1, :-1]) / hx, (v[1:, :-1] - v[:-1, :-1]) / hy)
    upper = ((v[1:, 1:] - v[1:, :-1]) / hx, (v[1:, 1:] - v[:-1, 1:]) / hy)
    return lower, upper


def spread(k, lower_a, lower_b, upper_a, upper_b, hx, hy):
    """The gradient of sum_t phi_t(dx_t, dy_t) given a = phi_x and b = phi_y per triangle."""
    g = np.zeros((k + 2, k + 2))
    g[:-1, :-1] -= lower_a / hx + lower_b / hy
    g[:-1, 1:] += lower_a / hx
    g[1:, :-1] += lower_b / hy
    g[1:, 1:] += upper_a / hx + upper_b / hy
    g[1:, :-1] -= upper_a / hx
    g[:-1, 1:] -= upper_b / hy
    return g[1:-1, 1:-1].ravel()


def torsion(k, c=5.0):
    h = 1.0 / (k + 1)
    area = h * h / 2
    d = np.minimum.outer(np.minimum(np.arange(1, k + 1), np.arange(k, 0, -1)),
                         np.minimum(np.arange(1, k + 1), np.arange(k, 0, -1))) * h

    def fg(x):
        v = padded(x, k)
        (lx, ly), (ux, uy) = triangle_slopes(v, h, h)
        quad = np.sum(lx**2 + ly**2) + np.sum(ux**2 + uy**2)
        # Each triangle's linear term: -c/3 times the sum of its corner values.
        corners = (v[:-1, :-1] + v[:-1, 1:] + v[1:, :-1]).sum() + (v[1:, 1:] + v[1:, :-1] + v[:-1, 1:]).sum()
        f = area * (quad / 2 - c / 3 * corners)
        g = area * spread(k, lx, ly, ux, uy, h, h) - c * h * h  # six triangles per point: 6 * area * c/3
        return f, g

    b = d.ravel()
    return fg, b.copy(), -b, b


def journal_bearing(k, ecc=0.1, half_width=10.0):
    hx = 2 * math.pi / (k + 1)
    hy = 2 * half_width / (k + 1)
    hxhy = hx * hy
    p = lambda i: (1 + ecc * np.cos(i * hx))**3  # noqa: E731
    cols = np.arange(k + 1)
    # Trapezoidal weights: lower triangle of column i has corners in columns i, i+1, i;
    # upper triangle of column i (1..k+1) has corners in columns i, i-1, i.
    w_lower = hxhy * (2 * p(cols) + p(cols + 1)) / 6
    w_upper = hxhy * (2 * p(cols + 1) + p(cols)) / 6
    s = np.sin(np.arange(1, k + 1) * hx)
    lin = np.tile(s, k)

    def fg(x):
        v = padded(x, k)
        (lx, ly), (ux, uy) = triangle_slopes(v, hx, hy)
        f = 0.5 * (np.sum(w_lower * (lx**2 + ly**2)) + np.sum(w_upper * (ux**2 + uy**2))) - ecc * hxhy * lin @ x
        g = spread(k, w_lower * lx, w_lower * ly, w_upper * ux, w_upper * uy, hx, hy) - ecc * hxhy * lin
        return f, g

    start = np.tile(np.maximum(s, 0.0), k)
    return fg, start, np.zeros(k * k), np.full(k * k, INF)


def enneper(x, y):
    u, v = x, -y
    for _ in range(50):
        f1 = u + u * v * v - u**3 / 3 - x
        f2 = -v - u * u * v + v**3 / 3 - y
        if math.hypot(f1, f2) <= 1e-15:
            break
        j11, j12, j21, j22 = 1 + v * v - u * u, 2 * u * v, -2 * u * v, -1 - u * u + v * v
        det = j11 * j22 - j12 * j21
        u, v = u - (j22 * f1 - j12 * f2) / det, v - (j11 * f2 - j21 * f1) / det
    return u * u - v * v


def minimal_surface_obstacle(k, bound=0.2):
    h = 1.0 / (k + 1)
    area = h * h / 2
    t = -0.5 + np.arange(k + 2) * h
    edge = np.zeros((k + 2, k + 2))
    edge[0, :] = [enneper(a, -0.5) for a in t]
    edge[-1, :] = [enneper(a, 0.5) for a in t]
    edge[:, 0] = [enneper(-0.5, a) for a in t]
    edge[:, -1] = [enneper(0.5, a) for a in t]

    def fg(x):
        v = padded(x, k, edge)
        (lx, ly), (ux, uy) = triangle_slopes(v, h, h)
        sl = np.sqrt(1 + lx**2 + ly**2)
        su = np.sqrt(1 + ux**2 + uy**2)
        return area * (sl.sum() + su.sum()), area * spread(k, lx / sl, ly / sl, ux / su, uy / su, h, h)

    a = np.arange(1, k + 1) * h
    vertical = np.outer(a, edge[-1, 1:-1]) + np.outer(1 - a, edge[0, 1:-1])       # [j, i]
    horizontal = np.outer(edge[1:-1, -1], a) + np.outer(edge[1:-1, 0], 1 - a)     # [j, i]
    start = ((vertical + horizontal) / 2).ravel()
    return fg, start, np.full(k * k, -bound), np.full(k * k, bound)


# ------------------------------------------------------- Hock–Schittkowski

def rosenbrock(x):
    f = 100 * (x[1] - x[0]**2)**2 + (1 - x[0])**2
    g = np.array([-400 * x[0] * (x[1] - x[0]**2) - 2 * (1 - x[0]), 200 * (x[1] - x[0]**2)])
    return f, g


def gulf(x):
    i = np.arange(1, 100)
    t = i / 100.0
    y = 25 + (-50 * np.log(t))**(2 / 3)
    d = np.abs(y - x[1])
    e = np.exp(-d**x[2] / x[0])
    r = e - t
    dr0 = e * d**x[2] / x[0]**2
    dr1 = e * x[2] * d**(x[2] - 1) * np.sign(y - x[1]) / x[0]
    dr2 = -e * d**x[2] * np.log(d) / x[0]
    return r @ r, 2 * np.array([r @ dr0, r @ dr1, r @ dr2])


def wood(x):
    a, b, c, d = x
    f = (100 * (b - a * a)**2 + (1 - a)**2 + 90 * (d - c * c)**2 + (1 - c)**2
         + 10 * (b + d - 2)**2 + 0.1 * (b - d)**2)
    g = np.array([
        -400 * a * (b - a * a) - 2 * (1 - a),
        200 * (b - a * a) + 20 * (b + d - 2) + 0.2 * (b - d),
        -360 * c * (d - c * c) - 2 * (1 - c),
        180 * (d - c * c) + 20 * (b + d - 2) - 0.2 * (b - d)])
    return f, g


def hs3(x):
    d = x[1] - x[0]
    return x[1] + 1e-5 * d * d, np.array([-2e-5 * d, 1 + 2e-5 * d])


def hs4(x):
    return (x[0] + 1)**3 / 3 + x[1], np.array([(x[0] + 1)**2, 1.0])


def hs5(x):
    s, d = x[0] + x[1], x[0] - x[1]
    return (math.sin(s) + d * d - 1.5 * x[0] + 2.5 * x[1] + 1,
            np.array([math.cos(s) + 2 * d - 1.5, math.cos(s) - 2 * d + 2.5]))


def hs45(x):
    g = np.array([-np.prod(np.delete(x, i)) / 120 for i in range(5)])
    return 2 - np.prod(x) / 120, g


def hs110(x):
    p = np.prod(x)**0.2
    a, b = np.log(x - 2), np.log(10 - x)
    return np.sum(a * a + b * b) - p, 2 * a / (x - 2) - 2 * b / (10 - x) - 0.2 * p / x


def v(*xs):
    return np.array(xs, dtype=float)


# name: (fg, start, lower, upper, the book's f*)
HS = {
    "hs1": (rosenbrock, v(-2, 1), v(-INF, -1.5), v(INF, INF), 0.0),
    "hs2": (rosenbrock, v(-2, 1), v(-INF, 1.5), v(INF, INF), 0.0504261879),
    "hs3": (hs3, v(10, 1), v(-INF, 0), v(INF, INF), 0.0),
    "hs4": (hs4, v(1.125, 0.125), v(1, 0), v(INF, INF), 8 / 3),
    "hs5": (hs5, v(0, 0), v(-1.5, -3), v(4, 3), -math.sqrt(3) / 2 - math.pi / 3),
    "hs25": (gulf, v(100, 12.5, 3), v(0.1, 0, 0), v(100, 25.6, 5), 0.0),
    "hs38": (wood, v(-3, -1, -3, -1), np.full(4, -10.0), np.full(4, 10.0), 0.0),
    "hs45": (hs45, np.full(5, 2.0), np.zeros(5), v(1, 2, 3, 4, 5), 1.0),
    "hs110": (hs110, np.full(10, 9.0), np.full(10, 2.001), np.full(10, 9.999), -45.77846971),
}

# From their standard starts two problems end elsewhere than at the book's
# f*: hs2 descends to the local minimum at x = (-1.2210262, 1.5), f =
# 4.9412293; hs25 starts on a plateau where every exp(-|y_i - x2|^x3 / x1) is
# below 1e-300, so the gradient is zero and f = sum (i/100)^2 = 32.835.
LOCAL = {"hs2", "hs25"}

GRID = {"torsion": torsion, "journal_bearing": journal_bearing,
        "minimal_surface_obstacle": minimal_surface_obstacle}
SIDES = (10, 30)


def solve(fg, start, lo, hi):
    x0 = np.clip(start, lo, hi)
    best = None
    # From the start, then again from the answer: the second run certifies
    # (or improves) the first.
    for _ in range(2):
        r = so.minimize(fg, x0, jac=True, method="L-BFGS-B", bounds=list(zip(lo, hi)),
                        options={"maxcor": 20, "gtol": 1e-11, "ftol": 1e-16, "maxiter": 100000, "maxfun": 200000})
        if best is None or r.fun <= best.fun:
            best = r
        x0 = r.x
    x = best.x
    g = fg(x)[1]
    pg = np.max(np.abs(np.clip(x - g, lo, hi) - x))
    active = int(np.sum((x == lo) | (x == hi)))
    return best.fun, pg, active


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "bounded_reference.json"))
    args = ap.parse_args()

    cases = []
    for name, (fg, start, lo, hi, book) in HS.items():
        f_min, pg, active = solve(fg, start, lo, hi)
        # Where the descent from the book's start ends in another (local)
        # minimum than the book's, the test holds a solver to that one.
        local = f_min - book > 1e-7 * max(1, abs(book))
        assert not local or name in LOCAL, (name, f_min, book)
        cases.append({"problem": name, "n": len(start), "f_start": float(fg(start)[0]), "f_min": float(f_min),
                      "book_minimum": book, "local_minimum": bool(local), "projected_gradient": float(pg), "active": active})
        print(f"{name:26} n={len(start):6} f*={f_min:.12g} (book {book:.10g}{', local' if local else ''})"
              f"  pg={pg:.1e}  active={active}")
    for name, make in GRID.items():
        for k in SIDES:
            fg, start, lo, hi = make(k)
            f_min, pg, active = solve(fg, start, lo, hi)
            cases.append({"problem": name, "n": k * k, "f_start": float(fg(start)[0]), "f_min": float(f_min),
                          "projected_gradient": float(pg), "active": active})
            print(f"{name:26} n={k * k:6} f*={f_min:.15g}  pg={pg:.1e}  active={active}")
    with open(args.out, "w") as out:
        json.dump({"generator": "tests/problems/make_bounded_reference.py", "solver": "scipy L-BFGS-B, m = 20",
                   "cases": cases}, out, indent=1)
        out.write("\n")


if __name__ == "__main__":
    main()
