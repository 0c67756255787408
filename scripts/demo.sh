#!/usr/bin/env bash
# The main job: installs what is missing (Fashion-MNIST included, from
# Debian's dataset-fashion-mnist), builds the release binary, trains a
# network on Fashion-MNIST and fits a logistic regression to it with L-BFGS,
# then tours the solvers on classic problems.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh build
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target descent_cli
descent=build/release/bin/descent
mkdir -p out

echo
echo "== An MLP (784-256-128-10) on Fashion-MNIST: Adam, 5 epochs of batches of 128, 10% held out for validation"
$descent train --data fashion-mnist --model mlp:784-256-128-10 --optimizer adam --lr 0.001 --epochs 5 \
  --batch-size 128 --val-fraction 0.1 --seed 1 --log out/mlp-adam.jsonl --save out/mlp-adam.safetensors

echo
echo "== The same network with SGD and Nesterov momentum, for comparison"
$descent train --data fashion-mnist --model mlp:784-256-128-10 --optimizer sgd --momentum 0.9 --nesterov \
  --lr 0.05 --epochs 5 --batch-size 128 --val-fraction 0.1 --seed 1 --log out/mlp-sgd.jsonl

echo
echo "== Multinomial logistic regression on all 60,000 training images with a full-batch solver (L-BFGS, float64)"
$descent train --data fashion-mnist --model logistic --optimizer lbfgs --l2 1e-4 --max-iter 200 \
  --log out/logistic-lbfgs.jsonl

echo
echo "== Loss and validation-accuracy curves of the two MLP runs"
$descent plot out/mlp-adam.jsonl out/mlp-sgd.jsonl -o out/fashion-mnist.svg

echo
echo "== Rosenbrock's valley: four methods race from the standard start (-1.2, 1)"
$descent minimize --problem rosenbrock --method lbfgs --method bfgs --method newton --method gd-armijo \
  --quiet --max-iter 5000 --plot out/rosenbrock.svg

echo
echo "== L-BFGS on the extended Rosenbrock function with a million variables"
$descent minimize --problem extended_rosenbrock --dim 1000000 --method lbfgs --quiet

echo
echo "== Newton-CG and trust region (Steihaug) on the same million variables, with Hessian-vector products"
$descent minimize --problem extended_rosenbrock --dim 1000000 --method newton-cg --method trust-region --quiet

echo
echo "== The stochastic optimizers on the same valley with the exact gradient: L-BFGS against Adam, Lion and"
echo "   schedule-free AdamW, 5000 steps each, warm-up then cosine decay of the learning rate"
$descent minimize --problem rosenbrock --method lbfgs --method adam --method lion --method schedule-free-adamw \
  --lr 0.02 --schedule warmup:100+cosine --max-iter 5000 --gtol 1e-8 --quiet --plot out/steppers.svg

echo
echo "== One Adam step on 10^7 parameters against this machine's memory bandwidth"
$descent bench step --optimizer adam --size 10000000 --seconds 1

echo
echo "== The 35 Moré–Garbow–Hillstrom problems, every method, with a performance profile"
$descent minimize --suite mgh --method all --profile out/mgh-profile.svg

echo
echo "== From Python: descent.minimize with scipy's arguments, on a numpy objective with bounds"
if cmake --build --preset release -j "$(nproc)" --target descent_python >/dev/null 2>&1; then
  PYTHONPATH=build/release/python /usr/bin/python3 examples/python/minimize.py
  echo
  echo "== From Python: descent.train on Fashion-MNIST, and a torch model stepped by descent.torch.Adam"
  PYTHONPATH=build/release/python /usr/bin/python3 examples/python/train.py --epochs 2
else
  echo "(the Python package did not build: see docs/python.md)"
fi

echo
echo "Pictures: out/fashion-mnist.svg and out/fashion-mnist-accuracy.svg (training curves),"
echo "          out/rosenbrock.svg (paths on the contours), out/steppers.svg (the optimizers' race),"
echo "          out/mgh-profile.svg (performance profile)"
echo "Logs: out/*.jsonl (the first line of each is the run's whole configuration); weights: out/mlp-adam.safetensors"
