// AffineObjective's pass (affine_objective.hpp). Glossary: F features, K
// outputs, x a block of rows of the features (row stride F), w the weights as
// float32 (K rows of F), z a block's logits (rows x K), r its residuals
// dloss/dz (rows x K, unscaled), g the gradient's sums in float64 (K x F
// weights, then K biases).
//
// This file is compiled with -ffp-contract=fast (src/CMakeLists.txt), so
// that a * b + c in the tiles becomes one fused multiply-add.
#include "descent/nn/affine_objective.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "descent/core/error.hpp"
#include "descent/nn/layers.hpp"
#include "descent/nn/objective.hpp"

// The tiles are always inlined into the two compilations below, so no
// vector crosses a call: the ABI note GCC gives for 32-byte vectors in the
// baseline compilation does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace descent::nn {
namespace {

using v8 = float __attribute__((vector_size(32)));

[[gnu::always_inline]] inline v8 load8(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

[[gnu::always_inline]] inline float sum8(v8 v) {
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

// z[r][j] = x_r . w_j for R rows and J outputs: R x J vector accumulators,
// R + J loads for R x J fused multiply-adds per eight features.
template <int R, int J>
[[gnu::always_inline]] inline void forward_tile(const float* x, Index F, const float* w, float* z, Index K) {
  v8 acc[R][J] = {};
  Index f = 0;
  for (; f + 8 <= F; f += 8) {
    v8 xr[R];
    for (int r = 0; r < R; ++r) xr[r] = load8(x + r * F + f);
    for (int j = 0; j < J; ++j) {
      const v8 wj = load8(w + j * F + f);
      for (int r = 0; r < R; ++r) acc[r][j] += xr[r] * wj;
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j) {
      float s = sum8(acc[r][j]);
      for (Index t = f; t < F; ++t) s += x[r * F + t] * w[j * F + t];
      z[r * K + j] = s;
    }
}

// Rows per forward tile: four rows by five outputs hold 20 accumulators,
// which needs AVX-512's 32 vector registers (1.4x faster than two rows at
// Fashion-MNIST's size, measured); with 16 registers, two rows.
#ifdef __AVX512F__
constexpr int kForwardRows = 4;
#else
constexpr int kForwardRows = 2;
#endif

template <int R>
[[gnu::always_inline]] inline void forward_rows(const float* x, Index F, const float* w, float* z, Index K) {
  Index j = 0;
  for (; j + 5 <= K; j += 5) forward_tile<R, 5>(x, F, w + j * F, z + j, K);
  switch (K - j) {
    case 4: forward_tile<R, 4>(x, F, w + j * F, z + j, K); break;
    case 3: forward_tile<R, 3>(x, F, w + j * F, z + j, K); break;
    case 2: forward_tile<R, 2>(x, F, w + j * F, z + j, K); break;
    case 1: forward_tile<R, 1>(x, F, w + j * F, z + j, K); break;
    default: break;
  }
}

[[gnu::always_inline]] inline void forward_block(const float* x, Index rows, Index F, const float* w, Index K,
                                                 float* z) {
  Index i = 0;
  for (; i + kForwardRows <= rows; i += kForwardRows) forward_rows<kForwardRows>(x + i * F, F, w, z + i * K, K);
  for (; i < rows; ++i) forward_rows<1>(x + i * F, F, w, z + i * K, K);
}

// g_j[f..f+16) += sum_i r[i][j] x_i[f..f+16) for J outputs: 2J accumulators,
// 2 + J loads for 2J fused multiply-adds per row.
template <int J>
[[gnu::always_inline]] inline void backward_tile(const float* x, Index rows, Index F, const float* r, Index K,
                                                 double* g) {
  Index f = 0;
  for (; f + 16 <= F; f += 16) {
    v8 acc[J][2] = {};
    for (Index i = 0; i < rows; ++i) {
      const v8 x0 = load8(x + i * F + f), x1 = load8(x + i * F + f + 8);
      for (int j = 0; j < J; ++j) {
        const v8 b = v8{} + r[i * K + j];
        acc[j][0] += b * x0;
        acc[j][1] += b * x1;
      }
    }
    for (int j = 0; j < J; ++j)
      for (int l = 0; l < 8; ++l) {
        g[j * F + f + l] += double(acc[j][0][l]);
        g[j * F + f + 8 + l] += double(acc[j][1][l]);
      }
  }
  for (; f < F; ++f)
    for (int j = 0; j < J; ++j) {
      float s = 0;
      for (Index i = 0; i < rows; ++i) s += r[i * K + j] * x[i * F + f];
      g[j * F + f] += double(s);
    }
}

[[gnu::always_inline]] inline void backward_block(const float* x, Index rows, Index F, const float* r, Index K,
                                                  double* g) {
  Index j = 0;
  for (; j + 5 <= K; j += 5) backward_tile<5>(x, rows, F, r + j, K, g + j * F);
  switch (K - j) {
    case 4: backward_tile<4>(x, rows, F, r + j, K, g + j * F); break;
    case 3: backward_tile<3>(x, rows, F, r + j, K, g + j * F); break;
    case 2: backward_tile<2>(x, rows, F, r + j, K, g + j * F); break;
    case 1: backward_tile<1>(x, rows, F, r + j, K, g + j * F); break;
    default: break;
  }
}

// e^x in float32, without a call, so that a loop of them vectorizes: x =
// n ln 2 + t with |t| <= ln 2 / 2, e^t by its degree-6 minimax polynomial
// (relative error about 2e-7), times 2^n through the exponent bits. Inputs
// are clamped to [-87, 88], where 2^n stays a normal float.
[[gnu::always_inline]] inline float exp_float(float x) {
  x = std::min(88.0f, std::max(-87.0f, x));
  const float n = std::floor(x * 1.44269504089f + 0.5f);
  const float t = (x - n * 0.693359375f) + n * 2.12194440e-4f;  // ln 2 in two parts
  float p = 1.9875691500e-4f;
  p = p * t + 1.3981999507e-3f;
  p = p * t + 8.3334519073e-3f;
  p = p * t + 4.1665795894e-2f;
  p = p * t + 1.6666665459e-1f;
  p = p * t + 5.0000001201e-1f;
  const float e = (p * t) * t + t + 1.0f;
  const std::int32_t bits = (static_cast<std::int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return e * scale;
}

// values[0, count) = e^values, vectorized.
[[gnu::always_inline]] inline void exp_all(float* values, Index count) {
#pragma omp simd
  for (Index j = 0; j < count; ++j) values[j] = exp_float(values[j]);
}

// The two compilations of the tiles: for AVX2 with FMA, and for the target
// the library is built for.
[[gnu::target("avx2,fma")]] void forward_avx2(const float* x, Index rows, Index F, const float* w, Index K, float* z) {
  forward_block(x, rows, F, w, K, z);
}
[[gnu::target("avx2,fma")]] void backward_avx2(const float* x, Index rows, Index F, const float* r, Index K,
                                               double* g) {
  backward_block(x, rows, F, r, K, g);
}
[[gnu::target("avx2,fma")]] void exp_avx2(float* values, Index count) { exp_all(values, count); }
void forward_baseline(const float* x, Index rows, Index F, const float* w, Index K, float* z) {
  forward_block(x, rows, F, w, K, z);
}
void backward_baseline(const float* x, Index rows, Index F, const float* r, Index K, double* g) {
  backward_block(x, rows, F, r, K, g);
}
void exp_baseline(float* values, Index count) { exp_all(values, count); }

struct Kernels {
  decltype(&forward_baseline) forward;
  decltype(&backward_baseline) backward;
  decltype(&exp_baseline) exp;
  const char* name;
};

const Kernels& kernels() {
  static const Kernels k = [] {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return Kernels{&forward_avx2, &backward_avx2, &exp_avx2, "avx2"};
#endif
    return Kernels{&forward_baseline, &backward_baseline, &exp_baseline, "baseline"};
  }();
  return k;
}

int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// The one Linear layer of a model, or null.
template <class T>
const Linear<T>* only_linear(const Model<T>& model) {
  const Module<T>* root = &model.root();
  if (const auto* seq = dynamic_cast<const Sequential<T>*>(root)) {
    if (seq->children().size() != 1) return nullptr;
    root = seq->children().front().get();
  }
  return dynamic_cast<const Linear<T>*>(root);
}

}  // namespace

// Per thread: its share's sums and a block's logits and residuals.
template <class T>
struct AffineObjective<T>::Work {
  struct Share {
    std::vector<double> g;  // K x F weights, then K biases
    std::vector<float> z, r;
    double loss = 0;
  };
  std::vector<float> w;   // K x F
  std::vector<double> b;  // K
  std::vector<Share> shares;
  Index block_rows = 0;
};

template <class T>
bool AffineObjective<T>::supports(const Model<T>& model) {
  const LossKind k = model.loss().kind;
  if (k != LossKind::mse && k != LossKind::bce && k != LossKind::cross_entropy) return false;
  if (only_linear(model) == nullptr) return false;
  const auto& segments = model.layout().segments();
  return (segments.size() == 1 || segments.size() == 2) && segments[0].is_matrix() && segments[0].offset == 0;
}

template <class T>
AffineObjective<T>::AffineObjective(const Model<T>& model, const float* features, const float* targets,
                                    Index num_samples, AffineObjectiveOptions options)
    : model_(model), x_(features), targets_(targets), rows_(num_samples), loss_(model.loss()), options_(options),
      work_(std::make_unique<Work>()) {
  DESCENT_REQUIRE(supports(model), "AffineObjective: the model is not one Linear layer under mse, bce or "
                                   "cross_entropy; use ModelObjective");
  DESCENT_REQUIRE(num_samples >= 1, fmt::format("AffineObjective: {} samples; expected at least one", num_samples));
  DESCENT_REQUIRE(options.l2 >= 0 && std::isfinite(options.l2),
                  fmt::format("AffineObjective: l2 = {}, expected a finite value >= 0", options.l2));
  const Segment& weight = model.layout().segments()[0];
  outputs_ = weight.rows;
  features_ = weight.cols;
  bias_ = model.layout().segments().size() == 2;
  size_ = model.num_parameters();
  if (loss_.kind == LossKind::cross_entropy) {
    labels_.resize(static_cast<std::size_t>(rows_));
    for (Index i = 0; i < rows_; ++i) {
      const float y = targets[i];
      DESCENT_REQUIRE(y >= 0 && y < float(outputs_) && y == std::floor(y),
                      fmt::format("AffineObjective: the label of row {} is {}; expected a class in [0, {})", i, y,
                                  outputs_));
      labels_[static_cast<std::size_t>(i)] = int(y);
    }
  }
  // Blocks of about 256 KiB of features: the backward half finds its block
  // still in L2.
  Work& w = *work_;
  w.block_rows = std::clamp<Index>((Index(1) << 18) / (4 * std::max<Index>(features_, 1)), 8, 2048);
  w.w.resize(static_cast<std::size_t>(outputs_ * features_));
  w.b.resize(static_cast<std::size_t>(outputs_));
  w.shares.resize(static_cast<std::size_t>(std::max(1, max_threads())));
  for (auto& s : w.shares) {
    s.g.resize(static_cast<std::size_t>(outputs_ * features_ + outputs_));
    s.z.resize(static_cast<std::size_t>(w.block_rows * outputs_));
    s.r.resize(static_cast<std::size_t>(w.block_rows * outputs_));
  }
}

template <class T>
AffineObjective<T>::~AffineObjective() = default;

template <class T>
const char* AffineObjective<T>::kernel() {
  return kernels().name;
}

template <class T>
T AffineObjective<T>::penalty(const T* x, T* grad) const {
  return layout_l2_penalty(model_.layout(), options_.l2, x, grad, 0, size_);
}

template <class T>
T AffineObjective<T>::value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) {
  DESCENT_REQUIRE(x.size() == size_ && g.size() == size_,
                  fmt::format("AffineObjective: x has {} and g {} values, the model {}", x.size(), g.size(), size_));
  return evaluate(x, g.data());
}

template <class T>
T AffineObjective<T>::value(ConstVectorRef<T> x) {
  DESCENT_REQUIRE(x.size() == size_, fmt::format("AffineObjective: x has {} values, the model {}", x.size(), size_));
  return evaluate(x, nullptr);
}

template <class T>
T AffineObjective<T>::evaluate(ConstVectorRef<T> x, T* g) {
  Work& w = *work_;
  const Index F = features_, K = outputs_, rows = rows_;
  for (Index k = 0; k < K * F; ++k) w.w[static_cast<std::size_t>(k)] = static_cast<float>(x[k]);
  for (Index k = 0; k < K; ++k) w.b[static_cast<std::size_t>(k)] = bias_ ? double(x[K * F + k]) : 0.0;
  const Kernels& kern = kernels();
  const Index blocks = (rows + w.block_rows - 1) / w.block_rows;
  const LossKind kind = loss_.kind;
  const float smoothing = float(loss_.label_smoothing);
  const bool want_gradient = g != nullptr;

  // One thread's share: blocks [first, last).
  auto run_share = [&](typename Work::Share& s, Index first, Index last) {
    s.loss = 0;
    if (want_gradient) std::fill(s.g.begin(), s.g.end(), 0.0);
    float* z = s.z.data();
    float* r = s.r.data();
    for (Index b = first; b < last; ++b) {
      const Index i0 = b * w.block_rows, n = std::min(rows, i0 + w.block_rows) - i0;
      const float* xb = x_ + i0 * F;
      kern.forward(xb, n, F, w.w.data(), K, z);
      // The loss and its residual, row by row; for cross_entropy the
      // exponentials of the whole block in one vectorized pass.
      double loss = 0;
      for (Index i = 0; i < n; ++i) {
        float* zi = z + i * K;
        for (Index k = 0; k < K; ++k) zi[k] = float(double(zi[k]) + w.b[static_cast<std::size_t>(k)]);
      }
      if (kind == LossKind::cross_entropy) {
        for (Index i = 0; i < n; ++i) {
          const float* zi = z + i * K;
          float* ri = r + i * K;
          float m = zi[0];
          for (Index k = 1; k < K; ++k) m = std::max(m, zi[k]);
          for (Index k = 0; k < K; ++k) ri[k] = zi[k] - m;
        }
        kern.exp(r, n * K);
        const float off = smoothing / float(K);
        for (Index i = 0; i < n; ++i) {
          const float* zi = z + i * K;
          float* ri = r + i * K;
          const int label = labels_[static_cast<std::size_t>(i0 + i)];
          float total = 0, m = zi[0];
          for (Index k = 0; k < K; ++k) {
            total += ri[k];
            m = std::max(m, zi[k]);
          }
          const float lse = m + std::log(total), inv = 1.0f / total;
          float target_dot = 0;  // sum_k q_k z_k
          for (Index k = 0; k < K; ++k) {
            ri[k] = ri[k] * inv - off;
            target_dot += off * zi[k];
          }
          ri[label] -= 1.0f - smoothing;
          target_dot += (1.0f - smoothing) * zi[label];
          loss += double(lse) - double(target_dot);
        }
      } else {
        for (Index i = 0; i < n; ++i) {
          const float* zi = z + i * K;
          float* ri = r + i * K;
          const float* t = targets_ + (i0 + i) * K;
          for (Index k = 0; k < K; ++k) {
            const float p = zi[k], y = t[k];
            if (kind == LossKind::mse) {
              const float d = p - y;
              loss += double(d) * double(d);
              ri[k] = 2.0f * d;
            } else {  // bce on logits
              const float sig = p >= 0 ? 1.0f / (1.0f + std::exp(-p)) : std::exp(p) / (1.0f + std::exp(p));
              loss += double(std::max(p, 0.0f) - p * y + std::log1p(std::exp(-std::abs(p))));
              ri[k] = sig - y;
            }
          }
        }
      }
      s.loss += loss;
      if (!want_gradient) continue;
      kern.backward(xb, n, F, r, K, s.g.data());
      if (bias_) {
        double* gb = s.g.data() + K * F;
        for (Index i = 0; i < n; ++i)
          for (Index k = 0; k < K; ++k) gb[k] += double(r[i * K + k]);
      }
    }
  };

  const int threads = int(std::min<Index>(Index(w.shares.size()), blocks));
  int team = 1;
#ifdef _OPENMP
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    {
      const int id = omp_get_thread_num(), size = omp_get_num_threads();
#pragma omp single
      team = size;
      run_share(w.shares[static_cast<std::size_t>(id)], blocks * id / size, blocks * (id + 1) / size);
    }
  } else {
    run_share(w.shares[0], 0, blocks);
  }
#else
  run_share(w.shares[0], 0, blocks);
#endif

  // The shares in thread order, then the mean and the penalty.
  const double count = kind == LossKind::cross_entropy ? double(rows) : double(rows) * double(K);
  double loss = 0;
  for (int t = 0; t < team; ++t) loss += w.shares[static_cast<std::size_t>(t)].loss;
  T value = static_cast<T>(loss / count);
  if (want_gradient) {
    const Index n = K * F + (bias_ ? K : 0);
    for (Index k = 0; k < n; ++k) {
      double sum = 0;
      for (int t = 0; t < team; ++t) sum += w.shares[static_cast<std::size_t>(t)].g[static_cast<std::size_t>(k)];
      g[k] = static_cast<T>(sum / count);
    }
  }
  value += penalty(x.data(), g);
  return value;
}

template class AffineObjective<float>;
template class AffineObjective<double>;

}  // namespace descent::nn
