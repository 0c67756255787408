// Internal: a data set's values in the model's precision, and the check
// that a data set fits a model (trainer.cpp, evaluate.cpp).
#pragma once

#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "descent/core/status.hpp"
#include "descent/data/dataset.hpp"
#include "descent/nn/model.hpp"

namespace descent::train::detail {

// A data set's values as T: a view for float, a converted copy otherwise.
template <class T>
struct Table {
  explicit Table(const data::Dataset& d) {
    if constexpr (std::is_same_v<T, float>) {
      x = d.x.data();
      y = d.y.data();
    } else {
      x_copy.assign(d.x.begin(), d.x.end());
      y_copy.assign(d.y.begin(), d.y.end());
      x = x_copy.data();
      y = y_copy.data();
    }
  }
  std::vector<T> x_copy, y_copy;
  const T* x = nullptr;
  const T* y = nullptr;
};

// Checks that the data set fits the model: feature count, target width and,
// for class labels, their range.
template <class T>
void require_fits(const nn::Model<T>& model, const data::Dataset& d, const char* what) {
  d.validate();
  DESCENT_REQUIRE(d.rows >= 1, fmt::format("the {} set has no rows", what));
  const Index in = model.input_shape().size(), out = model.output_shape().size();
  DESCENT_REQUIRE(d.features == in, fmt::format("the {} set has {} features per sample; the model takes {} (input {})", what,
                                        d.features, in, model.input_shape().str()));
  const Index width = model.loss().target_width(out);
  DESCENT_REQUIRE(d.targets == width, fmt::format("the {} set has {} target values per sample; loss {} on {} outputs takes {}",
                                          what, d.targets, model.loss().name(), out, width));
}

}  // namespace descent::train::detail
