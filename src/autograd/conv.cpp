// Convolution and pooling over N x C x H x W images.
//
// conv2d lowers the convolution to one matrix product per direction
// (im2col): the columns matrix holds, for every output pixel of the whole
// batch, the C*KH*KW input values its window covers,
//   cols [C*KH*KW, N*OH*OW],   Y [O, N*OH*OW] = W [O, C*KH*KW] cols,
// then Y is laid out as [N, O, OH, OW]. One large GEMM keeps BLAS's threads
// busy where a GEMM per image would be too small to split. Backward:
//   dW += dY cols^T,  dcols = W^T dY,  dx = col2im(dcols)   (when x needs it).
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
  Index cols() const { return n * oh * ow; }    // of cols
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

// cols[r, n*P + q] for r = (c, i, j) and output pixel q = (y, x): the input
// at (c, y*s - p + i, x*s - p + j), or 0 in the padding.
template <class T>
void im2col(const ConvGeometry& g, const T* x, T* cols) {
  const Index rows = g.rows(), ncols = g.cols();
#pragma omp parallel for schedule(static) if (worth_threads(rows * ncols))
  for (Index r = 0; r < rows; ++r) {
    const Index c = r / (g.kh * g.kw), i = (r / g.kw) % g.kh, j = r % g.kw;
    T* dst = cols + r * ncols;
    for (Index b = 0; b < g.n; ++b) {
      const T* plane = x + (b * g.c + c) * g.h * g.w;
      for (Index y = 0; y < g.oh; ++y) {
        const Index iy = y * g.stride - g.pad + i;
        T* out = dst + (b * g.oh + y) * g.ow;
        if (iy < 0 || iy >= g.h) {
          std::fill_n(out, g.ow, T(0));
          continue;
        }
        const T* row = plane + iy * g.w;
        for (Index xo = 0; xo < g.ow; ++xo) {
          const Index ix = xo * g.stride - g.pad + j;
          out[xo] = (ix >= 0 && ix < g.w) ? row[ix] : T(0);
        }
      }
    }
  }
}

// dx[b, c] += the entries of dcols that im2col read from image b, channel c.
template <class T>
void col2im(const ConvGeometry& g, const T* dcols, T* dx) {
  const Index ncols = g.cols();
#pragma omp parallel for schedule(static) if (worth_threads(g.rows() * ncols))
  for (Index bc = 0; bc < g.n * g.c; ++bc) {
    const Index b = bc / g.c, c = bc % g.c;
    T* plane = dx + bc * g.h * g.w;
    for (Index i = 0; i < g.kh; ++i)
      for (Index j = 0; j < g.kw; ++j) {
        const T* src = dcols + ((c * g.kh + i) * g.kw + j) * ncols + b * g.pixels();
        for (Index y = 0; y < g.oh; ++y) {
          const Index iy = y * g.stride - g.pad + i;
          if (iy < 0 || iy >= g.h) continue;
          T* row = plane + iy * g.w;
          const T* s = src + y * g.ow;
          for (Index xo = 0; xo < g.ow; ++xo) {
            const Index ix = xo * g.stride - g.pad + j;
            if (ix >= 0 && ix < g.w) row[ix] += s[xo];
          }
        }
      }
  }
}

// saved[0]: cols.
template <class T>
void conv2d_backward(Tape<T>& tape, const Node<T>& node) {
  const ConvGeometry g = read_geometry(node);
  const Node<T>& x = tape.input_of(node, 0);
  const Node<T>& w = tape.input_of(node, 1);
  T* gb = node.num_inputs > 2 ? tape.input_of(node, 2).grad : nullptr;
  const Index P = g.pixels(), NP = g.cols(), K = g.rows();
  const auto* cols = static_cast<const T*>(node.saved[0]);

  // dY as [O, N*P]; the bias gradient on the way.
  T* dy = tape.template allocate<T>(g.o * NP);
  for (Index b = 0; b < g.n; ++b)
    for (Index o = 0; o < g.o; ++o) {
      const T* src = node.grad + (b * g.o + o) * P;
      std::copy_n(src, P, dy + o * NP + b * P);
      if (gb) {
        T acc = 0;
#pragma omp simd reduction(+ : acc)
        for (Index q = 0; q < P; ++q) acc += src[q];
        gb[o] += acc;
      }
    }
  if (w.grad) detail::gemm<T>(false, true, g.o, K, NP, T(1), dy, NP, cols, NP, T(1), w.grad, K);
  if (x.grad) {
    T* dcols = tape.template allocate<T>(K * NP);
    detail::gemm<T>(true, false, K, NP, g.o, T(1), w.value, K, dy, NP, T(0), dcols, NP);
    col2im(g, dcols, x.grad);
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

// saved[0]: for each output, the offset of the winning input in its plane.
template <class T>
void max_pool_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& x = tape.input_of(node, 0);
  if (x.grad == nullptr) return;
  const PoolGeometry g = read_pool(node);
  const auto* arg = static_cast<const std::int32_t*>(node.saved[0]);
  const Index out_plane = g.oh * g.ow, in_plane = g.h * g.w;
#pragma omp parallel for schedule(static) if (worth_threads(g.planes * in_plane))
  for (Index p = 0; p < g.planes; ++p)
    for (Index q = 0; q < out_plane; ++q) x.grad[p * in_plane + arg[p * out_plane + q]] += node.grad[p * out_plane + q];
}

template <class T>
void avg_pool_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& x = tape.input_of(node, 0);
  if (x.grad == nullptr) return;
  const PoolGeometry g = read_pool(node);
  const T scale = T(1) / static_cast<T>(g.k * g.k);
#pragma omp parallel for schedule(static) if (worth_threads(g.planes * g.h * g.w))
  for (Index p = 0; p < g.planes; ++p) {
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
  }
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
  const Index P = g.pixels(), NP = g.cols(), K = g.rows();
  T* cols = tape.template allocate<T>(K * NP);
  {
    Node<T>& node = tape.node(y.id());
    write_geometry(node, g);
    node.saved[0] = cols;
  }
  im2col(g, x.data(), cols);
  T* prod = tape.template allocate<T>(g.o * NP);
  detail::gemm<T>(false, false, g.o, NP, K, T(1), weight.data(), K, cols, NP, T(0), prod, NP);

  // [O, N*P] -> [N, O, P], adding the bias.
  T* out = y.data();
  const T* b = has_bias ? bias.data() : nullptr;
#pragma omp parallel for schedule(static) if (worth_threads(g.o * NP))
  for (Index bo = 0; bo < g.n * g.o; ++bo) {
    const Index img = bo / g.o, o = bo % g.o;
    const T shift = b ? b[o] : T(0);
    const T* src = prod + o * NP + img * P;
    T* dst = out + bo * P;
#pragma omp simd
    for (Index q = 0; q < P; ++q) dst[q] = src[q] + shift;
  }
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
#pragma omp parallel for schedule(static) if (worth_threads(g.planes * g.h * g.w))
  for (Index p = 0; p < g.planes; ++p) {
    const T* plane = in + p * g.h * g.w;
    for (Index yo = 0; yo < g.oh; ++yo)
      for (Index xo = 0; xo < g.ow; ++xo) {
        T best = -std::numeric_limits<T>::infinity();
        Index where = -1;
        for (Index i = 0; i < g.k; ++i) {
          const Index iy = yo * g.stride - g.pad + i;
          if (iy < 0 || iy >= g.h) continue;
          for (Index j = 0; j < g.k; ++j) {
            const Index ix = xo * g.stride - g.pad + j;
            if (ix < 0 || ix >= g.w) continue;
            const T v = plane[iy * g.w + ix];
            if (where < 0 || v > best || (v != v && best == best)) {  // NaN wins, as in PyTorch
              best = v;
              where = iy * g.w + ix;
            }
          }
        }
        const Index q = p * g.oh * g.ow + yo * g.ow + xo;
        out[q] = best;
        arg[q] = static_cast<std::int32_t>(where);
      }
  }
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
#pragma omp parallel for schedule(static) if (worth_threads(g.planes * g.h * g.w))
  for (Index p = 0; p < g.planes; ++p) {
    const T* plane = in + p * g.h * g.w;
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
  }
  return y;
}

#define DESCENT_INSTANTIATE(T)                                                                              \
  template Tensor<T> conv2d<T>(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, Conv2dOptions);        \
  template Tensor<T> max_pool2d<T>(const Tensor<T>&, Pool2dOptions);                                        \
  template Tensor<T> avg_pool2d<T>(const Tensor<T>&, Pool2dOptions);
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)

}  // namespace descent::autograd
