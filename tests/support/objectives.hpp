// Small templated objectives with known minima, for tests in float and double.
#pragma once

#include <cmath>
#include <limits>

#include "descent/core/types.hpp"

namespace descent::testing {

// f = sum_{i even} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, minimum 0 at x = 1.
template <class T>
struct Rosenbrock {
  int evaluations = 0;
  T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) {
    ++evaluations;
    T f = 0;
    for (Index i = 0; i + 1 < x.size(); i += 2) {
      const T t = x[i + 1] - x[i] * x[i], u = T(1) - x[i];
      f += T(100) * t * t + u * u;
      g[i] = T(-400) * x[i] * t - T(2) * u;
      g[i + 1] = T(200) * t;
    }
    return f;
  }
  void hessian(ConstVectorRef<T> x, MatrixRef<T> h) {
    h.setZero();
    for (Index i = 0; i + 1 < x.size(); i += 2) {
      h(i, i) = T(1200) * x[i] * x[i] - T(400) * x[i + 1] + T(2);
      h(i, i + 1) = h(i + 1, i) = T(-400) * x[i];
      h(i + 1, i + 1) = T(200);
    }
  }
  static Vector<T> start(Index n) {
    Vector<T> x(n);
    for (Index i = 0; i < n; ++i) x[i] = i % 2 == 0 ? T(-1.2) : T(1);
    return x;
  }
};

// Rosenbrock without a Hessian: curvature must come from finite differences.
template <class T>
struct RosenbrockGradientOnly {
  Rosenbrock<T> inner;
  T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) { return inner.value_and_gradient(x, g); }
};

// f = 0.5 * sum a_i x_i^2 with a_i = i, minimum 0 at the origin.
template <class T>
struct DiagonalQuadratic {
  T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) {
    T f = 0;
    for (Index i = 0; i < x.size(); ++i) {
      g[i] = T(i + 1) * x[i];
      f += T(0.5) * T(i + 1) * x[i] * x[i];
    }
    return f;
  }
  void hessian_vector(ConstVectorRef<T>, ConstVectorRef<T> v, VectorRef<T> out) {
    for (Index i = 0; i < v.size(); ++i) out[i] = T(i + 1) * v[i];
  }
  void hessian(ConstVectorRef<T> x, MatrixRef<T> h) {
    h.setZero();
    for (Index i = 0; i < x.size(); ++i) h(i, i) = T(i + 1);
  }
};

// f = -x^T x: unbounded below, its Hessian indefinite everywhere.
template <class T>
struct Unbounded {
  T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) {
    g = T(-2) * x;
    return -x.squaredNorm();
  }
};

// Non-finite everywhere.
template <class T>
struct AlwaysNan {
  T value_and_gradient(ConstVectorRef<T>, VectorRef<T> g) {
    g.setConstant(std::numeric_limits<T>::quiet_NaN());
    return std::numeric_limits<T>::quiet_NaN();
  }
};

}  // namespace descent::testing
