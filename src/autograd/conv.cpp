// Convolution and pooling over N x C x H x W images.
//
// conv2d lowers the convolution to matrix products (im2col). The columns
// matrix of a group of G images holds, for each of their P = OH*OW output
// pixels, the C*KH*KW input values the window covers,
//   cols [C*KH*KW, G*P],   Y [O, G*P] = W [O, C*KH*KW] cols,
// and the G blocks of Y are images of the [N, O, OH, OW] output. G is
// chosen so that cols stays in a core's cache (about 256 KiB) while each
// GEMM is large enough for BLAS to run near its peak; groups are split
// across the OpenMP threads. Backward rebuilds the columns (cheaper than
// keeping them for the whole batch) and, per group,
//   dW += dY cols^T,   dcols = W^T dY,   dx = col2im(dcols)  (when x needs it),
// each thread summing dW into its own buffer, added up at the end.
#include <omp.h>

#include <cstdint>
#include <limits>

#include "blas.hpp"
#include "op_support.hpp"

namespace descent::autograd {
namespace {

using descent::detail::worth_threads;

struct ConvGeometry {
  Index n, c, h, w;    // input
  Index o, kh, kw;     // filters
  Index oh, ow;        // output
  Index stride, pad;
  Index rows() const { return c * kh * kw; }    // of cols
  Index pixels() const { return oh * ow; }      // per image
};

template <class T>
ConvGeometry read_geometry(const Node<T>& node) {
  const auto& a = node.iarg;
  ConvGeometry g{};
  g.n = a[0], g.c = a[1], g.h = a[2], g.w = a[3];
  g.o = a[4], g.kh = a[5], g.kw = a[6];
  g.stride = node.farg[0] > 0 ? static_cast<Index>(node.farg[0]) : 1;
  g.pad = static_cast<Index>(node.farg[1]);
  g.oh = (g.h + 2 * g.pad - g.kh) / g.stride + 1;
  g.ow = (g.w + 2 * g.pad - g.kw) / g.stride + 1;
  return g;
}

template <class T>
void write_geometry(Node<T>& node, const ConvGeometry& g) {
  node.iarg = {g.n, g.c, g.h, g.w, g.o, g.kh, g.kw, 0};
  node.farg[0] = static_cast<double>(g.stride);
  node.farg[1] = static_cast<double>(g.pad);
}

// The output positions whose window offset k (row i or column j) lands
// inside an input of length n: o in [first, last) with 0 <= o*s - p + k < n.
struct Span {
  Index first, last;
};
inline Span inside(Index k, Index n, Index out, Index s, Index p) {
  const auto ceil_div = [](Index a, Index b) { return a <= 0 ? -((-a) / b) : (a + b - 1) / b; };
  const Index first = std::clamp<Index>(ceil_div(p - k, s), 0, out);
  const Index last = std::clamp<Index>(ceil_div(n + p - k, s), first, out);
  return {first, last};
}

// cols[r, q] for r = (c, i, j) and output pixel q = (y, x) of one image: the
// input at (c, y*s - p + i, x*s - p + j), or 0 in the padding. Rows of cols
// are ld apart (G*P when G images share the matrix). The bounds are worked
// out once per row of cols, so the copies run without per-element tests.
template <class T>
void im2col(const ConvGeometry& g, const T* image, T* cols, Index ld) {
  const Index h = g.h, w = g.w, oh = g.oh, ow = g.ow, s = g.stride, p = g.pad;
  T* dst = cols;
  for (Index c = 0; c < g.c; ++c) {
    const T* plane = image + c * h * w;
    for (Index i = 0; i < g.kh; ++i) {
      const Span ys = inside(i, h, oh, s, p);
      for (Index j = 0; j < g.kw; ++j, dst += ld) {
        const Span xs = inside(j, w, ow, s, p);
        std::fill(dst, dst + ys.first * ow, T(0));
        for (Index y = ys.first; y < ys.last; ++y) {
          const T* src = plane + (y * s - p + i) * w + (j - p);
          T* out = dst + y * ow;
          for (Index x = 0; x < xs.first; ++x) out[x] = T(0);
          if (s == 1) {
#pragma omp simd
            for (Index x = xs.first; x < xs.last; ++x) out[x] = src[x];
          } else {
            for (Index x = xs.first; x < xs.last; ++x) out[x] = src[x * s];
          }
          for (Index x = xs.last; x < ow; ++x) out[x] = T(0);
        }
        std::fill(dst + ys.last * ow, dst + oh * ow, T(0));
      }
    }
  }
}

// dx of one image += the entries of dcols that im2col read from it.
template <class T>
void col2im(const ConvGeometry& g, const T* dcols, Index ld, T* dx) {
  const Index h = g.h, w = g.w, ow = g.ow, s = g.stride, p = g.pad;
  const T* src_row = dcols;
  for (Index c = 0; c < g.c; ++c) {
    T* plane = dx + c * h * w;
    for (Index i = 0; i < g.kh; ++i) {
      const Span ys = inside(i, h, g.oh, s, p);
      for (Index j = 0; j < g.kw; ++j, src_row += ld) {
        const Span xs = inside(j, w, ow, s, p);
        for (Index y = ys.first; y < ys.last; ++y) {
          T* row = plane + (y * s - p + i) * w + (j - p);
          const T* src = src_row + y * ow;
          if (s == 1) {
#pragma omp simd
            for (Index x = xs.first; x < xs.last; ++x) row[x] += src[x];
          } else {
            for (Index x = xs.first; x < xs.last; ++x) row[x * s] += src[x];
          }
        }
      }
    }
  }
}

// Whether a convolution is worth splitting across threads.
inline bool conv_parallel(const ConvGeometry& g) {
  return g.n > 1 && !omp_in_parallel() && double(g.n) * double(g.o) * double(g.rows()) * double(g.pixels()) >= double(1 << 18);
}

// Images per columns matrix: as many as fit in 64Ki values (256 KiB of
// float), at least one, at most 16.
inline Index conv_group(const ConvGeometry& g) {
  return std::clamp<Index>((Index(1) << 16) / std::max<Index>(g.rows() * g.pixels(), 1), 1, 16);
}

template <class T>
void conv2d_backward(Tape<T>& tape, const Node<T>& node) {
  const ConvGeometry g = read_geometry(node);
  const Node<T>& x = tape.input_of(node, 0);
  const Node<T>& w = tape.input_of(node, 1);
  T* gb = node.num_inputs > 2 ? tape.input_of(node, 2).grad : nullptr;
  const Index P = g.pixels(), K = g.rows();
  const Index in_size = g.c * g.h * g.w, out_size = g.o * P;
  if (!w.grad && !gb && !x.grad) return;

  // Per thread: columns and their gradient for a group of images, the
  // group's dY as [O, G*P], and partial dW and db.
  const bool parallel = conv_parallel(g);
  const int threads = parallel ? omp_get_max_threads() : 1;
  const Index G = conv_group(g);
  const Index per_thread = 2 * K * G * P + g.o * G * P + g.o * K + g.o;
  T* scratch = tape.template allocate<T>(per_thread * threads);
  const Index partials = 2 * K * G * P + g.o * G * P;  // offset of dW within a thread's block
  for (int t = 0; t < threads; ++t) std::fill_n(scratch + t * per_thread + partials, g.o * K + g.o, T(0));
  detail::for_each_block(g.n, parallel, [&](int t, Index first, Index last) {
    T* cols = scratch + t * per_thread;
    T* dcols = cols + K * G * P;
    T* dy = dcols + K * G * P;
    T* dw = dy + g.o * G * P;
    T* db = dw + g.o * K;
    for (Index b0 = first; b0 < last; b0 += G) {
      const Index count = std::min(G, last - b0), ld = count * P;
      // dY of the group as [O, count*P], and the bias gradient on the way.
      for (Index i = 0; i < count; ++i)
        for (Index o = 0; o < g.o; ++o) {
          const T* src = node.grad + (b0 + i) * out_size + o * P;
          std::copy_n(src, P, dy + o * ld + i * P);
          if (gb) {
            T acc = 0;
#pragma omp simd reduction(+ : acc)
            for (Index q = 0; q < P; ++q) acc += src[q];
            db[o] += acc;
          }
        }
      if (w.grad) {
        for (Index i = 0; i < count; ++i) im2col(g, x.value + (b0 + i) * in_size, cols + i * P, ld);
        detail::gemm<T>(false, true, g.o, K, ld, T(1), dy, ld, cols, ld, T(1), dw, K);
      }
      if (x.grad) {
        detail::gemm<T>(true, false, K, ld, g.o, T(1), w.value, K, dy, ld, T(0), dcols, ld);
        for (Index i = 0; i < count; ++i) col2im(g, dcols + i * P, ld, x.grad + (b0 + i) * in_size);
      }
    }
  });
  for (int t = 0; t < threads; ++t) {
    const T* dw = scratch + t * per_thread + partials;
    if (w.grad) detail::accumulate(w.grad, dw, g.o * K);
    if (gb) detail::accumulate(gb, dw + g.o * K, g.o);
  }
}

// ---- Pooling -------------------------------------------------------------------

struct PoolGeometry {
  Index planes, h, w, k, stride, pad, oh, ow;
};

template <class T>
PoolGeometry pool_geometry(const Tensor<T>& x, const Pool2dOptions& opt, const char* op) {
  DESCENT_REQUIRE(x.rank() == 4, std::string(op) + ": input has shape " + x.shape().str() + ", expected [N, C, H, W]");
  DESCENT_REQUIRE(opt.kernel >= 1, std::string(op) + ": kernel = " + std::to_string(opt.kernel) + ", expected >= 1");
  const Index stride = opt.stride == 0 ? opt.kernel : opt.stride;
  DESCENT_REQUIRE(stride >= 1, std::string(op) + ": stride = " + std::to_string(opt.stride) + ", expected >= 0");
  DESCENT_REQUIRE(opt.padding >= 0 && 2 * opt.padding <= opt.kernel,
          std::string(op) + ": padding = " + std::to_string(opt.padding) + ", expected in [0, kernel / 2]");
  PoolGeometry g{x.dim(0) * x.dim(1), x.dim(2), x.dim(3), opt.kernel, stride, opt.padding, 0, 0};
  DESCENT_REQUIRE(g.h + 2 * g.pad >= g.k && g.w + 2 * g.pad >= g.k,
          std::string(op) + ": a " + std::to_string(g.k) + "x" + std::to_string(g.k) + " window does not fit in " +
              x.shape().str() + " with padding " + std::to_string(g.pad));
  g.oh = (g.h + 2 * g.pad - g.k) / g.stride + 1;
  g.ow = (g.w + 2 * g.pad - g.k) / g.stride + 1;
  return g;
}

template <class T>
void write_pool(Node<T>& node, const PoolGeometry& g) {
  node.iarg = {g.planes, g.h, g.w, g.k, g.stride, g.pad, g.oh, g.ow};
}
template <class T>
PoolGeometry read_pool(const Node<T>& node) {
  const auto& a = node.iarg;
  return {a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]};
}

// Max pooling of one plane without padding, for K x K windows (K = 0: the
// size comes at run time). Branch-free: on random inputs "is this larger?"
// is a coin toss that the branch predictor loses. The first maximum wins a
// tie; a NaN wins over numbers, as in PyTorch.
template <int K, class T>
void max_pool_plane(const PoolGeometry& g, const T* plane, T* best, std::int32_t* where) {
  const Index k = K > 0 ? K : g.k;
  const Index w = g.w, stride = g.stride;
  for (Index yo = 0; yo < g.oh; ++yo)
    for (Index xo = 0; xo < g.ow; ++xo) {
      const Index corner = yo * stride * w + xo * stride;
      Index at = corner;
      T top = plane[corner];
      for (Index i = 0; i < k; ++i)
        for (Index j = 0; j < k; ++j) {
          const Index idx = corner + i * w + j;
          const T v = plane[idx];
          const bool take = (v > top) | (v != v);
          top = take ? v : top;
          at = take ? idx : at;
        }
      best[yo * g.ow + xo] = top;
      where[yo * g.ow + xo] = static_cast<std::int32_t>(at);
    }
}

// The same for average pooling (divides by K*K).
template <int K, class T>
void avg_pool_plane(const PoolGeometry& g, const T* plane, T* out) {
  const Index k = K > 0 ? K : g.k;
  const Index w = g.w, stride = g.stride;
  const T scale = T(1) / static_cast<T>(k * k);
  for (Index yo = 0; yo < g.oh; ++yo)
    for (Index xo = 0; xo < g.ow; ++xo) {
      const T* corner = plane + yo * stride * w + xo * stride;
      T acc = 0;
      for (Index i = 0; i < k; ++i)
        for (Index j = 0; j < k; ++j) acc += corner[i * w + j];
      out[yo * g.ow + xo] = acc * scale;
    }
}

// saved[0]: for each output, the offset of the winning input in its plane.
template <class T>
void max_pool_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& x = tape.input_of(node, 0);
  if (x.grad == nullptr) return;
  const PoolGeometry g = read_pool(node);
  const auto* arg = static_cast<const std::int32_t*>(node.saved[0]);
  const Index out_plane = g.oh * g.ow, in_plane = g.h * g.w;
  detail::for_each_item(g.planes, worth_threads(g.planes * in_plane), [&](Index p) {
    for (Index q = 0; q < out_plane; ++q) x.grad[p * in_plane + arg[p * out_plane + q]] += node.grad[p * out_plane + q];
  });
}

template <class T>
void avg_pool_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& x = tape.input_of(node, 0);
  if (x.grad == nullptr) return;
  const PoolGeometry g = read_pool(node);
  const T scale = T(1) / static_cast<T>(g.k * g.k);
  detail::for_each_item(g.planes, worth_threads(g.planes * g.h * g.w), [&](Index p) {
    T* gx = x.grad + p * g.h * g.w;
    const T* go = node.grad + p * g.oh * g.ow;
    for (Index y = 0; y < g.oh; ++y)
      for (Index xo = 0; xo < g.ow; ++xo) {
        const T v = go[y * g.ow + xo] * scale;
        for (Index i = 0; i < g.k; ++i) {
          const Index iy = y * g.stride - g.pad + i;
          if (iy < 0 || iy >= g.h) continue;
          for (Index j = 0; j < g.k; ++j) {
            const Index ix = xo * g.stride - g.pad + j;
            if (ix >= 0 && ix < g.w) gx[iy * g.w + ix] += v;
          }
        }
      }
  });
}

}  // namespace

template <class T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias, Conv2dOptions options) {
  detail::require_same_tape(&x.tape(), &weight.tape(), "conv2d");
  DESCENT_REQUIRE(x.rank() == 4 && weight.rank() == 4 && x.dim(1) == weight.dim(1),
          "conv2d: input " + x.shape().str() + " and weight " + weight.shape().str() +
              " do not fit (expected [N, C, H, W] and [O, C, KH, KW])");
  DESCENT_REQUIRE(options.stride >= 1, "conv2d: stride = " + std::to_string(options.stride) + ", expected >= 1");
  DESCENT_REQUIRE(options.padding >= 0, "conv2d: padding = " + std::to_string(options.padding) + ", expected >= 0");
  ConvGeometry g{x.dim(0), x.dim(1), x.dim(2), x.dim(3), weight.dim(0), weight.dim(2), weight.dim(3),
                 0, 0, options.stride, options.padding};
  DESCENT_REQUIRE(g.h + 2 * g.pad >= g.kh && g.w + 2 * g.pad >= g.kw,
          "conv2d: a " + std::to_string(g.kh) + "x" + std::to_string(g.kw) + " kernel does not fit in " +
              x.shape().str() + " with padding " + std::to_string(g.pad));
  g.oh = (g.h + 2 * g.pad - g.kh) / g.stride + 1;
  g.ow = (g.w + 2 * g.pad - g.kw) / g.stride + 1;
  const bool has_bias = bias.defined();
  if (has_bias)
    DESCENT_REQUIRE(bias.shape() == Shape{g.o},
            "conv2d: bias has shape " + bias.shape().str() + ", expected [" + std::to_string(g.o) + "]");

  Tape<T>& tape = x.tape();
  const Shape out_shape{g.n, g.o, g.oh, g.ow};
  Tensor<T> y = has_bias ? tape.record(out_shape, {x, weight, bias}, &conv2d_backward<T>)
                         : tape.record(out_shape, {x, weight}, &conv2d_backward<T>);
  write_geometry(tape.node(y.id()), g);
  const Index P = g.pixels(), K = g.rows();
  const Index in_size = g.c * g.h * g.w, out_size = g.o * P;
  const bool parallel = conv_parallel(g);
  const Index G = conv_group(g);
  const Index per_thread = K * G * P + g.o * G * P;  // cols, and Y as [O, G*P]
  T* scratch = tape.template allocate<T>(per_thread * (parallel ? omp_get_max_threads() : 1));
  const T* in = x.data();
  const T* w = weight.data();
  const T* b = has_bias ? bias.data() : nullptr;
  T* out = y.data();
  detail::for_each_block(g.n, parallel, [&](int t, Index first, Index last) {
    T* cols = scratch + t * per_thread;
    T* prod = cols + K * G * P;
    for (Index b0 = first; b0 < last; b0 += G) {
      const Index count = std::min(G, last - b0), ld = count * P;
      for (Index i = 0; i < count; ++i) im2col(g, in + (b0 + i) * in_size, cols + i * P, ld);
      detail::gemm<T>(false, false, g.o, ld, K, T(1), w, K, cols, ld, T(0), prod, ld);
      // [O, count*P] -> count images of [O, P], adding the bias.
      for (Index i = 0; i < count; ++i)
        for (Index o = 0; o < g.o; ++o) {
          const T shift = b ? b[o] : T(0);
          const T* src = prod + o * ld + i * P;
          T* dst = out + (b0 + i) * out_size + o * P;
#pragma omp simd
          for (Index q = 0; q < P; ++q) dst[q] = src[q] + shift;
        }
    }
  });
  return y;
}

template <class T>
Tensor<T> max_pool2d(const Tensor<T>& x, Pool2dOptions options) {
  const PoolGeometry g = pool_geometry(x, options, "max_pool2d");
  Tape<T>& tape = x.tape();
  Tensor<T> y = tape.record(Shape{x.dim(0), x.dim(1), g.oh, g.ow}, {x}, &max_pool_backward<T>);
  auto* arg = tape.template allocate<std::int32_t>(y.size());
  write_pool(tape.node(y.id()), g);
  tape.node(y.id()).saved[0] = arg;
  const T* in = x.data();
  T* out = y.data();
  detail::for_each_item(g.planes, worth_threads(g.planes * g.h * g.w), [&](Index p) {
    const T* plane = in + p * g.h * g.w;
    T* best = out + p * g.oh * g.ow;
    std::int32_t* where = arg + p * g.oh * g.ow;
    if (g.pad == 0) {
      // Every window inside the image; 2x2 and 3x3 windows unrolled.
      if (g.k == 2) return max_pool_plane<2>(g, plane, best, where);
      if (g.k == 3) return max_pool_plane<3>(g, plane, best, where);
      return max_pool_plane<0>(g, plane, best, where);
    }
    // With padding: each window clipped to the image (padding never wins).
    const auto take = [](T v, T top) { return (v > top) | (v != v); };
    for (Index yo = 0; yo < g.oh; ++yo)
      for (Index xo = 0; xo < g.ow; ++xo) {
        const Index y0 = std::max<Index>(yo * g.stride - g.pad, 0), y1 = std::min(yo * g.stride - g.pad + g.k, g.h);
        const Index x0 = std::max<Index>(xo * g.stride - g.pad, 0), x1 = std::min(xo * g.stride - g.pad + g.k, g.w);
        Index at = y0 * g.w + x0;
        T top = plane[at];
        for (Index iy = y0; iy < y1; ++iy)
          for (Index ix = x0; ix < x1; ++ix) {
            const T v = plane[iy * g.w + ix];
            const bool t = take(v, top);
            top = t ? v : top;
            at = t ? iy * g.w + ix : at;
          }
        best[yo * g.ow + xo] = top;
        where[yo * g.ow + xo] = static_cast<std::int32_t>(at);
      }
  });
  return y;
}

template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& x, Pool2dOptions options) {
  const PoolGeometry g = pool_geometry(x, options, "avg_pool2d");
  Tape<T>& tape = x.tape();
  Tensor<T> y = tape.record(Shape{x.dim(0), x.dim(1), g.oh, g.ow}, {x}, &avg_pool_backward<T>);
  write_pool(tape.node(y.id()), g);
  const T scale = T(1) / static_cast<T>(g.k * g.k);
  const T* in = x.data();
  T* out = y.data();
  detail::for_each_item(g.planes, worth_threads(g.planes * g.h * g.w), [&](Index p) {
    const T* plane = in + p * g.h * g.w;
    if (g.pad == 0) {
      T* dst = out + p * g.oh * g.ow;
      if (g.k == 2) return avg_pool_plane<2>(g, plane, dst);
      if (g.k == 3) return avg_pool_plane<3>(g, plane, dst);
      return avg_pool_plane<0>(g, plane, dst);
    }
    for (Index yo = 0; yo < g.oh; ++yo)
      for (Index xo = 0; xo < g.ow; ++xo) {
        T acc = 0;
        for (Index i = 0; i < g.k; ++i) {
          const Index iy = yo * g.stride - g.pad + i;
          if (iy < 0 || iy >= g.h) continue;
          for (Index j = 0; j < g.k; ++j) {
            const Index ix = xo * g.stride - g.pad + j;
            if (ix >= 0 && ix < g.w) acc += plane[iy * g.w + ix];
          }
        }
        out[p * g.oh * g.ow + yo * g.ow + xo] = acc * scale;
      }
  });
  return y;
}

#define DESCENT_INSTANTIATE(T)                                                                              \
  template Tensor<T> conv2d<T>(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, Conv2dOptions);        \
  template Tensor<T> max_pool2d<T>(const Tensor<T>&, Pool2dOptions);                                        \
  template Tensor<T> avg_pool2d<T>(const Tensor<T>&, Pool2dOptions);
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)

}  // namespace descent::autograd
