// Dataset: a table of samples, features and targets, in float32.
//
// Features are rows x features values, row-major; targets rows x targets
// values (one per sample for class labels and scalar regression). Class
// labels are stored as numbers 0..classes-1, as nn::ModelObjective reads
// them. The loaders (csv.hpp, idx.hpp, libsvm.hpp, named.hpp) produce one;
// the functions here split, standardize and shuffle it.
//
//   auto train = data::load_named("fashion-mnist", data::Part::train);
//   auto [fit, validation] = data::split(train, 0.1, /*seed=*/1);
//   auto scaler = data::Standardizer::fit(fit);
//   scaler.apply(fit);
//   scaler.apply(validation);
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "descent/core/random.hpp"
#include "descent/core/types.hpp"

namespace descent::data {

struct Dataset {
  Index rows = 0;
  Index features = 0;
  Index targets = 1;
  std::vector<float> x;  // rows * features
  std::vector<float> y;  // rows * targets
  // Optional: names of the feature columns (CSV headers), and where the
  // data came from (for messages).
  std::vector<std::string> feature_names;
  std::string source;

  const float* row(Index i) const { return x.data() + i * features; }
  const float* target(Index i) const { return y.data() + i * targets; }

  // K when every target is an integer in [0, K) and targets == 1 (class
  // labels); 0 otherwise (regression targets).
  Index classes() const;
  // Throws descent::invalid_argument unless x and y hold rows * features
  // and rows * targets values.
  void validate() const;
};

// The listed rows, in that order (indices in [0, rows)).
Dataset subset(const Dataset& d, std::span<const Index> rows);

// Which rows of a file a loader keeps (the `rows` option of load_idx,
// load_csv, load_libsvm and load_named), for a process that needs only some
// of them: a rank of a distributed run, its shard. The loader calls it once,
// with the number of data rows in the file, before it stores any; it
// returns 0-based row indices, strictly increasing, each below that number,
// and the loaded Dataset holds those rows in that order. An empty selector
// (the default) keeps every row.
//
// A loader still reads and checks every row, so a malformed row fails alike
// in every process that reads the file, and what a format takes from the
// whole file (CSV's imputed means, LIBSVM's largest index) is the same as
// when every row is kept; only the kept rows take memory.
using RowSelector = std::function<std::vector<Index>(Index rows)>;

// Calls `select` (not empty: a loader without a selector keeps every row
// without listing them) with `rows` and checks what it returns (strictly
// increasing, in [0, rows)); throws descent::invalid_argument naming
// `source` and the first bad entry. For the loaders.
std::vector<Index> select_rows(const RowSelector& select, Index rows, const std::string& source);

// A seeded random split: `fraction` (in [0, 1)) of the rows, rounded, go to
// the second part. The same seed gives the same split.
struct Split {
  Dataset first, second;
};
Split split(const Dataset& d, double fraction, std::uint64_t seed);

// The rows split() puts in each part, from the row count alone (each part
// increasing), so that a process can choose its rows before it loads them:
// split(d, f, s) is {subset(d, split_rows(d.rows, f, s).first), ...second}.
struct RowSplit {
  std::vector<Index> first, second;
};
RowSplit split_rows(Index rows, double fraction, std::uint64_t seed);

// Class labels (targets == 1, integers in [0, classes)) replaced by one-hot
// rows of `classes` targets, for losses that want a value per output
// (binary cross-entropy over K outputs). Throws descent::invalid_argument
// naming the first row whose label is not such an integer.
void one_hot(Dataset& d, Index classes);
// Whether every row of targets is one-hot (one 1, the rest 0).
bool is_one_hot(const Dataset& d);

// 0..n-1 in a random order (Fisher-Yates with rng).
std::vector<Index> shuffled_indices(Index n, Rng& rng);
// The same, in place, so that an epoch's shuffle allocates nothing.
void shuffle(std::span<Index> indices, Rng& rng);

// Per-feature standardization, x' = (x - mean) / scale, fitted on training
// data only. A constant feature gets scale 1 (it becomes 0, not NaN).
struct Standardizer {
  std::vector<float> mean, scale;
  static Standardizer fit(const Dataset& d);
  // The same fit over data held in pieces, one per process (the shards of
  // a distributed run): every process calls it with its piece, and
  // `sum_over_pieces` replaces a span of doubles by its sum over every
  // piece, with the same bits everywhere (Communicator::allreduce_sum). It
  // is called twice, for the means and then for the variances. A piece may
  // be empty; the pieces together need a row. Equals fit() of the whole
  // set but for the order of its sums.
  static Standardizer fit(const Dataset& piece, const std::function<void(std::span<double>)>& sum_over_pieces);
  void apply(Dataset& d) const;  // throws if the feature counts differ
};

}  // namespace descent::data
