// Eigen aliases used throughout descent.
//
// Every problem is seen by the optimizers as one flat vector x and one
// gradient g of the same length (see docs/architecture.md). Functions take
// Eigen::Ref views so that slices of a larger flat buffer pass without copies.
#pragma once

#include <Eigen/Core>

namespace descent {

using Index = Eigen::Index;

template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

template <class T>
using VectorRef = Eigen::Ref<Vector<T>>;
template <class T>
using ConstVectorRef = Eigen::Ref<const Vector<T>>;
template <class T>
using MatrixRef = Eigen::Ref<Matrix<T>>;

}  // namespace descent
