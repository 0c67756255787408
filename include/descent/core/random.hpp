// Rng: a small, fast, seeded random number generator whose stream is the
// same on every platform and compiler.
//
// std::mt19937_64 is specified exactly, but std's distributions are not: the
// same seed gives other numbers under another standard library. descent's
// initializers, dropout masks and shuffles must be reproducible bit for bit
// (a checkpoint resumes the same stream), so the distributions live here too.
//
// The generator is xoshiro256** (Blackman and Vigna, "Scrambled linear
// pseudorandom number generators", ACM TOMS 2021), seeded through splitmix64
// as its authors recommend. Its whole state is four 64-bit words (state()).
//
//   Rng rng(42);
//   double u = rng.uniform();          // [0, 1)
//   double z = rng.normal();           // N(0, 1)
//   Index k = rng.below(10);           // 0..9, uniform
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>

#include "descent/core/types.hpp"

namespace descent {

class Rng {
 public:
  using State = std::array<std::uint64_t, 4>;

  explicit Rng(std::uint64_t seed = 0) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    for (auto& word : s_) {
      seed += 0x9e3779b97f4a7c15ULL;  // splitmix64
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      word = z ^ (z >> 31);
    }
  }

  // 64 random bits.
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform on [0, 1), 53 random bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  // Uniform on [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform float on [0, 1), 24 random bits (one draw; for dropout masks).
  float uniform_float() { return float(next() >> 40) * 0x1.0p-24f; }

  // Standard normal, by the Box-Muller transform (two draws per value; the
  // second value is not cached so that the state alone says where we are).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  double normal(double mean, double stddev) { return mean + stddev * normal(); }

  // Uniform integer on [0, n), n >= 1, without modulo bias (Lemire's method).
  Index below(Index n) {
    const auto range = static_cast<std::uint64_t>(n);
    U128 m = static_cast<U128>(next()) * range;
    auto low = static_cast<std::uint64_t>(m);
    if (low < range) {
      const std::uint64_t threshold = (0 - range) % range;
      while (low < threshold) {
        m = static_cast<U128>(next()) * range;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<Index>(m >> 64);
  }

  const State& state() const { return s_; }
  void set_state(const State& s) { s_ = s; }

 private:
  __extension__ typedef unsigned __int128 U128;  // GCC and Clang; silences -Wpedantic
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  State s_{};
};

}  // namespace descent
