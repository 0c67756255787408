#include "descent/data/dataset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "descent/core/error.hpp"

namespace descent::data {

Index Dataset::classes() const {
  if (targets != 1 || rows <= 0 || static_cast<Index>(y.size()) != rows) return 0;
  // Labels are stored as floats, which hold every integer up to 2^24 exactly.
  constexpr float kLargestLabel = 16777216.0f;
  float largest = 0.0f;
  for (const float v : y) {
    if (!(v >= 0.0f && v < kLargestLabel) || v != std::floor(v)) return 0;
    largest = std::max(largest, v);
  }
  return static_cast<Index>(largest) + 1;
}

void Dataset::validate() const {
  const std::string where = source.empty() ? std::string("dataset") : fmt::format("dataset '{}'", source);
  DESCENT_REQUIRE(rows >= 0, fmt::format("{}: rows = {}, must be >= 0", where, rows));
  DESCENT_REQUIRE(features >= 0, fmt::format("{}: features = {}, must be >= 0", where, features));
  DESCENT_REQUIRE(targets >= 1, fmt::format("{}: targets = {}, must be >= 1", where, targets));
  DESCENT_REQUIRE(static_cast<Index>(x.size()) == rows * features,
                  fmt::format("{}: x holds {} values, must hold rows * features = {} * {} = {}", where, x.size(), rows,
                              features, rows * features));
  DESCENT_REQUIRE(static_cast<Index>(y.size()) == rows * targets,
                  fmt::format("{}: y holds {} values, must hold rows * targets = {} * {} = {}", where, y.size(), rows,
                              targets, rows * targets));
  DESCENT_REQUIRE(feature_names.empty() || static_cast<Index>(feature_names.size()) == features,
                  fmt::format("{}: feature_names holds {} names, must be empty or hold features = {}", where,
                              feature_names.size(), features));
}

Dataset subset(const Dataset& d, std::span<const Index> rows) {
  d.validate();
  Dataset out;
  out.rows = static_cast<Index>(rows.size());
  out.features = d.features;
  out.targets = d.targets;
  out.feature_names = d.feature_names;
  out.source = d.source;
  out.x.resize(static_cast<std::size_t>(out.rows * d.features));
  out.y.resize(static_cast<std::size_t>(out.rows * d.targets));
  for (Index k = 0; k < out.rows; ++k) {
    const Index i = rows[static_cast<std::size_t>(k)];
    DESCENT_REQUIRE(i >= 0 && i < d.rows, fmt::format("subset: rows[{}] = {}, must be in [0, {})", k, i, d.rows));
    std::copy_n(d.row(i), d.features, out.x.begin() + k * d.features);
    std::copy_n(d.target(i), d.targets, out.y.begin() + k * d.targets);
  }
  return out;
}

std::vector<Index> select_rows(const RowSelector& select, Index rows, const std::string& source) {
  std::vector<Index> kept = select(rows);
  for (std::size_t k = 0; k < kept.size(); ++k) {
    const Index i = kept[k];
    DESCENT_REQUIRE(i >= 0 && i < rows && (k == 0 || i > kept[k - 1]),
            fmt::format("{}: the row selector returned {} at position {}; expected row indices in [0, {}) in "
                        "strictly increasing order{}",
                        source, i, k, rows, k > 0 ? fmt::format(" (the one before is {})", kept[k - 1]) : ""));
  }
  return kept;
}

RowSplit split_rows(Index rows, double fraction, std::uint64_t seed) {
  DESCENT_REQUIRE(fraction >= 0.0 && fraction < 1.0, fmt::format("split: fraction = {}, must be in [0, 1)", fraction));
  DESCENT_REQUIRE(rows >= 0, fmt::format("split: rows = {}, must be >= 0", rows));
  Rng rng(seed);
  std::vector<Index> order = shuffled_indices(rows, rng);
  const auto second_rows = static_cast<Index>(std::llround(fraction * static_cast<double>(rows)));
  const auto cut = order.begin() + (rows - second_rows);
  // Each part keeps the rows in their original order: the split chooses rows,
  // the training loop shuffles them.
  std::sort(order.begin(), cut);
  std::sort(cut, order.end());
  RowSplit parts;
  parts.second.assign(cut, order.end());
  order.erase(cut, order.end());
  parts.first = std::move(order);
  return parts;
}

Split split(const Dataset& d, double fraction, std::uint64_t seed) {
  d.validate();
  const RowSplit rows = split_rows(d.rows, fraction, seed);
  return {subset(d, rows.first), subset(d, rows.second)};
}

std::vector<Index> shuffled_indices(Index n, Rng& rng) {
  DESCENT_REQUIRE(n >= 0, fmt::format("shuffled_indices: n = {}, must be >= 0", n));
  std::vector<Index> indices(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) indices[static_cast<std::size_t>(i)] = i;
  shuffle(indices, rng);
  return indices;
}

void one_hot(Dataset& d, Index classes) {
  DESCENT_REQUIRE(classes >= 1, fmt::format("one_hot: {} classes, expected >= 1", classes));
  DESCENT_REQUIRE(d.targets == 1, fmt::format("one_hot: {} has {} targets per row; one-hot encoding takes class labels",
                                      d.source.empty() ? "the data" : d.source, d.targets));
  std::vector<float> y(static_cast<std::size_t>(d.rows * classes), 0.0f);
  for (Index i = 0; i < d.rows; ++i) {
    const float label = d.y[static_cast<std::size_t>(i)];
    DESCENT_REQUIRE(label >= 0 && label < static_cast<float>(classes) && label == std::floor(label),
            fmt::format("one_hot: row {} of {} has label {}, expected an integer in [0, {})", i,
                        d.source.empty() ? "the data" : d.source, label, classes));
    y[static_cast<std::size_t>(i * classes + static_cast<Index>(label))] = 1.0f;
  }
  d.y = std::move(y);
  d.targets = classes;
}

bool is_one_hot(const Dataset& d) {
  for (Index i = 0; i < d.rows; ++i) {
    Index ones = 0;
    for (Index k = 0; k < d.targets; ++k) {
      const float v = d.y[static_cast<std::size_t>(i * d.targets + k)];
      if (v != 0.0f && v != 1.0f) return false;
      ones += v == 1.0f;
    }
    if (ones != 1) return false;
  }
  return true;
}

void shuffle(std::span<Index> indices, Rng& rng) {
  // Fisher-Yates: position i takes a uniformly chosen element of [0, i].
  for (std::size_t i = indices.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.below(static_cast<Index>(i)));
    std::swap(indices[i - 1], indices[j]);
  }
}

Standardizer Standardizer::fit(const Dataset& d) { return fit(d, [](std::span<double>) {}); }

Standardizer Standardizer::fit(const Dataset& piece, const std::function<void(std::span<double>)>& sum_over_pieces) {
  piece.validate();
  const auto f = static_cast<std::size_t>(piece.features);
  // Two passes in double: the mean, then the (population) variance about
  // it; each pass's sums (and, in the first, the row count) are summed over
  // the pieces.
  std::vector<double> sums(f + 1, 0.0);
  for (Index i = 0; i < piece.rows; ++i) {
    const float* r = piece.row(i);
    for (std::size_t j = 0; j < f; ++j) sums[j] += r[j];
  }
  sums[f] = static_cast<double>(piece.rows);
  sum_over_pieces(sums);
  const double rows = sums[f];
  DESCENT_REQUIRE(rows >= 1, fmt::format("Standardizer::fit: the dataset has rows = {}, must be >= 1", rows));
  std::vector<double> mean(f), squares(f, 0.0);
  for (std::size_t j = 0; j < f; ++j) mean[j] = sums[j] / rows;
  for (Index i = 0; i < piece.rows; ++i) {
    const float* r = piece.row(i);
    for (std::size_t j = 0; j < f; ++j) {
      const double e = r[j] - mean[j];
      squares[j] += e * e;
    }
  }
  sum_over_pieces(squares);
  Standardizer s;
  s.mean.resize(f);
  s.scale.resize(f);
  for (std::size_t j = 0; j < f; ++j) {
    // A constant feature v has the sum rows * v exactly in double (float
    // values, fewer than 2^29 rows), so its mean is v and every deviation 0;
    // any other has a deviation of at least a float's spacing, whose square
    // a double holds. So squares == 0 exactly when the feature is constant,
    // and it becomes exactly 0 with scale 1.
    s.mean[j] = static_cast<float>(mean[j]);
    const auto stddev = static_cast<float>(std::sqrt(squares[j] / rows));
    s.scale[j] = squares[j] > 0 && stddev > 0.0f && std::isfinite(stddev) ? stddev : 1.0f;
  }
  return s;
}

void Standardizer::apply(Dataset& d) const {
  d.validate();
  DESCENT_REQUIRE(
      mean.size() == scale.size(),
      fmt::format("Standardizer::apply: mean holds {} values and scale {}, must be equal", mean.size(), scale.size()));
  DESCENT_REQUIRE(static_cast<Index>(mean.size()) == d.features,
                  fmt::format("Standardizer::apply: fitted on {} features, the dataset has features = {}", mean.size(),
                              d.features));
  const auto f = static_cast<std::size_t>(d.features);
  for (Index i = 0; i < d.rows; ++i) {
    float* r = d.x.data() + i * d.features;
    for (std::size_t j = 0; j < f; ++j) r[j] = (r[j] - mean[j]) / scale[j];
  }
}

}  // namespace descent::data
