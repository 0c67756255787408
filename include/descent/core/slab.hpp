// Internal: one allocation carved into the many buffers of a solve.
//
// An L-BFGS-B solve holds some thirty buffers: vectors of n, the n x (m+1)
// pair storage, Gram matrices and factors of (m+1)^2, masks and index
// lists. Allocated one by one they cost about as much as a whole solve of
// a small problem (malloc and free were a third of the time on a
// two-variable problem). A SlabPlan counts the pieces, a Slab makes one
// allocation of that size, and the owners take their pieces from it in the
// same order. Each piece starts on a 64-byte boundary.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>

#include "descent/core/memory.hpp"
#include "descent/core/types.hpp"

namespace descent::detail {

inline constexpr std::size_t kSlabAlignment = 64;

inline constexpr std::size_t slab_piece_bytes(std::size_t bytes) {
  return (bytes + kSlabAlignment - 1) / kSlabAlignment * kSlabAlignment;
}

// The size of a slab: add every piece in the order the owners take them.
class SlabPlan {
 public:
  template <class U>
  void add(Index count) {
    static_assert(std::is_trivially_destructible_v<U> && alignof(U) <= kSlabAlignment);
    bytes_ += slab_piece_bytes(std::size_t(count) * sizeof(U));
  }
  std::size_t bytes() const { return bytes_; }

 private:
  std::size_t bytes_ = 0;
};

class Slab {
 public:
  explicit Slab(const SlabPlan& plan) : size_(plan.bytes()) {
    if (size_ == 0) return;
    void* p = std::aligned_alloc(kSlabAlignment, size_);
    if (p == nullptr) throw std::bad_alloc();
    data_.reset(static_cast<std::byte*>(p));
    advise_huge_pages(p, size_);
  }

  // The next piece of `count` objects of U, uninitialized.
  template <class U>
  U* take(Index count) {
    const std::size_t bytes = slab_piece_bytes(std::size_t(count) * sizeof(U));
    if (used_ + bytes > size_) throw std::logic_error("a slab was taken past its plan (the plan and the takers disagree)");
    U* p = reinterpret_cast<U*>(data_.get() + used_);
    used_ += bytes;
    return p;
  }
  // Whether every planned piece was taken: a plan and takers that disagree
  // in the other direction.
  bool used_up() const { return used_ == size_; }

  template <class T>
  Eigen::Map<Vector<T>> vector(Index n) {
    return Eigen::Map<Vector<T>>(take<T>(n), n);
  }
  template <class T>
  Eigen::Map<Matrix<T>> matrix(Index rows, Index cols) {
    return Eigen::Map<Matrix<T>>(take<T>(rows * cols), rows, cols);
  }

 private:
  struct Free {
    void operator()(std::byte* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<std::byte, Free> data_;
  std::size_t size_ = 0, used_ = 0;
};

}  // namespace descent::detail
