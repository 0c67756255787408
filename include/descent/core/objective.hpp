// What an objective function is, as C++20 concepts.
//
// Objectives are plain types checked by concepts, never a base class to
// inherit. The minimum is value_and_gradient; the rest is optional and
// detected with `requires`:
//
//   T    value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g)  // f(x), g = grad f(x)
//   T    value(ConstVectorRef<T> x)                               // f(x) alone
//   void hessian_vector(ConstVectorRef<T> x, ConstVectorRef<T> v, VectorRef<T> out)  // out = H(x) v
//   void hessian(ConstVectorRef<T> x, MatrixRef<T> H)             // dense H(x)
//
// An objective whose capabilities are only known at run time (AnyObjective, a
// test problem too large for a dense Hessian) also provides has_hessian() or
// has_hessian_vector(); a solver asks these before calling.
//
// A non-finite value means "cannot evaluate here": line searches shrink the
// step, and solvers stop with Status::diverged only if they cannot recover.
#pragma once

#include <concepts>
#include <span>

#include "descent/core/types.hpp"

namespace descent {

template <class F, class T>
concept DifferentiableObjective =
    requires(F& f, ConstVectorRef<T> x, VectorRef<T> g) {
      { f.value_and_gradient(x, g) } -> std::convertible_to<T>;
    };

template <class F, class T>
concept HasValue = requires(F& f, ConstVectorRef<T> x) {
  { f.value(x) } -> std::convertible_to<T>;
};

template <class F, class T>
concept HasHessianVector =
    requires(F& f, ConstVectorRef<T> x, ConstVectorRef<T> v, VectorRef<T> out) {
      f.hessian_vector(x, v, out);
    };

template <class F, class T>
concept HasHessian = requires(F& f, ConstVectorRef<T> x, MatrixRef<T> h) {
  f.hessian(x, h);
};

// A separable objective f(x) = mean over samples of l_i(x), for stochastic
// optimizers: the rows overload returns the mean loss over those rows.
template <class F, class T>
concept BatchedObjective =
    DifferentiableObjective<F, T> &&
    requires(F& f, ConstVectorRef<T> x, VectorRef<T> g, std::span<const Index> rows) {
      { f.num_samples() } -> std::convertible_to<Index>;
      { f.value_and_gradient(x, g, rows) } -> std::convertible_to<T>;
    };

// Whether f offers a dense Hessian at run time.
template <class T, class F>
bool supports_hessian(const F& f) {
  if constexpr (!HasHessian<F, T>) {
    return false;
  } else if constexpr (requires { { f.has_hessian() } -> std::convertible_to<bool>; }) {
    return f.has_hessian();
  } else {
    return true;
  }
}

// Whether f offers Hessian-vector products at run time.
template <class T, class F>
bool supports_hessian_vector(const F& f) {
  if constexpr (!HasHessianVector<F, T>) {
    return false;
  } else if constexpr (requires { { f.has_hessian_vector() } -> std::convertible_to<bool>; }) {
    return f.has_hessian_vector();
  } else {
    return true;
  }
}

}  // namespace descent
