// A training run's pieces built from plain options, as `descent train`
// builds them: the data (loaded, split into training, validation and test
// rows, standardized, sharded over the ranks of a distributed run) and the
// model (sized from the data, its labels checked). The steppers come from
// optim::make_stepper.
//
//   auto data = train::load_training_data({.data = "fashion-mnist", .val_fraction = 0.1, .seed = 1});
//   const auto spec = train::model_spec("logistic", data);
//   auto model = train::build_model<float>(spec, "", data);
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "descent/data/dataset.hpp"
#include "descent/dist/shard.hpp"
#include "descent/nn/model.hpp"

namespace descent::dist {
class Communicator;
}

namespace descent::train {

struct DataOptions {
  std::string data;          // a named set (data::named_datasets()), FILE.csv, or LIBSVM text (.svm, .libsvm, .txt)
  std::string test;          // a test file; empty: the named set's test part, else a seeded 20% of the data
  std::string label_column;  // CSV: the target column, an index or a header name (default: the last)
  bool standardize = false;  // scale the features with the training rows' statistics
  bool impute = false;       // CSV: missing values become their column's mean (default: refused)
  double val_fraction = 0;   // of the training rows, held out for validation; in [0, 1)
  std::uint64_t seed = 0;    // of the splits and the shards
  bool classifier = false;   // the labels are class ids: -1/+1 labels are read as 0 and 1
  std::function<void(const std::string&)> warn;  // a reader's warnings (a header of numbers); none: silent
};

// The data of a run. In a distributed run, train is this rank's shard of
// the training set, and validation and test are on rank 0 alone (it alone
// evaluates them; the other ranks hold them without rows).
struct TrainingData {
  data::Dataset train, validation, test;
  bool has_validation = false;
  Index train_rows = 0;  // the whole training set, over every rank
  Index classes = 0;     // Dataset::classes() of the whole training set
  dist::Shard shard;     // a distributed run's: which rows of the training set train holds
  std::optional<data::Standardizer> scaler;
  bool signed_labels = false;  // LIBSVM's -1/+1 labels, read as the classes 0 and 1
};

// One file by its extension, keeping the rows `rows` selects (all when
// empty). features: a LIBSVM file's feature count (0: the largest index).
data::Dataset load_data_file(const std::string& path, const DataOptions& o, Index features,
                             data::RowSelector rows = {});

// Loads the training file once, keeping only the rows this process needs
// (its shard, and on rank 0 the held-out rows): each part is chosen from
// the file's row count alone, seeded as in one process. Standardization
// statistics and class counts are summed over the ranks.
TrainingData load_training_data(const DataOptions& o, dist::Communicator* comm = nullptr);

// Whether a model fits class ids: logistic regression, or a network
// trained with (binary) cross-entropy (loss: an override, or empty).
bool is_classifier(const std::string& model, const std::string& loss);

// "linear" and "logistic" take their sizes from the data; a full spec is
// returned as it is.
std::string model_spec(const std::string& model, const TrainingData& data);

// The model of `spec`, with `loss` instead of its own (empty: its own).
// A classifier's labels are checked against the training set (class ids
// far beyond its rows, held-out labels it never saw); a loss that takes a
// target per output gets the labels one-hot. Throws
// descent::invalid_argument saying what does not fit.
template <class T>
nn::Model<T> build_model(const std::string& spec, const std::string& loss, TrainingData& data, bool classifier);

// The bytes of activations (the tape of a forward and backward pass) one
// training row takes, measured on a pass over a few rows.
template <class T>
double activation_bytes_per_row(nn::Model<T>& model, const Vector<T>& x, const data::Dataset& train);

}  // namespace descent::train
