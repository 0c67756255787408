#!/usr/bin/env bash
# Installs the Debian packages descent needs, if any is missing.
#   scripts/deps.sh [build|bench|fuzz]   (default: build)
# fuzz adds clang with its libFuzzer and sanitizer runtimes and its OpenMP,
# for scripts/fuzz.sh.
# As root it runs apt-get itself; otherwise it prints the sudo line to use.
set -euo pipefail

build_packages=(cmake ninja-build g++ pkg-config libeigen3-dev libfmt-dev libcli11-dev
                nlohmann-json3-dev libgtest-dev libopenblas-dev zlib1g-dev dataset-fashion-mnist
                openmpi-bin libopenmpi-dev
                python3 python3-dev python3-numpy python3-pytest pybind11-dev python3-pip python3-setuptools)
bench_packages=(libbenchmark-dev liblbfgspp-dev python3 python3-scipy python3-numpy python3-torch python3-sklearn python3-optuna)
# Debian 12's clang is clang-14; libFuzzer (libclang_rt.fuzzer-x86_64.a) and
# the sanitizer runtimes are in libclang-rt-14-dev, its OpenMP in libomp-14-dev.
fuzz_packages=(clang libclang-rt-14-dev libomp-14-dev)

packages=("${build_packages[@]}")
if [[ "${1:-build}" == bench ]]; then packages+=("${bench_packages[@]}"); fi
if [[ "${1:-build}" == fuzz ]]; then packages+=("${fuzz_packages[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "descent needs these Debian packages: ${missing[*]}" >&2
  echo "Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
