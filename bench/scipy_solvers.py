#!/usr/bin/python3
"""scipy.optimize on descent's own test problems (the descent_problems module).

  scipy_solvers.py lbfgsb [--n N] [--m M ...] [--tol EPS] [--repeats R] [--json] [--json-out FILE]
      scipy's L-BFGS-B on extended Rosenbrock, fun_and_jac with jac=True,
      maxcor = m, gtol = tol, ftol = 0, alternating with descent's L-BFGS
      on the same object (descent_problems.lbfgs); medians of R timed runs.
  scipy_solvers.py mgh [--method NAME ...] [--x0-scale S] [--gtol EPS] [--max-iter K] [--time-limit S]
                      [--json] [--json-out FILE]
      BFGS, L-BFGS-B, CG, Newton-CG, trust-ncg, trust-exact and dogleg on the
      35 Moré–Garbow–Hillstrom problems from S times their standard starts
      (S = 1, 10 and 100 are the paper's); solved
      as in `descent minimize --suite mgh`: f within 1e-6 relative or 1e-10
      absolute of the known minimum (or below it).

Run with Debian's /usr/bin/python3 (it has scipy and numpy). The module is
looked up in --module-dir, $DESCENT_PYTHON_DIR, then build/release/python.
"""

import argparse
import json
import math
import os
import signal
import statistics
import sys
import time
import warnings

import numpy as np
import scipy
import scipy.optimize as so

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODULE_DIR = os.path.join(HERE, os.pardir, "build", "release", "python")


def import_problems(module_dir):
    for d in (module_dir, os.environ.get("DESCENT_PYTHON_DIR"), DEFAULT_MODULE_DIR):
        if d:
            sys.path.insert(0, os.path.abspath(d))
    try:
        import descent_problems
    except ImportError as e:
        sys.exit(f"cannot import descent_problems ({e}); build it with "
                 "cmake --preset release -DDESCENT_BUILD_BENCH=ON && cmake --build --preset release, "
                 "or pass --module-dir")
    return descent_problems


def emit(report, args):
    """Print the JSON report (--json) and/or write it to --json-out."""
    if args.json:
        print(json.dumps(report, indent=2))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")


def solved(f, fstar, success):
    """The criterion of `descent minimize --suite mgh`."""
    if f is None or not math.isfinite(f):
        return False
    if fstar is not None:
        return f - fstar <= max(1e-6 * abs(fstar), 1e-10)
    return bool(success)


# --- lbfgsb: the large extended Rosenbrock runs -------------------------------

def seconds_stats(seconds):
    s = sorted(seconds)
    return {"seconds_median": statistics.median(s), "seconds_min": s[0], "seconds_max": s[-1]}


def run_lbfgsb(dp, args):
    """scipy's L-BFGS-B and descent's L-BFGS (through the module, in this
    process) alternately on the same Problem object."""
    p = dp.make("extended_rosenbrock", dim=args.n)
    fstar = p.known_minimum or 0.0
    report = {"benchmark": "scipy_lbfgsb", "problem": "extended_rosenbrock", "n": args.n, "tol": args.tol,
              "repeats": args.repeats, "scipy": scipy.__version__,
              "stopping_test": "scipy: ||projected g||_inf <= gtol; descent: ||g||_2 <= tol",
              "results": []}
    for m in args.m:
        options = {"maxcor": m, "gtol": args.tol, "ftol": 0.0, "maxiter": args.max_iter,
                   "maxfun": 10 * args.max_iter}
        scipy_runs, descent_runs = [], []
        for r in range(args.warmup + args.repeats):
            t0 = time.perf_counter()
            d = dp.lbfgs(p, m=m, tol=args.tol, max_iter=args.max_iter)
            d_seconds = time.perf_counter() - t0
            x0 = p.start()
            t0 = time.perf_counter()
            res = so.minimize(p.fun_and_jac, x0, jac=True, method="L-BFGS-B", options=options)
            s_seconds = time.perf_counter() - t0
            if r >= args.warmup:
                descent_runs.append((d_seconds, d))
                scipy_runs.append((s_seconds, res))
        res = scipy_runs[-1][1]
        g = p.jac(res.x)
        g2, ginf = float(np.linalg.norm(g)), float(np.max(np.abs(g)))
        ok = solved(float(res.fun), fstar, res.success)
        sp = {"iterations": int(res.nit), "function_evaluations": int(res.nfev),
              "gradient_evaluations": int(res.njev), "f": float(res.fun), "gradient_norm": g2,
              "gradient_inf_norm": ginf, "gradient_2norm_within_tol": g2 <= args.tol,
              "success": bool(res.success), "message": str(res.message), "reached_minimum": ok,
              **seconds_stats([t for t, _ in scipy_runs])}
        d = descent_runs[-1][1]
        d_ok = d["converged"] and solved(d["f"], fstar, d["converged"])
        de = {"iterations": d["iterations"], "function_evaluations": d["value_evaluations"],
              "gradient_evaluations": d["gradient_evaluations"], "f": d["f"], "gradient_norm": d["gradient_norm"],
              "status": d["status"], "reached_minimum": d_ok, **seconds_stats([t for t, _ in descent_runs])}
        row = {"m": m, "scipy": sp, "descent": de,
               "ratio_seconds": de["seconds_median"] / sp["seconds_median"],
               "ratio_evaluations": de["function_evaluations"] / max(1, sp["function_evaluations"])}
        report["results"].append(row)
        if not ok:
            print(f"WARNING: scipy L-BFGS-B (m = {m}) did not reach the minimum: {res.message}, "
                  f"f = {res.fun:.3e}", file=sys.stderr)
        if not d_ok:
            print(f"WARNING: descent lbfgs (m = {m}) did not reach the minimum: {d['status']}, "
                  f"f = {d['f']:.3e}", file=sys.stderr)
    emit(report, args)
    if args.json:
        return
    print(f"scipy {scipy.__version__} L-BFGS-B (maxcor = m, gtol = {args.tol:g}, ftol = 0) against descent lbfgs "
          f"(||g||_2 <= {args.tol:g}) on extended_rosenbrock n = {args.n}, {args.repeats} timed runs each, "
          "alternating")
    print("(scipy stops on the inf-norm of the projected gradient, ||Pg||_inf <= gtol, a looser test than "
          "descent's ||g||_2 <= tol; |g|_2 is the 2-norm at the final point)")
    print(f"{'m':>3} {'side':<16} {'iter':>6} {'evals':>6} {'f':>11} {'|g|_2':>10} {'median s':>10} "
          f"{'min s':>10} {'max s':>10} {'time d/s':>9}  stop")
    for r in report["results"]:
        for name, x in (("descent", r["descent"]), ("scipy L-BFGS-B", r["scipy"])):
            ratio = f"{r['ratio_seconds']:>9.3f}" if name == "descent" else f"{'':>9}"
            print(f"{r['m']:>3} {name:<16} {x['iterations']:>6} {x['function_evaluations']:>6} {x['f']:>11.3e} "
                  f"{x['gradient_norm']:>10.3e} {x['seconds_median']:>10.6f} {x['seconds_min']:>10.6f} "
                  f"{x['seconds_max']:>10.6f} {ratio}  {x.get('message', x.get('status'))}")
    print("(time d/s: descent's median over scipy's; < 1 means descent is faster)")


# --- mgh: the Moré–Garbow–Hillstrom table --------------------------------------

METHODS = ["BFGS", "L-BFGS-B", "CG", "Newton-CG", "trust-ncg", "trust-exact", "dogleg"]


def method_call(method, p, x0, gtol, max_iter):
    """scipy.optimize.minimize with the tightest usual tolerances."""
    kw = {"jac": p.jac}
    if method in ("Newton-CG", "trust-ncg", "trust-exact", "dogleg"):
        kw["hess"] = p.hess
    if method == "BFGS":
        options = {"gtol": gtol, "maxiter": max_iter}
    elif method == "L-BFGS-B":
        options = {"gtol": gtol, "ftol": 0.0, "maxiter": max_iter, "maxfun": 10 * max_iter}
    elif method == "CG":
        options = {"gtol": gtol, "maxiter": max_iter}
    elif method == "Newton-CG":
        # No gradient test: it stops when the mean |step| <= xtol.
        options = {"xtol": gtol, "maxiter": max_iter}
    else:
        options = {"gtol": gtol, "maxiter": max_iter}
    return so.minimize(p.fun, x0, method=method, options=options, **kw)


class RunTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise RunTimeout()


def run_mgh(dp, args):
    methods = args.method or METHODS
    for m in methods:
        if m not in METHODS:
            sys.exit(f"unknown --method {m}; methods: {', '.join(METHODS)}")
    names = dp.mgh_names()
    rows = []
    counts = {m: 0 for m in methods}
    if not args.json:
        start = "the standard starts" if args.x0_scale == 1 else f"{args.x0_scale:g} x the standard starts"
        print(f"scipy {scipy.__version__} on the Moré–Garbow–Hillstrom set from {start}: gradient + "
              "Hessian evaluations when solved")
        print("(f within 1e-6 relative or 1e-10 absolute of the known minimum), '-' when not; 'n/a': the Hessian "
              "was not positive definite, 'time': stopped after the time limit, 'err': scipy raised.")
        print(f"gtol = {args.gtol:g} (Newton-CG: xtol), maxiter = {args.max_iter}, time limit "
              f"{args.time_limit:g} s a run.\n")
        print(f"{'problem':<32}" + "".join(f" {m:>11}" for m in methods))
    t_all = time.perf_counter()
    for name in names:
        p = dp.make(name)
        fstar = p.known_minimum
        if not args.json:
            print(f"{name + ' (' + str(p.n) + ')':<32}", end="", flush=True)
        for m in methods:
            rec = {"problem": name, "n": p.n, "method": m, "known_minimum": fstar}
            t0 = time.perf_counter()
            # scipy 1.10's trust-exact can loop forever in its subproblem on a
            # singular Hessian (linear_rank1): a wall-clock limit per run.
            signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, args.time_limit)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    res = method_call(m, p, args.x0_scale * np.asarray(p.start()), args.gtol, args.max_iter)
                signal.setitimer(signal.ITIMER_REAL, 0)
                f = float(res.fun)
                njev = int(getattr(res, "njev", 0) or 0)
                nhev = int(getattr(res, "nhev", 0) or 0)
                rec.update({"f": f, "iterations": int(getattr(res, "nit", 0) or 0),
                            "function_evaluations": int(getattr(res, "nfev", 0) or 0),
                            "gradient_evaluations": njev, "hessian_evaluations": nhev,
                            "success": bool(res.success), "message": str(res.message),
                            "gradient_norm": float(np.linalg.norm(p.jac(res.x)))})
                rec["solved"] = solved(f, fstar, res.success)
                # dogleg and trust-exact need a positive definite Hessian.
                not_pd = "linalg error" in rec["message"] or "not positive definite" in rec["message"]
                cell = f"{njev + nhev}" if rec["solved"] else ("n/a" if not_pd else "-")
            except RunTimeout:
                rec.update({"error": f"stopped after the --time-limit of {args.time_limit:g} s", "solved": False})
                cell = "time"
            except Exception as e:
                signal.setitimer(signal.ITIMER_REAL, 0)
                rec.update({"error": f"{type(e).__name__}: {e}", "solved": False})
                cell = "err"
            rec["seconds"] = time.perf_counter() - t0
            counts[m] += rec["solved"]
            rows.append(rec)
            if not args.json:
                print(f" {cell:>11}", end="", flush=True)
        if not args.json:
            print()
    total = time.perf_counter() - t_all
    emit({"benchmark": "scipy_mgh", "scipy": scipy.__version__, "x0_scale": args.x0_scale, "gtol": args.gtol,
          "max_iterations": args.max_iter,
          "time_limit": args.time_limit, "problems": len(names), "solved": counts, "results": rows}, args)
    if args.json:
        return
    print(f"{'solved':<32}" + "".join(f" {str(counts[m]) + '/' + str(len(names)):>11}" for m in methods))
    print(f"({total:.1f} s in all)")
    errors = [r for r in rows if "error" in r]
    if errors:
        print("\nstopped or raised:")
        for r in errors:
            print(f"  {r['problem']} / {r['method']}: {r['error']}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module-dir", help="directory holding descent_problems*.so")
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("lbfgsb", help="L-BFGS-B on extended Rosenbrock")
    a.add_argument("--n", type=int, default=10000)
    a.add_argument("--m", type=int, action="append", help="maxcor; repeat for several (default 6 and 10)")
    a.add_argument("--tol", type=float, default=1e-6, help="gtol (an inf-norm test in scipy)")
    a.add_argument("--repeats", type=int, default=7)
    a.add_argument("--warmup", type=int, default=1)
    a.add_argument("--max-iter", type=int, default=10000)
    a.add_argument("--json", action="store_true", help="print JSON instead of the table")
    a.add_argument("--json-out", help="also write the JSON report to this file")
    b = sub.add_parser("mgh", help="the Moré–Garbow–Hillstrom table")
    b.add_argument("--method", action="append", help=f"one of {', '.join(METHODS)}; repeat (default all)")
    b.add_argument("--x0-scale", type=float, default=1.0, help="start from S times the standard start")
    b.add_argument("--gtol", type=float, default=1e-10)
    b.add_argument("--max-iter", type=int, default=10000)
    b.add_argument("--time-limit", type=float, default=10.0, help="wall-clock seconds per run")
    b.add_argument("--json", action="store_true", help="print JSON instead of the table")
    b.add_argument("--json-out", help="also write the JSON report to this file")
    args = ap.parse_args()
    dp = import_problems(args.module_dir)
    if args.command == "lbfgsb":
        args.m = args.m or [6, 10]
        if args.repeats < 1:
            sys.exit("--repeats must be >= 1")
        run_lbfgsb(dp, args)
    else:
        run_mgh(dp, args)


if __name__ == "__main__":
    main()
