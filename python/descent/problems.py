"""descent.problems: descent's test problems, written in C++.

    import descent
    p = descent.problems.make("extended_rosenbrock", dim=10**6)
    res = descent.minimize(p, None, method="L-BFGS-B")      # all in C++, x0 = the standard start
    scipy.optimize.minimize(p.fun_and_jac, p.start(), jac=True, method="L-BFGS-B")   # the same function

The Moré–Garbow–Hillstrom set (mgh_names()), extended Rosenbrock and the
quadratics, and the bound-constrained Hock–Schittkowski and MINPACK-2 problems
(bounded_names(), whose bounds descent.minimize applies by itself), and the
multimodal functions of global optimization (multimodal_names(): Ackley,
Rastrigin, ... Michalewicz, each with its search domain). Each has
fun, jac, fun_and_jac, hess (n <= 4096) and hessp for other libraries to call,
start() and known_minimum. catalog() describes them all.
"""

from ._core import problems as _problems

Problem = _problems.Problem
make = _problems.make
catalog = _problems.catalog
names = _problems.names
mgh_names = _problems.mgh_names
bounded_names = _problems.bounded_names
multimodal_names = _problems.multimodal_names

__all__ = ["Problem", "make", "catalog", "names", "mgh_names", "bounded_names", "multimodal_names"]
