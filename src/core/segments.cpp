#include "descent/core/segments.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "descent/core/error.hpp"

namespace descent {

Layout Layout::single(Index n, std::string name) {
  Layout layout;
  layout.add(std::move(name), n);
  return layout;
}

Segment& Layout::add(std::string name, Index length) {
  DESCENT_REQUIRE(length >= 0, fmt::format("segment '{}': length must be >= 0; got {}", name, length));
  Segment s;
  s.name = std::move(name);
  s.offset = size_;
  s.length = length;
  size_ += length;
  segments_.push_back(std::move(s));
  return segments_.back();
}

Segment& Layout::add(std::string name, Index rows, Index cols) {
  DESCENT_REQUIRE(rows >= 1 && cols >= 1,
          fmt::format("segment '{}': a matrix needs rows >= 1 and cols >= 1; got {} x {}", name, rows, cols));
  Segment& s = add(std::move(name), rows * cols);
  s.rows = rows;
  s.cols = cols;
  return s;
}

Segment& Layout::find(const std::string& name) {
  for (auto& s : segments_)
    if (s.name == name) return s;
  throw invalid_argument(fmt::format("no segment named '{}' in the layout", name));
}

Layout Layout::slice(Index first, Index last) const {
  DESCENT_REQUIRE(0 <= first && first <= last && last <= size_,
          fmt::format("Layout::slice: [{}, {}) is not inside the layout's {} elements", first, last, size_));
  Layout out;
  for (const Segment& s : segments_) {
    const Index lo = std::max(first, s.offset), hi = std::min(last, s.offset + s.length);
    if (lo >= hi) continue;
    Segment& piece = out.add(s.name, hi - lo);
    if (hi - lo == s.length) {
      piece.rows = s.rows;
      piece.cols = s.cols;
    }
    piece.lr_scale = s.lr_scale;
    piece.decay = s.decay;
  }
  return out;
}

void Layout::validate() const {
  Index next = 0;
  for (const auto& s : segments_) {
    DESCENT_REQUIRE(s.offset == next, fmt::format("segment '{}' starts at {}, expected {} (segments must tile the vector "
                                          "in order)", s.name, s.offset, next));
    DESCENT_REQUIRE(s.length >= 0, fmt::format("segment '{}': length must be >= 0; got {}", s.name, s.length));
    DESCENT_REQUIRE(s.rows == 0 ? s.cols == 0 : s.rows * s.cols == s.length,
            fmt::format("segment '{}': shape {} x {} does not hold its {} elements", s.name, s.rows, s.cols,
                        s.length));
    DESCENT_REQUIRE(std::isfinite(s.lr_scale) && s.lr_scale >= 0,
            fmt::format("segment '{}': lr_scale must be finite and >= 0; got {}", s.name, s.lr_scale));
    DESCENT_REQUIRE(std::isfinite(s.decay) && s.decay >= 0,
            fmt::format("segment '{}': decay must be finite and >= 0; got {}", s.name, s.decay));
    next += s.length;
  }
  DESCENT_REQUIRE(next == size_, fmt::format("segments cover {} elements but the layout has {}", next, size_));
}

}  // namespace descent
