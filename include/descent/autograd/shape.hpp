// Shape: the dimensions of a dense, row-major tensor of rank 0 to 4.
//
// Images are N x C x H x W, a batch of feature vectors N x F, a scalar has
// rank 0 and one element.
//
//   Shape s{64, 1, 28, 28};
//   s.rank();   // 4
//   s.size();   // 50176
//   s[0];       // 64; s[-1] is the last dimension, 28
#pragma once

#include <array>
#include <initializer_list>
#include <string>

#include "descent/core/error.hpp"
#include "descent/core/types.hpp"

namespace descent::autograd {

inline constexpr int kMaxRank = 4;

class Shape {
 public:
  Shape() = default;  // a scalar
  Shape(std::initializer_list<Index> dims) {
    DESCENT_REQUIRE(dims.size() <= kMaxRank, "Shape: rank " + std::to_string(dims.size()) + " exceeds 4");
    for (Index d : dims) {
      DESCENT_REQUIRE(d >= 0, "Shape: dimension " + std::to_string(d) + " is negative");
      dims_[rank_++] = d;
    }
  }
  template <class It>
  static Shape from(It first, It last) {
    Shape s;
    for (; first != last; ++first) {
      DESCENT_REQUIRE(s.rank_ < kMaxRank, "Shape: rank exceeds 4");
      DESCENT_REQUIRE(*first >= 0, "Shape: dimension " + std::to_string(*first) + " is negative");
      s.dims_[s.rank_++] = static_cast<Index>(*first);
    }
    return s;
  }

  int rank() const { return rank_; }
  Index size() const {
    Index n = 1;
    for (int i = 0; i < rank_; ++i) n *= dims_[i];
    return n;
  }
  // Dimension i; negative i counts from the end.
  Index operator[](int i) const { return dims_[static_cast<std::size_t>(i < 0 ? i + rank_ : i)]; }
  Index& operator[](int i) { return dims_[static_cast<std::size_t>(i < 0 ? i + rank_ : i)]; }
  // Product of dimensions [first, last).
  Index product(int first, int last) const {
    Index n = 1;
    for (int i = first; i < last; ++i) n *= dims_[static_cast<std::size_t>(i)];
    return n;
  }
  // Axis i in [-rank, rank) as a position in [0, rank); throws otherwise.
  int axis(int i, const char* op) const {
    const int a = i < 0 ? i + rank_ : i;
    DESCENT_REQUIRE(a >= 0 && a < rank_, std::string(op) + ": axis " + std::to_string(i) + " is out of range for shape " +
                                     str());
    return a;
  }

  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.rank_ != b.rank_) return false;
    for (int i = 0; i < a.rank_; ++i)
      if (a.dims_[static_cast<std::size_t>(i)] != b.dims_[static_cast<std::size_t>(i)]) return false;
    return true;
  }

  // "[64, 1, 28, 28]"
  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < rank_; ++i) {
      if (i > 0) s += ", ";
      s += std::to_string(dims_[static_cast<std::size_t>(i)]);
    }
    return s + "]";
  }

 private:
  std::array<Index, kMaxRank> dims_{};
  int rank_ = 0;
};

}  // namespace descent::autograd
