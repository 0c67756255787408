// Segments: names and shapes for slices of the flat parameter vector.
//
// The optimizers see one flat vector x (docs/architecture.md). A Layout cuts
// it into named segments, each with an optional matrix shape, so that
// per-segment settings work as torch's parameter groups do: a learning-rate
// multiplier, no weight decay on biases, and shape-aware methods (Adafactor
// factors the second moments of a matrix, Muon orthogonalizes its update).
//
// Matrices are stored row-major inside the flat vector: element (r, c) of a
// rows x cols segment is x[offset + r * cols + c].
//
//   Layout layout;
//   layout.add("fc1.weight", 256, 784);       // a 256 x 784 matrix
//   layout.add("fc1.bias", 256).decay = 0;    // a vector, no weight decay
//   layout.size();                            // 256 * 784 + 256
#pragma once

#include <string>
#include <vector>

#include "descent/core/types.hpp"

namespace descent {

struct Segment {
  std::string name;
  Index offset = 0;
  Index length = 0;
  // Matrix shape, rows * cols == length; rows = 0 for a plain vector.
  Index rows = 0;
  Index cols = 0;
  // Multiplies the learning rate of the step in this segment. Range: >= 0.
  double lr_scale = 1.0;
  // Multiplies every weight decay and penalty in this segment (the method's
  // weight_decay, L2, L1): 0 exempts it, as for biases and norm weights.
  // Range: >= 0.
  double decay = 1.0;

  bool is_matrix() const { return rows > 0; }
};

class Layout {
 public:
  Layout() = default;
  // One vector segment named "x" covering n elements.
  static Layout single(Index n, std::string name = "x");

  // Appends a vector segment of `length` elements; returns it for settings.
  Segment& add(std::string name, Index length);
  // Appends a rows x cols matrix segment (row-major).
  Segment& add(std::string name, Index rows, Index cols);

  Index size() const { return size_; }
  const std::vector<Segment>& segments() const { return segments_; }
  std::vector<Segment>& segments() { return segments_; }
  // The segment with this name; throws descent::invalid_argument otherwise.
  Segment& find(const std::string& name);

  // The elements [first, last) as a layout of their own, offsets from 0:
  // each segment they cut keeps its name and settings; one cut short loses
  // its matrix shape. For a stepper over one rank's shard of x (element-wise
  // methods only: shape-aware ones need whole matrices). Throws
  // descent::invalid_argument unless 0 <= first <= last <= size().
  Layout slice(Index first, Index last) const;

  // Checks that segments tile [0, size) in order without gaps or overlaps and
  // that every setting is in range; throws descent::invalid_argument naming
  // the segment otherwise.
  void validate() const;

 private:
  std::vector<Segment> segments_;
  Index size_ = 0;
};

}  // namespace descent
