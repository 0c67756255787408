#!/usr/bin/env bash
# Installs descent from a build tree into a scratch prefix, then builds and
# runs examples/lbfgs_consumer against that installed copy alone.
#   consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S "$source/examples/lbfgs_consumer" -B "$scratch/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/build" >/dev/null
"$scratch/build/fit_exponential"
# The Python package, where the build made one: importable from the
# installed copy alone.
for package in "$scratch"/prefix/lib/python3*/dist-packages/descent; do
  [[ -d "$package" ]] || continue
  (cd "$scratch" && PYTHONPATH="$(dirname "$package")" /usr/bin/python3 -c \
    "import descent, numpy; r = descent.minimize(lambda x: (float(x @ x), 2 * x), numpy.ones(3), jac=True); \
assert r.success and r.fun < 1e-12, r; \
import descent.optim, descent.optim.lr_scheduler, descent.problems, descent._estimators; \
assert descent.minimize(descent.problems.make('rosenbrock'), None).success; \
print('python: descent', descent.__version__, 'from', descent.__file__)")
done
