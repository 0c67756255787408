// Building a run from options: its data and its model (setup.hpp).
#include "descent/train/setup.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "descent/data/csv.hpp"
#include "descent/data/libsvm.hpp"
#include "descent/data/named.hpp"
#include "descent/dist/communicator.hpp"
#include "descent/nn/objective.hpp"
#include "descent/nn/spec.hpp"
#include "descent/train/model_file.hpp"
#include "table.hpp"

namespace descent::train {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_named(const std::string& data) {
  const auto& named = data::named_datasets();
  return std::find(named.begin(), named.end(), data) != named.end();
}

// values[k] for each k of positions.
std::vector<Index> pick(const std::vector<Index>& values, const std::vector<Index>& positions) {
  std::vector<Index> out(positions.size());
  for (std::size_t k = 0; k < positions.size(); ++k) out[k] = values[static_cast<std::size_t>(positions[k])];
  return out;
}

// The rows of `kept` (a loaded selection of a file, whose file rows are
// kept_rows, increasing) that are the file rows `part` (increasing, a
// subset of kept_rows).
data::Dataset part_of(const data::Dataset& kept, const std::vector<Index>& kept_rows, const std::vector<Index>& part) {
  std::vector<Index> positions;
  positions.reserve(part.size());
  std::size_t at = 0;
  for (const Index row : part) {
    while (kept_rows[at] != row) ++at;
    positions.push_back(static_cast<Index>(at));
  }
  return data::subset(kept, positions);
}

// Which rows of the training file go where: the held-out test rows
// (without a test file or a named set's test part), the validation rows
// and, in a distributed run, the rank's shard, each seeded as in one
// process. Rows of the file, increasing within each part.
struct RowPlan {
  std::vector<Index> train, validation, test, kept;  // kept: the three together, in file order
  Index train_rows = 0;
  dist::Shard shard;

  void choose(Index rows, const DataOptions& o, bool test_split, dist::Communicator* comm) {
    std::vector<Index> rest(static_cast<std::size_t>(rows));
    std::iota(rest.begin(), rest.end(), Index(0));
    if (test_split) {
      auto parts = data::split_rows(rows, 0.2, o.seed);
      rest = std::move(parts.first);
      test = std::move(parts.second);
    }
    if (o.val_fraction > 0) {
      const auto parts = data::split_rows(static_cast<Index>(rest.size()), o.val_fraction, o.seed + 1);
      validation = pick(rest, parts.second);
      rest = pick(rest, parts.first);
    }
    train_rows = static_cast<Index>(rest.size());
    if (comm) {
      shard = dist::make_shard(train_rows, comm->rank(), comm->size(), o.seed);
      rest = pick(rest, shard.rows);
    }
    train = std::move(rest);
    if (comm && comm->rank() != 0) {  // rank 0 alone evaluates
      validation.clear();
      test.clear();
    }
    kept = train;  // the three parts are disjoint
    for (const auto* part : {&validation, &test}) {
      const auto middle = static_cast<std::ptrdiff_t>(kept.size());
      kept.insert(kept.end(), part->begin(), part->end());
      std::inplace_merge(kept.begin(), kept.begin() + middle, kept.end());
    }
  }
};

// A classifier's -1/+1 labels over every rank's shard (some -1, nothing
// but -1 and +1) become the classes 0 and 1.
void read_signed_labels(TrainingData& s, dist::Communicator* comm) {
  std::array<std::int64_t, 2> counts{0, 0};  // -1s, others
  for (const float v : s.train.y) {
    counts[0] += v == -1.0f;
    counts[1] += v != -1.0f && v != 1.0f;
  }
  if (comm) comm->allreduce_sum(std::span<std::int64_t>(counts));
  s.signed_labels = counts[0] > 0 && counts[1] == 0;
  if (s.signed_labels)
    for (auto* d : {&s.train, &s.validation, &s.test}) map_signed_labels(*d);
}

// 0 unless every rank's labels are classes; then the largest count.
Index count_classes(const data::Dataset& train, dist::Communicator* comm) {
  const Index classes = train.classes();
  if (!comm) return classes;
  std::vector<std::int64_t> all(static_cast<std::size_t>(comm->size()));
  const std::int64_t mine = classes;
  comm->allgather(std::span<const std::int64_t>(&mine, 1), all);
  return std::find(all.begin(), all.end(), 0) != all.end() ? 0 : *std::max_element(all.begin(), all.end());
}

}  // namespace

data::Dataset load_data_file(const std::string& path, const DataOptions& o, Index features, data::RowSelector rows) {
  if (ends_with(path, ".csv")) {
    data::CsvOptions c;
    c.label_column = o.label_column;
    if (o.impute) c.missing = data::CsvMissing::impute_mean;
    c.rows = std::move(rows);
    c.warn = o.warn;
    return data::load_csv(path, c);
  }
  if (ends_with(path, ".svm") || ends_with(path, ".libsvm") || ends_with(path, ".txt")) {
    data::LibsvmOptions l;
    l.features = features;
    l.rows = std::move(rows);
    return data::load_libsvm(path, l);
  }
  throw invalid_argument(fmt::format("--data {}: expected {}, a .csv file or a LIBSVM file (.svm, .libsvm, .txt)", path,
                                     fmt::join(data::named_datasets(), ", ")));
}

TrainingData load_training_data(const DataOptions& o, dist::Communicator* comm) {
  const bool lead = comm == nullptr || comm->rank() == 0;
  const bool named = is_named(o.data);
  RowPlan plan;
  const data::RowSelector select = [&](Index rows) {
    plan.choose(rows, o, o.test.empty() && !named, comm);
    return plan.kept;
  };
  data::Dataset kept = named ? data::load_named(o.data, data::Part::train, data::default_datasets_root(), select)
                             : load_data_file(o.data, o, 0, select);
  TrainingData s;
  s.train_rows = plan.train_rows;
  s.shard = std::move(plan.shard);
  if (plan.kept.size() == plan.train.size()) {
    s.train = std::move(kept);
  } else {
    s.train = part_of(kept, plan.kept, plan.train);
    s.validation = part_of(kept, plan.kept, plan.validation);
    s.test = part_of(kept, plan.kept, plan.test);
    kept = {};
  }
  s.has_validation = o.val_fraction > 0;
  if (lead && !o.test.empty())
    s.test = load_data_file(o.test, o, s.train.features);
  else if (lead && named)
    s.test = data::load_named(o.data, data::Part::test);
  if (!lead)  // the parts rank 0 alone reads, held without rows
    s.validation.features = s.test.features = s.train.features;
  // Before the first collective over the data's shape: every rank read the
  // same file (else every rank ends with a message).
  if (comm)
    dist::handshake(*comm, {{"the features per sample", s.train.features}, {"the training rows in all", s.train_rows}});
  if (o.classifier && s.train.targets == 1) read_signed_labels(s, comm);
  s.classes = count_classes(s.train, comm);
  if (o.standardize) {  // training statistics only, over every rank's shard
    s.scaler = data::Standardizer::fit(s.train, [&](std::span<double> v) {
      if (comm) comm->allreduce_sum(v);
    });
    s.scaler->apply(s.train);
    if (s.has_validation) s.scaler->apply(s.validation);
    s.scaler->apply(s.test);
  }
  return s;
}

bool is_classifier(const std::string& model, const std::string& loss) {
  if (model == "logistic" || model.starts_with("logistic:")) return true;
  if (!(model.starts_with("mlp:") || model.starts_with("cnn:"))) return false;
  return loss.empty() || loss == "cross_entropy" || loss == "bce";
}

namespace {

// ", such as 2.5 in training row R" for the first label that is no class id.
std::string first_non_class(const data::Dataset& d) {
  for (Index r = 0; r < d.rows; ++r) {
    const float v = d.y[static_cast<std::size_t>(r * d.targets)];
    if (!(v >= 0.0f && v == std::floor(v))) return fmt::format(", such as {} in training row {}", v, r);
  }
  return "";
}

// The most classes a label column may imply beyond its rows: class ids are
// 0..K-1, so K far above the number of rows means a label that is no class
// id (a typo, an identifier column), and the model would have K outputs.
constexpr Index kSpareClasses = 1024;

void check_class_count(const TrainingData& sets) {
  if (sets.classes <= std::max(sets.train_rows, kSpareClasses)) return;
  const auto& y = sets.train.y;
  const auto at = std::max_element(y.begin(), y.end()) - y.begin();
  throw invalid_argument(fmt::format("the label column holds the class id {:.0f} (training row {}) but the training set has "
                                "only {} rows: class ids are 0..K-1, with K at most the row count (or {}). Is it the "
                                "label column (--label-column)?",
                                y.empty() ? 0.0 : double(y[static_cast<std::size_t>(at)]), at, sets.train_rows,
                                kSpareClasses));
}

// A classifier's validation and test labels are classes of its training
// set: a label beyond them has no output to score it.
void check_held_out_labels(const TrainingData& sets) {
  const auto check = [&](const data::Dataset& d, const char* which) {
    if (d.targets != 1) return;
    for (Index r = 0; r < d.rows; ++r) {
      const float v = d.y[static_cast<std::size_t>(r)];
      if (!(v >= 0.0f && v == std::floor(v) && Index(v) < sets.classes))
        throw invalid_argument(fmt::format("{} row {} has the label {}, which is none of the classes 0..{} of the training "
                                      "set",
                                      which, r, v, sets.classes - 1));
    }
  };
  check(sets.validation, "validation");
  check(sets.test, "test");
}

}  // namespace

std::string model_spec(const std::string& model, const TrainingData& data) {
  const data::Dataset& train = data.train;
  if (model == "linear") return fmt::format("linear:{}", train.features);
  if (model != "logistic") return model;
  const Index k = data.classes;
  if (k == 1)
    throw invalid_argument("--model logistic: the label column holds only one class (every label is 0); a classifier "
                           "needs two or more");
  if (k < 2)
    throw invalid_argument(fmt::format("--model logistic needs class labels 0..K-1 with K >= 2 (or -1/+1) in the label "
                                       "column; found other targets{}",
                                       first_non_class(train)));
  return k == 2 ? fmt::format("logistic:{}", train.features) : fmt::format("logistic:{}-{}", train.features, k);
}

template <class T>
nn::Model<T> build_model(const std::string& spec, const std::string& loss, TrainingData& data, bool classifier) {
  nn::Model<T> model = nn::make_model<T>(spec);
  if (!loss.empty()) {
    nn::Loss l = model.loss();
    l.kind = nn::parse_loss(loss);
    model.set_loss(l);
  }
  const Index outputs = model.output_shape().size(), classes = data.classes;
  if (classifier && classes > 0) {
    check_class_count(data);
    check_held_out_labels(data);
  }
  // Losses with a target per output (binary cross-entropy over K classes)
  // get the class labels one-hot.
  if (model.loss().target_width(outputs) == outputs && outputs > 1 && data.train.targets == 1 && classes >= 2) {
    if (classes > outputs)
      throw invalid_argument(fmt::format("--loss {}: the labels go up to {}, but the model has {} outputs",
                                         model.loss().name(), classes - 1, outputs));
    data::one_hot(data.train, outputs);
    if (data.has_validation) data::one_hot(data.validation, outputs);
    data::one_hot(data.test, outputs);
  }
  return model;
}

template <class T>
double activation_bytes_per_row(nn::Model<T>& model, const Vector<T>& x, const data::Dataset& train) {
  if (train.rows == 0) return 0;
  const Index probe = std::min<Index>(train.rows, 4);
  const detail::Table<T> table(train);
  nn::ModelObjective<T> objective(model, table.x, table.y, train.rows);
  Vector<T> g(x.size());
  std::vector<Index> rows(static_cast<std::size_t>(probe));
  std::iota(rows.begin(), rows.end(), Index(0));
  objective.value_and_gradient(x, g, rows);
  return double(objective.tape().arena_used_bytes()) / double(probe);
}

template nn::Model<float> build_model<float>(const std::string&, const std::string&, TrainingData&, bool);
template nn::Model<double> build_model<double>(const std::string&, const std::string&, TrainingData&, bool);
template double activation_bytes_per_row<float>(nn::Model<float>&, const Vector<float>&, const data::Dataset&);
template double activation_bytes_per_row<double>(nn::Model<double>&, const Vector<double>&, const data::Dataset&);

}  // namespace descent::train
