#!/usr/bin/env bash
# pip install ./python --no-build-isolation, offline, reusing this build tree
# for the extension (DESCENT_BUILD_DIR), into a scratch directory; then the
# package is imported and used from there alone.
#   pip_install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch" "$source/python/descent.egg-info"' EXIT
DESCENT_BUILD_DIR="$build" PIP_NO_INDEX=1 /usr/bin/python3 -m pip install --quiet --no-build-isolation \
  --no-deps --no-cache-dir --target "$scratch/site" "$source/python" 2>&1 | grep -v "Running pip as the 'root'" || true
test -f "$scratch/site/descent/optim/lr_scheduler.py"
cd "$scratch"
PYTHONPATH="$scratch/site" /usr/bin/python3 -c "
import numpy as np, descent, descent.optim as optim
assert descent.__file__.startswith('$scratch/site'), descent.__file__
r = descent.minimize(lambda x: (float(x @ x), 2 * x), np.ones(3), jac=True, method='L-BFGS-B')
assert r.success and r.fun < 1e-12, r
x = np.ones(2); optim.SGD([x], lr=0.5).step(2 * x); assert np.allclose(x, 0)
print('pip: descent', descent.__version__, 'from', descent.__file__)"
