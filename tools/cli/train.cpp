// descent train: load a data set, train a model on it with a stepper or a
// full-batch solver, report on held-out data.
//
//   descent train --data fashion-mnist|FILE.csv|FILE.svm [--label-column K] [--test FILE]
//                 [--standardize] [--impute] --model linear|logistic|mlp:SPEC|cnn:lenet [--loss NAME]
//                 --optimizer NAME [--lr --momentum --weight-decay ... --schedule SPEC --clip-norm X]
//                 [--l2 LAMBDA] --epochs E --batch-size B [--val-fraction F] [--early-stopping P]
//                 [--gtol G --max-iter N] --seed S [--threads T] [--log FILE.jsonl]
//                 [--save MODEL.safetensors] [--checkpoint FILE [--checkpoint-every N]] [--resume FILE]
//                 [--on-divergence stop|rollback [--divergence-factor F] [--max-rollbacks K]] [--json]
//                 [--distributed [--sync-every K [--sync-state]] [--no-shard-optimizer]]   (under mpirun: docs/distributed.md)
//
// SIGINT or SIGTERM stops a stepper run after its current step, writes a
// checkpoint (to --checkpoint, else descent-interrupted.ckpt), prints the
// command that resumes it and exits with 130 or 143; a full-batch solver
// stops after its current iteration.
//
//   descent evaluate --model MODEL.safetensors --data fashion-mnist|FILE.csv|FILE.svm
//                    [--label-column K] [--json]
//
// evaluate reads a model saved by train --save (its spec, weights and any
// standardization are in the file) and reports its loss and accuracy with
// a confusion matrix, or MSE and R^2, on the data (a named set's test part).
#include <omp.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <numeric>
#include <optional>
#include <type_traits>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "descent/io/file.hpp"
#include "paths.hpp"
#include "ranges.hpp"
#include "descent/core/memory.hpp"
#include "descent/data/csv.hpp"
#include "descent/data/libsvm.hpp"
#include "descent/data/named.hpp"
#include "descent/dist/communicator.hpp"
#include "descent/dist/shard.hpp"
#include "descent/io/safetensors.hpp"
#include "descent/nn/objective.hpp"
#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"
#include "descent/train/checkpoint.hpp"
#include "descent/train/trainer.hpp"
#include "interrupt.hpp"
#include "stepper_flags.hpp"

namespace descent::cli {
namespace {

struct Flags {
  std::string data, test, label_column, model, loss, optimizer = "adam", schedule;
  bool standardize = false, impute = false;
  double lr = 1e-3, l2 = 0, val_fraction = 0, gtol = 1e-6;
  std::optional<double> time_limit;
  StepperFlags stepper;
  Index epochs = 10, batch_size = 32, early_stopping = 0, max_iter = 1000, memory = 20;
  std::uint64_t seed = 0;
  int threads = 0;
  std::string log, save, checkpoint, resume;
  Index checkpoint_every = 0;
  std::string on_divergence = "stop";
  double divergence_factor = 0;
  Index max_rollbacks = 3;
  bool json = false;
  bool distributed = false, sync_state = false, no_shard_optimizer = false;
  Index sync_every = 0;
};

// Where an interrupted run without --checkpoint leaves its state.
constexpr const char* interrupt_checkpoint = "descent-interrupted.ckpt";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A file by its extension: .csv, or LIBSVM text (.svm, .libsvm, .txt),
// keeping the rows `rows` selects (all when empty).
data::Dataset load_file(const std::string& path, const Flags& f, Index features, data::RowSelector rows = {}) {
  if (ends_with(path, ".csv")) {
    data::CsvOptions o;
    o.label_column = f.label_column;
    if (f.impute) o.missing = data::CsvMissing::impute_mean;
    o.rows = std::move(rows);
    o.warn = [](const std::string& message) { fmt::print(stderr, "descent: warning: {}\n", message); };
    return data::load_csv(path, o);
  }
  if (ends_with(path, ".svm") || ends_with(path, ".libsvm") || ends_with(path, ".txt")) {
    data::LibsvmOptions o;
    o.features = features;
    o.rows = std::move(rows);
    return data::load_libsvm(path, o);
  }
  throw usage_error(fmt::format("--data {}: expected {}, a .csv file or a LIBSVM file (.svm, .libsvm, .txt)", path,
                                fmt::join(data::named_datasets(), ", ")));
}

// The data of a run. In a distributed run, train is this rank's shard of
// the training set, and validation and test are on rank 0 alone (it alone
// evaluates them; the other ranks hold them without rows).
struct Sets {
  data::Dataset train, validation, test;
  bool has_validation = false;
  Index train_rows = 0;  // the whole training set, over every rank
  Index classes = 0;     // Dataset::classes() of the whole training set
  dist::Shard shard;     // a distributed run's: which rows of the training set train holds
  std::optional<data::Standardizer> scaler;
  bool signed_labels = false;  // LIBSVM's -1/+1 labels, read as the classes 0 and 1
};

// Whether the run fits a classifier, whose labels are class ids: logistic
// regression, or a network trained with (binary) cross-entropy.
bool classifier(const Flags& f) {
  if (f.model == "logistic" || f.model.starts_with("logistic:")) return true;
  if (!(f.model.starts_with("mlp:") || f.model.starts_with("cnn:"))) return false;
  return f.loss.empty() || f.loss == "cross_entropy" || f.loss == "bce";
}

// Maps the labels -1 and +1 (LIBSVM's binary classes, as in a9a) to the
// class ids 0 and 1 in place; other values are left for the class checks.
void map_signed_labels(data::Dataset& d) {
  for (float& v : d.y) v = v == -1.0f ? 0.0f : v;
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

// Loads the training file once, keeping only the rows this process needs.
// The held-out test rows (without --test or a named set's test part), the
// validation rows and, in a distributed run, the rank's shard are chosen
// from the file's row count alone, each seeded as in one process, so that
// a rank stores its shard (and rank 0 the held-out rows) and no more; the
// standardization statistics and the class count are then summed over the
// ranks.
Sets load_sets(const Flags& f, dist::Communicator* comm) {
  const bool lead = comm == nullptr || comm->rank() == 0;
  const auto& named = data::named_datasets();
  const bool is_named = std::find(named.begin(), named.end(), f.data) != named.end();
  const bool test_split = f.test.empty() && !is_named;  // a seeded 20% of the data held out for the test figures
  Sets s;
  std::vector<Index> train_rows, validation_rows, test_rows, kept_rows;  // rows of the file
  const data::RowSelector select = [&](Index rows) {
    std::vector<Index> rest(static_cast<std::size_t>(rows));
    for (Index i = 0; i < rows; ++i) rest[static_cast<std::size_t>(i)] = i;
    if (test_split) {
      auto parts = data::split_rows(rows, 0.2, f.seed);
      rest = std::move(parts.first);
      test_rows = std::move(parts.second);
    }
    if (f.val_fraction > 0) {
      const auto parts = data::split_rows(static_cast<Index>(rest.size()), f.val_fraction, f.seed + 1);
      validation_rows = pick(rest, parts.second);
      rest = pick(rest, parts.first);
    }
    s.train_rows = static_cast<Index>(rest.size());
    if (comm) {
      s.shard = dist::make_shard(s.train_rows, comm->rank(), comm->size(), f.seed);
      rest = pick(rest, s.shard.rows);
    }
    train_rows = std::move(rest);
    if (!lead) {  // rank 0 alone evaluates
      validation_rows.clear();
      test_rows.clear();
    }
    // The three parts are disjoint; their union, in file order.
    kept_rows = train_rows;
    for (const auto* part : {&validation_rows, &test_rows}) {
      const auto middle = static_cast<std::ptrdiff_t>(kept_rows.size());
      kept_rows.insert(kept_rows.end(), part->begin(), part->end());
      std::inplace_merge(kept_rows.begin(), kept_rows.begin() + middle, kept_rows.end());
    }
    return kept_rows;
  };
  data::Dataset kept = is_named ? data::load_named(f.data, data::Part::train, data::default_datasets_root(), select)
                                : load_file(f.data, f, 0, select);
  if (kept_rows.size() == train_rows.size()) {
    s.train = std::move(kept);
  } else {
    s.train = part_of(kept, kept_rows, train_rows);
    s.validation = part_of(kept, kept_rows, validation_rows);
    s.test = part_of(kept, kept_rows, test_rows);
    kept = {};
  }
  s.has_validation = f.val_fraction > 0;
  if (lead && !f.test.empty())
    s.test = load_file(f.test, f, s.train.features);
  else if (lead && is_named)
    s.test = data::load_named(f.data, data::Part::test);
  if (!lead)  // the parts rank 0 alone reads, held without rows
    s.validation.features = s.test.features = s.train.features;

  // Before the first collective over the data's shape: every rank read the
  // same file (else every rank ends with a message).
  if (comm)
    dist::handshake(*comm, {{"the features per sample", s.train.features}, {"the training rows in all", s.train_rows}});
  if (classifier(f) && s.train.targets == 1) {
    // -1/+1 labels over every rank's shard: some -1, nothing but -1 and +1.
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
  s.classes = s.train.classes();
  if (comm) {  // 0 unless every rank's labels are classes; then the largest count
    std::vector<std::int64_t> all(static_cast<std::size_t>(comm->size()));
    const std::int64_t mine = s.classes;
    comm->allgather(std::span<const std::int64_t>(&mine, 1), all);
    s.classes = std::find(all.begin(), all.end(), 0) != all.end() ? 0 : *std::max_element(all.begin(), all.end());
  }
  if (f.standardize) {  // training statistics only, over every rank's shard
    s.scaler = data::Standardizer::fit(s.train, [&](std::span<double> v) {
      if (comm) comm->allreduce_sum(v);
    });
    s.scaler->apply(s.train);
    if (s.has_validation) s.scaler->apply(s.validation);
    s.scaler->apply(s.test);
  }
  return s;
}

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

void check_class_count(const Sets& sets) {
  if (sets.classes <= std::max(sets.train_rows, kSpareClasses)) return;
  const auto& y = sets.train.y;
  const auto at = std::max_element(y.begin(), y.end()) - y.begin();
  throw usage_error(fmt::format("the label column holds the class id {:.0f} (training row {}) but the training set has "
                                "only {} rows: class ids are 0..K-1, with K at most the row count (or {}). Is it the "
                                "label column (--label-column)?",
                                y.empty() ? 0.0 : double(y[static_cast<std::size_t>(at)]), at, sets.train_rows,
                                kSpareClasses));
}

// A classifier's validation and test labels are classes of its training
// set: a label beyond them has no output to score it.
void check_held_out_labels(const Sets& sets) {
  const auto check = [&](const data::Dataset& d, const char* which) {
    if (d.targets != 1) return;
    for (Index r = 0; r < d.rows; ++r) {
      const float v = d.y[static_cast<std::size_t>(r)];
      if (!(v >= 0.0f && v == std::floor(v) && Index(v) < sets.classes))
        throw usage_error(fmt::format("{} row {} has the label {}, which is none of the classes 0..{} of the training "
                                      "set",
                                      which, r, v, sets.classes - 1));
    }
  };
  check(sets.validation, "validation");
  check(sets.test, "test");
}

// "linear" and "logistic" take their sizes from the data.
std::string model_spec(const Flags& f, const Sets& sets) {
  const data::Dataset& train = sets.train;
  if (f.model == "linear") return fmt::format("linear:{}", train.features);
  if (f.model == "logistic") {
    const Index k = sets.classes;
    if (k == 1)
      throw usage_error("--model logistic: the label column holds only one class (every label is 0); a classifier "
                        "needs two or more");
    if (k < 2)
      throw usage_error(fmt::format("--model logistic needs class labels 0..K-1 with K >= 2 (or -1/+1) in the label "
                                    "column; found other targets{}",
                                    first_non_class(train)));
    return k == 2 ? fmt::format("logistic:{}", train.features) : fmt::format("logistic:{}-{}", train.features, k);
  }
  return f.model;
}

// Writes one JSON object per line, unbuffered, so that a killed run keeps
// its log. The log replaces an existing file only once the run logs more
// than its configuration (io::StreamedFile): a run that fails before its
// first epoch leaves the old log as it was. A write that fails (a full
// disk) is reported once; the run goes on, saves what it trained, and then
// exits with status 1 (failure()).
class JsonLog {
 public:
  explicit JsonLog(const std::string& path) {
    if (path.empty()) return;
    io::remove_stale_temporaries(path);
    try {
      file_.emplace(path);
    } catch (const std::runtime_error& e) {
      throw usage_error(fmt::format("--log {}: {}", path, e.what()));
    }
  }
  // The first line, the run's configuration: not yet published.
  void write_configuration(const nlohmann::json& j) { put(j, false); }
  void write(const nlohmann::json& j) { put(j, true); }
  // Why the log is incomplete; empty when every line was written.
  const std::string& failure() const { return failure_; }

 private:
  void put(const nlohmann::json& j, bool publish) {
    if (!file_ || !failure_.empty()) return;
    try {
      file_->write(j.dump() + '\n');
      if (publish) file_->publish();
    } catch (const std::runtime_error& e) {
      failure_ = e.what();
      fmt::print(stderr, "descent: --log: {}; the run goes on without its log\n", failure_);
    }
  }

  std::optional<io::StreamedFile> file_;
  std::string failure_;
};

// The progress of a stepper run: a bar redrawn on a terminal, one line per
// epoch otherwise (on stderr when --json owns stdout).
class Progress final : public train::TrainCallback {
 public:
  Progress(const Flags& f, Index steps_per_epoch, JsonLog& log)
      : flags_(f), steps_per_epoch_(steps_per_epoch), log_(log),
        out_(f.json ? stderr : stdout), terminal_(isatty(fileno(out_)) != 0) {}

  bool on_step(const train::StepRecord& s) override {
    if (!terminal_) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100)) return true;
    last_draw_ = now;
    const Index in_epoch = (s.step - 1) % steps_per_epoch_ + 1;
    const int width = 30, filled = int(width * in_epoch / steps_per_epoch_);
    const double total = double(steps_per_epoch_ * flags_.epochs);
    const double left = s.seconds / double(s.step) * (total - double(s.step));
    fmt::print(out_, "\r  epoch {}/{} [{}{}] step {}/{} loss {:.4f} {:.0f} samples/s, {:.0f} s left   ", s.epoch,
               flags_.epochs, std::string(std::size_t(filled), '#'), std::string(std::size_t(width - filled), '.'),
               in_epoch, steps_per_epoch_, s.loss, double(s.step * flags_.batch_size) / s.seconds, left);
    std::fflush(out_);
    return true;
  }

  bool on_epoch(const train::EpochRecord& e) override {
    if (terminal_) fmt::print(out_, "\r{:120}\r", "");
    std::string validation;
    if (!std::isnan(e.validation_loss)) {
      validation = fmt::format("  val loss {:.4f}", e.validation_loss);
      if (!std::isnan(e.validation_accuracy)) validation += fmt::format("  val acc {:.4f}", e.validation_accuracy);
    }
    fmt::print(out_, "epoch {:>3}  loss {:.4f}{}  {:.0f} samples/s  {:.1f} s\n", e.epoch, e.train_loss, validation,
               e.samples_per_second, e.seconds);
    std::fflush(out_);
    nlohmann::json j{{"epoch", e.epoch},
                     {"step", e.steps},
                     {"loss", e.train_loss},
                     {"gradient_norm", e.gradient_norm},
                     {"update_norm", e.update_norm},
                     {"lr", e.lr},
                     {"seconds", e.seconds},
                     {"samples_per_second", e.samples_per_second}};
    if (!std::isnan(e.validation_loss)) j["validation_loss"] = e.validation_loss;
    if (!std::isnan(e.validation_accuracy)) j["validation_accuracy"] = e.validation_accuracy;
    log_.write(j);
    return true;
  }

  void on_rollback(const train::RollbackRecord& r) override {
    if (terminal_) fmt::print(out_, "\r{:120}\r", "");
    fmt::print(out_, "rollback {}/{} at step {} (epoch {}): {}; back to the snapshot of step {}, learning rate x{:g}\n",
               r.rollback, flags_.max_rollbacks, r.step, r.epoch, r.reason, r.restored_step, r.lr_scale);
    std::fflush(out_);
    log_.write({{"rollback", r.rollback},
                {"epoch", r.epoch},
                {"step", r.step},
                {"restored_step", r.restored_step},
                {"lr_scale", r.lr_scale},
                {"reason", r.reason}});
  }

 private:
  const Flags& flags_;
  Index steps_per_epoch_;
  JsonLog& log_;
  std::FILE* out_;
  bool terminal_;
  std::chrono::steady_clock::time_point last_draw_{};
};

// One line per iteration of a full-batch solver in the log.
// It also stops the solver, as failed, once a signal has come.
template <class T>
class SolverLog final : public Callback<T> {
 public:
  SolverLog(JsonLog& log, const std::atomic<bool>& interrupted) : log_(log), interrupted_(interrupted) {}
  Control on_iteration(const IterationReport<T>& r) override {
    log_.write({{"iteration", r.iteration},
                {"evaluations", r.gradient_evaluations},
                {"loss", double(r.value)},
                {"gradient_norm", double(r.gradient_norm)},
                {"seconds", r.seconds}});
    return interrupted_.load() ? Control::stop_failed : Control::proceed;
  }

 private:
  JsonLog& log_;
  const std::atomic<bool>& interrupted_;
};

// The command line that resumes an interrupted run: the same words, with
// --resume (and its value) replaced.
std::string resume_command(const std::string& checkpoint) {
  const auto& words = command_line();
  std::string out = "descent";
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--resume") {
      ++i;
      continue;
    }
    if (w.rfind("--resume=", 0) == 0) continue;
    const bool plain = !w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "0123456789-_=.,:/+@%") == std::string::npos;
    out += ' ';
    if (plain) {
      out += w;
    } else {  // single quotes, each ' as '\''
      out += '\'';
      for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out + " --resume " + checkpoint;
}

// Every setting of the run, defaults included: the loss the model uses and
// every hyper-parameter of the stepper with the value it took.
nlohmann::json configuration(const Flags& f, int threads, const std::string& loss,
                             const optim::Hyperparameters& hyperparameters) {
  return {{"descent", DESCENT_VERSION},
          {"command", "train"},
          {"data", f.data},
          {"test", f.test},
          {"label_column", f.label_column},
          {"standardize", f.standardize},
          {"impute", f.impute},
          {"model", f.model},
          {"loss", loss},
          {"optimizer", f.optimizer},
          {"lr", f.lr},
          {"hyperparameters", hyperparameters},
          {"schedule", f.schedule},
          {"clip_norm", f.stepper.clip_norm},
          {"l1", f.stepper.l1},
          {"l2", f.l2},
          {"epochs", f.epochs},
          {"batch_size", f.batch_size},
          {"val_fraction", f.val_fraction},
          {"early_stopping", f.early_stopping},
          {"gtol", f.gtol},
          {"time_limit", f.time_limit ? nlohmann::json(*f.time_limit) : nlohmann::json(nullptr)},
          {"checkpoint", f.checkpoint},
          {"checkpoint_every", f.checkpoint_every},
          {"resume", f.resume},
          {"on_divergence", f.on_divergence},
          {"divergence_factor", f.divergence_factor},
          {"max_rollbacks", f.max_rollbacks},
          {"max_iter", f.max_iter},
          {"memory", f.memory},
          {"seed", f.seed},
          {"threads", threads},
          {"distributed", f.distributed},
          {"sync_every", f.sync_every},
          {"sync_state", f.sync_state},
          {"shard_optimizer", !f.no_shard_optimizer},
          {"save", f.save}};
}

template <class T>
void save_model(const std::string& path, const std::string& spec, const nn::Model<T>& model, const Vector<T>& x,
                const Sets& sets) {
  const auto& scaler = sets.scaler;
  io::SafetensorsWriter w;
  if (scaler) {
    const auto n = static_cast<std::int64_t>(scaler->mean.size());
    w.add("standardize.mean", std::span<const float>(scaler->mean), {n});
    w.add("standardize.scale", std::span<const float>(scaler->scale), {n});
  }
  for (const auto& s : model.layout().segments()) {
    std::vector<std::int64_t> shape = s.is_matrix() ? std::vector<std::int64_t>{s.rows, s.cols}
                                                    : std::vector<std::int64_t>{s.length};
    w.add(s.name, std::span<const T>(x.data() + s.offset, static_cast<std::size_t>(s.length)), shape);
  }
  if (model.buffers().size() > 0)
    w.add("buffers", std::span<const T>(model.buffers().data(), static_cast<std::size_t>(model.buffers().size())),
          {model.buffers().size()});
  w.set_metadata("model", spec);
  // The labels of the classes 0, 1, ... when the data's were not class ids.
  if (sets.signed_labels) w.set_metadata("labels", "-1,1");
  w.set_metadata("loss", model.loss().name());
  w.set_metadata("descent", DESCENT_VERSION);
  w.set_metadata("descent.crc32", train::tensor_checksum(w.serialize(), path));
  w.write(path);
}

// Where a model goes when --save cannot be written after the training (the
// disk filled up, the directory went away): the working directory, else
// the temporary directory.
constexpr const char* rescue_name = "descent-unsaved-model.safetensors";

// Saves to `path`; if that fails, says why and saves to a rescue file
// instead, so the trained weights are not lost. Returns where the model
// went ("" if nowhere).
template <class T>
std::string save_or_rescue(const std::string& path, const std::string& spec, const nn::Model<T>& model,
                           const Vector<T>& x, const Sets& sets) {
  try {
    save_model(path, spec, model, x, sets);
    return path;
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "descent: --save: {}\n", e.what());
  }
  for (const auto& rescue : {std::filesystem::path(rescue_name), std::filesystem::temp_directory_path() / rescue_name}) {
    try {
      if (io::same_file(rescue.string(), path)) continue;
      save_model(rescue.string(), spec, model, x, sets);
      fmt::print(stderr, "descent: the trained model is saved in {} instead\n", rescue.string());
      return rescue.string();
    } catch (const std::exception&) {
    }
  }
  fmt::print(stderr, "descent: the trained model could not be saved anywhere\n");
  return "";
}

// Refuses a stepper run whose batch needs more memory for its activations
// (the tape of a forward and backward pass), on top of the `fixed` bytes of
// parameters and optimizer state, than the machine has. The bytes per row
// are measured on a pass over a few rows of the training set; a batch is
// --batch-size rows (at most the training set), an evaluation 4096.
template <class T>
void require_activation_memory(const Flags& f, nn::Model<T>& model, const Vector<T>& x, const Sets& sets,
                               double fixed) {
  const data::Dataset& train = sets.train;
  if (train.rows == 0) return;
  const Index probe = std::min<Index>(train.rows, 4);
  nn::ModelObjective<T> objective(model, train.x.data(), train.y.data(), train.rows);
  Vector<T> g(x.size());
  std::vector<Index> rows(static_cast<std::size_t>(probe));
  std::iota(rows.begin(), rows.end(), Index(0));
  objective.value_and_gradient(x, g, rows);
  const double per_row = double(objective.tape().arena_used_bytes()) / double(probe);
  const Index batch = std::max(std::min(f.batch_size, sets.train_rows), std::min<Index>(sets.train_rows, 4096));
  require_memory(fixed + per_row * double(batch), 0.9,
                 fmt::format("model {} ({} parameters and their optimizer state, {:.1f} MiB) with batches of {} rows "
                             "({:.1f} KiB of activations a row)",
                             f.model, model.num_parameters(), fixed / double(1 << 20), batch, per_row / 1024));
}

// comm: a distributed run (every rank runs this; rank 0 alone prints, logs
// and saves).
template <class T>
int run(const Flags& f, Sets& sets, const std::string& spec, int threads, dist::Communicator* comm) {
  const bool lead = comm == nullptr || comm->rank() == 0;
  nn::Model<T> model = [&] {
    try {
      return nn::make_model<T>(spec);
    } catch (const invalid_argument& e) {
      throw usage_error(e.what());
    }
  }();
  if (!f.loss.empty()) {
    nn::Loss loss = model.loss();
    loss.kind = nn::parse_loss(f.loss);
    model.set_loss(loss);
  }
  // Losses with a target per output (binary cross-entropy over K classes)
  // get the class labels one-hot.
  const Index outputs = model.output_shape().size();
  const Index classes = sets.classes;
  if (classifier(f) && classes > 0) {
    check_class_count(sets);
    check_held_out_labels(sets);
  }
  if (model.loss().target_width(outputs) == outputs && outputs > 1 && sets.train.targets == 1 && classes >= 2) {
    if (classes > outputs)
      throw usage_error(fmt::format("--loss {}: the labels go up to {}, but the model has {} outputs",
                                    model.loss().name(), classes - 1, outputs));
    try {
      data::one_hot(sets.train, outputs);
      if (sets.has_validation) data::one_hot(sets.validation, outputs);
      data::one_hot(sets.test, outputs);
    } catch (const invalid_argument& e) {
      throw usage_error(e.what());
    }
  }
  // The parameters, their gradient and the step's copy, up to three
  // vectors of optimizer state (or L-BFGS's pairs), the best weights and a
  // rollback snapshot: refused before any of it is allocated.
  const auto solver = parse_method(f.optimizer);
  const double vectors = solver ? 6.0 + 2.0 * double(f.memory) : 9.0;
  require_memory(vectors * double(model.num_parameters()) * double(sizeof(T)), 0.9,
                 fmt::format("model {} ({} parameters, {} bytes each, about {:g} copies)", spec,
                             model.num_parameters(), sizeof(T), vectors));
  Vector<T> x(model.num_parameters());
  model.initialize(x, f.seed);
  if constexpr (std::is_same_v<T, float>)  // the steppers' precision; a solver evaluates in bounded chunks
    if (!solver) require_activation_memory(f, model, x, sets, vectors * double(model.num_parameters()) * sizeof(T));

  std::unique_ptr<optim::Stepper<T>> stepper;
  optim::Hyperparameters hyperparameters = f.stepper.hyperparameters_map();
  if (!solver) {
    try {
      stepper = optim::make_stepper<T>(f.optimizer, model.layout(), x, f.stepper.hyperparameters_map(),
                                       f.stepper.regularization(), &hyperparameters);
    } catch (const invalid_argument& e) {
      throw usage_error(e.what());
    }
  }
  JsonLog log(lead ? f.log : std::string());
  log.write_configuration(configuration(f, threads, model.loss().name(), hyperparameters));
  nlohmann::json summary{{"model", spec},
                         {"optimizer", f.optimizer},
                         {"parameters", model.num_parameters()},
                         {"threads", threads},
                         {"train_rows", sets.train_rows},
                         {"validation_rows", sets.validation.rows},
                         {"test_rows", sets.test.rows}};
  if (!f.json && lead)
    fmt::print("{}: {} training, {} validation and {} test samples of {} features\n{}\n", f.data, sets.train_rows,
               sets.validation.rows, sets.test.rows, sets.train.features, model.summary());
  if (sets.signed_labels) {
    summary["labels"] = {-1, 1};
    if (!f.json && lead) fmt::print("labels -1 and +1 are read as the classes 0 and 1\n");
  }
  const InterruptGuard interrupt;
  std::string written;  // the checkpoint an interrupted run wrote
  summary["ranks"] = comm ? comm->size() : 1;
  // Each rank holds only its shard of the training rows (load_sets).
  const Index train_rows = sets.train_rows;
  if (comm) {
    if (!f.json && lead)
      fmt::print("distributed over {} ranks, {}\n", comm->size(),
                 f.sync_every > 0 ? fmt::format("local SGD averaging every {} steps", f.sync_every)
                                  : std::string("synchronous"));
  }
  if (solver) {
    // A distributed solver ignores signals (one rank stopping alone would
    // leave the others in a collective); mpirun ends the job on SIGINT.
    static const std::atomic<bool> never(false);
    SolverLog<T> solver_log(log, comm ? never : interrupt.flag());
    MinimizeOptions options;
    options.stop.gradient_tolerance = f.gtol;
    options.stop.max_iterations = f.max_iter;
    options.memory = f.memory;
    if (f.time_limit) options.stop.time_limit = *f.time_limit;
    const auto r = train::fit_full_batch(model, x, sets.train, *solver, options, f.l2, lead ? &solver_log : nullptr, comm);
    summary["status"] = std::string(to_string(r.status));
    summary["message"] = r.message;
    summary["iterations"] = r.iterations;
    summary["gradient_evaluations"] = r.gradient_evaluations;
    summary["train_loss"] = double(r.value);
    summary["gradient_norm"] = double(r.gradient_norm);
    summary["seconds"] = r.seconds;
    summary["epochs"] = nullptr;
    summary["samples_per_second"] = r.seconds > 0 ? double(train_rows * r.gradient_evaluations) / r.seconds : 0;
    if (!f.json && lead)
      fmt::print("{}: {} after {} iterations, training loss {:.7g}, |g| {:.3g}, {:.2f} s\n", f.optimizer, r.message,
                 r.iterations, double(r.value), double(r.gradient_norm), r.seconds);
  } else {
    const Index epoch_rows = comm && f.sync_every > 0 ? train_rows / comm->size() : train_rows;
    const Index batch = std::min(f.batch_size, epoch_rows);
    Progress progress(f, (epoch_rows + batch - 1) / batch, log);
    const train::TrainOptions options{.epochs = f.epochs,
                                      .batch_size = f.batch_size,
                                      .lr = f.lr,
                                      .schedule = f.schedule,
                                      .patience = f.early_stopping,
                                      .l2 = f.l2,
                                      .seed = f.seed,
                                      .time_limit = f.time_limit.value_or(std::numeric_limits<double>::infinity()),
                                      .checkpoint = f.checkpoint,
                                      .checkpoint_every = f.checkpoint_every,
                                      .resume = f.resume,
                                      .interrupt = &interrupt.flag(),
                                      .interrupt_checkpoint = interrupt_checkpoint,
                                      .on_divergence = f.on_divergence == "rollback"
                                                           ? train::TrainOptions::OnDivergence::rollback
                                                           : train::TrainOptions::OnDivergence::stop,
                                      .divergence_factor = f.divergence_factor,
                                      .max_rollbacks = f.max_rollbacks,
                                      .communicator = comm,
                                      .shard = comm ? &sets.shard : nullptr,
                                      .sync_every = f.sync_every,
                                      .sync_state = f.sync_state,
                                      .shard_optimizer = !f.no_shard_optimizer};
    const auto r = train::fit(model, x, sets.train, sets.has_validation ? &sets.validation : nullptr, *stepper,
                              options, lead ? &progress : nullptr);
    summary["status"] = std::string(to_string(r.status));
    summary["message"] = r.message;
    summary["epochs"] = r.epochs;
    summary["steps"] = r.steps;
    summary["train_loss"] = r.train_loss;
    summary["seconds"] = r.seconds;
    summary["samples_per_second"] = r.samples_per_second;
    if (r.best_epoch > 0) summary["best_epoch"] = r.best_epoch;
    if (r.diverged_at_step > 0) summary["diverged_at_step"] = r.diverged_at_step;
    summary["rollbacks"] = r.rollbacks;
    written = r.checkpoint_written;
    if (comm) {
      summary["communication_seconds"] = r.communication_seconds;
      summary["sync_every"] = f.sync_every;
      summary["optimizer_sharded"] = r.optimizer_sharded;
      summary["shard_rows"] = sets.train.rows;  // rank 0's
    }
    if (!f.json && lead) fmt::print("{}: {}\n", f.optimizer, r.message);
  }
  if (comm) {  // every rank compares a hash of its parameters with rank 0's
    const bool identical = dist::replicas_identical(*comm, std::span<const T>(x.data(), static_cast<std::size_t>(x.size())));
    summary["replicas_identical"] = identical;
    if (!identical && lead)
      fmt::print(stderr, "descent: warning: the ranks' parameters are not bit-identical{}\n",
                 f.sync_every > 0 ? "" : " (in a synchronous run they should be: please report this)");
  }
  const std::string status = summary["status"];
  // A signal to any rank of a distributed run stops every rank; one that
  // was not signalled itself reports it as SIGTERM, what mpirun and batch
  // schedulers send.
  const bool interrupted =
      status == "interrupted" || (interrupt.signal() != 0 && status == "aborted_by_callback");
  const int signo = interrupt.signal() != 0 ? interrupt.signal() : SIGTERM;
  const std::string by = interrupt.signal() != 0 ? fmt::format("by {}", interrupt.signal_name())
                                                 : std::string("(another rank received a signal)");
  if (!lead)  // rank 0 reports
    return status == "diverged" ? 1 : interrupted ? 128 + signo : 0;

  // Interrupted: no test figures and no --save; say how to go on, and exit
  // with 128 + the signal's number.
  if (interrupted) {
    summary["status"] = "interrupted";
    if (!written.empty()) summary["checkpoint"] = written;
    log.write({{"interrupted", interrupt.signal() != 0 ? interrupt.signal_name() : "another rank"},
               {"checkpoint", written}});
    if (f.json) fmt::print("{}\n", summary.dump(2));
    fmt::print(stderr, "descent: interrupted {}", by);
    if (!written.empty()) {
      fmt::print(stderr, "; the run's state is in {}\nresume with: {}\n", written, resume_command(written));
    } else {
      fmt::print(stderr, "; a full-batch solver keeps no checkpoint: run it again to finish\n");
    }
    return 128 + signo;
  }

  // A set too small for the held-out split trains on all it has; there are
  // then no test figures, and the run says so.
  std::optional<train::Evaluation> e;
  if (sets.test.rows > 0) {
    e = train::evaluate(model, x, sets.test);
    summary["test_loss"] = e->loss;
    if (e->classes > 0) {
      summary["test_accuracy"] = e->accuracy;
    } else {
      summary["test_mse"] = e->mse;
      summary["test_r2"] = e->r2;
    }
    log.write({{"test_loss", e->loss}, {"test_accuracy", summary.value("test_accuracy", nlohmann::json())}});
  }
  const std::string saved = f.save.empty() ? std::string() : save_or_rescue(f.save, spec, model, x, sets);
  if (!saved.empty() && saved != f.save) summary["saved_to"] = saved;
  if (!log.failure().empty()) summary["log_error"] = log.failure();
  if (f.json) {
    fmt::print("{}\n", summary.dump(2));
  } else if (!e) {
    fmt::print("test: nothing was held out: {} rows are too few for a 20% test split (give --test FILE)\n",
               sets.train_rows + sets.validation.rows);
  } else if (e->classes > 0) {
    fmt::print("test: loss {:.4f}, accuracy {:.4f} on {} samples\n", e->loss, e->accuracy, e->rows);
  } else {
    fmt::print("test: loss {:.4f}, mse {:.6g}, r2 {:.4f} on {} samples\n", e->loss, e->mse, e->r2, e->rows);
  }
  if (!log.failure().empty()) fmt::print(stderr, "descent: the log {} is incomplete: {}\n", f.log, log.failure());
  if (saved != f.save || !log.failure().empty()) return 1;
  return status == "diverged" ? 1 : 0;
}

int run_train(const Flags& f) {
  if (f.data.empty()) throw usage_error("--data is required (fashion-mnist, FILE.csv or FILE.svm)");
  if (f.model.empty()) throw usage_error("--model is required (linear, logistic, mlp:F-H-...-O, cnn:lenet)");
  // The flags' own ranges are checked as they are parsed (ranges.hpp); these
  // are the rules that tie a value or several flags together.
  if (f.val_fraction == 1) throw usage_error("--val-fraction must be in [0, 1); got 1 (nothing would be left to train on)");
  if (f.early_stopping > 0 && f.val_fraction == 0)
    throw usage_error("--early-stopping needs a validation set: give --val-fraction too");
  if (f.checkpoint_every > 0 && f.checkpoint.empty()) throw usage_error("--checkpoint-every needs --checkpoint FILE");
  if (!(f.divergence_factor == 0 || (f.divergence_factor > 1 && std::isfinite(f.divergence_factor))))
    throw usage_error(fmt::format("--divergence-factor must be 0 (off) or > 1; got {}", f.divergence_factor));
  const bool solver = parse_method(f.optimizer).has_value();
  if (solver && f.on_divergence == "rollback")
    throw usage_error("--on-divergence rollback is for the steppers; the full-batch solvers reset their curvature "
                      "memory after a failed line search themselves");
  if (solver && !(f.checkpoint.empty() && f.resume.empty()))
    throw usage_error("--checkpoint and --resume are for the steppers; a full-batch solver runs to the end");
  if (!solver && !optim::is_stepper_name(f.optimizer))
    throw usage_error(fmt::format("unknown optimizer '{}'; steppers: {}; full-batch solvers: {}", f.optimizer,
                                  fmt::join(optim::stepper_names(), ", "), method_names()));
  if (!f.loss.empty()) {
    try {
      nn::parse_loss(f.loss);
    } catch (const invalid_argument& e) {
      throw usage_error(e.what());
    }
  }
  if ((f.sync_every > 0 || f.sync_state) && !f.distributed)
    throw usage_error("--sync-every and --sync-state are for distributed runs: give --distributed too");
  if (f.sync_state && f.sync_every == 0) throw usage_error("--sync-state needs --sync-every K (local SGD)");
  if (f.no_shard_optimizer && !f.distributed)
    throw usage_error("--no-shard-optimizer is for distributed runs: give --distributed too");
  if (f.distributed && f.sync_every > 0 && solver)
    throw usage_error("--sync-every is for the steppers; a distributed full-batch solver is always synchronous");
  if (f.distributed && f.sync_every > 0 && f.checkpoint_every % f.sync_every != 0)
    throw usage_error(fmt::format("--checkpoint-every {} with --sync-every {}: local SGD checkpoints where the ranks' "
                                  "weights are averaged, so the interval must be a multiple of {}",
                                  f.checkpoint_every, f.sync_every, f.sync_every));
  if (f.distributed && solver && f.time_limit)
    throw usage_error("--time-limit does not go with a distributed full-batch solver: the ranks' clocks would stop "
                      "them at different iterations");
  if (f.distributed && !dist::mpi_available())
    throw usage_error("--distributed: this descent was built without MPI (DESCENT_WITH_MPI off); install Open MPI "
                      "(openmpi-bin, libopenmpi-dev), rebuild, and run under mpirun");
  // Every file the run reads and writes, before any work: an output that
  // cannot be written is found now, not after the training, and no output
  // may overwrite an input. --resume FILE --checkpoint FILE, going on in
  // the file a run was resumed from, is the usual way to continue.
  const auto& named = data::named_datasets();
  std::vector<NamedPath> inputs{
      {"--data", std::find(named.begin(), named.end(), f.data) == named.end() ? f.data : std::string()},
      {"--test", f.test}};
  if (f.checkpoint.empty() || f.resume.empty() || !io::same_file(f.resume, f.checkpoint))
    inputs.push_back({"--resume", f.resume});
  check_paths(inputs, {{"--log", f.log}, {"--save", f.save}, {"--checkpoint", f.checkpoint}});
  if (f.threads > 0) omp_set_num_threads(f.threads);
  const int threads = omp_get_max_threads();

  // Under mpirun every rank runs all of this; without mpirun, one rank.
  std::unique_ptr<dist::Communicator> comm = f.distributed ? dist::open_mpi() : nullptr;
  try {
    Sets sets = load_sets(f, comm.get());
    const std::string spec = model_spec(f, sets);
    // Full-batch solvers work in float64, the steppers in float32.
    return solver ? run<double>(f, sets, spec, threads, comm.get()) : run<float>(f, sets, spec, threads, comm.get());
  } catch (const std::exception& e) {
    if (!comm || comm->size() == 1) throw;
    // One rank's error ends every rank (the others may be waiting in a
    // collective): usage and data errors with status 2, others with 1.
    const bool usage = dynamic_cast<const usage_error*>(&e) || dynamic_cast<const invalid_argument*>(&e) ||
                       dynamic_cast<const parse_error*>(&e) || dynamic_cast<const dist::communication_error*>(&e);
    fmt::print(stderr, "descent: rank {} of {}: {}\n", comm->rank(), comm->size(), e.what());
    comm->abort(usage ? 2 : 1);
    throw;  // not reached: abort ends the process
  }
}

struct EvaluateFlags {
  std::string model, data, label_column;
  bool json = false;
};

// Prints the figures of an evaluation: a confusion matrix for classes.
void print_evaluation(const train::Evaluation& e, const std::string& what, bool json) {
  if (json) {
    nlohmann::json j{{"data", what}, {"rows", e.rows}, {"loss", e.loss}};
    if (e.classes > 0) {
      j["accuracy"] = e.accuracy;
      j["classes"] = e.classes;
      j["confusion"] = e.confusion;
    } else {
      j["mse"] = e.mse;
      j["r2"] = e.r2;
    }
    fmt::print("{}\n", j.dump(2));
    return;
  }
  if (e.classes == 0) {
    fmt::print("{}: {} samples, loss {:.6g}, mse {:.6g}, r2 {:.4f}\n", what, e.rows, e.loss, e.mse, e.r2);
    return;
  }
  fmt::print("{}: {} samples, loss {:.4f}, accuracy {:.4f}\nconfusion (rows: true class, columns: predicted)\n",
             what, e.rows, e.loss, e.accuracy);
  fmt::print("{:>6}", "");
  for (Index k = 0; k < e.classes; ++k) fmt::print("{:>6}", k);
  fmt::print("\n");
  for (Index t = 0; t < e.classes; ++t) {
    fmt::print("{:>6}", t);
    for (Index k = 0; k < e.classes; ++k) fmt::print("{:>6}", e.confusion[static_cast<std::size_t>(t * e.classes + k)]);
    fmt::print("\n");
  }
}

template <class T>
train::Evaluation evaluate_saved(const io::SafetensorsFile& file, const std::string& spec, data::Dataset& d) {
  nn::Model<T> model = [&] {
    try {
      return nn::make_model<T>(spec);
    } catch (const invalid_argument& e) {
      throw parse_error(file.path(), 0, fmt::format("the model spec in its metadata: {}", e.what()));
    }
  }();
  if (const auto loss = file.metadata().find("loss"); loss != file.metadata().end()) {
    nn::Loss l = model.loss();
    l.kind = nn::parse_loss(loss->second);
    model.set_loss(l);
  }
  // The spec's size against the tensors the file holds, before the
  // weights are allocated: a spec may claim far more than the file stores.
  Index stored = 0;
  for (const auto& name : file.names())
    if (!name.starts_with("standardize.") && name != "buffers") stored += file.element_count(name);
  if (stored != model.num_parameters())
    throw parse_error(file.path(), 0,
                      fmt::format("the model spec in its metadata, {}, has {} parameters, but the file stores {}", spec,
                                  model.num_parameters(), stored));
  Vector<T> x(model.num_parameters());
  for (const auto& s : model.layout().segments())
    file.read_into(s.name, std::span<T>(x.data() + s.offset, static_cast<std::size_t>(s.length)));
  if (model.buffers().size() > 0)
    file.read_into("buffers", std::span<T>(model.buffers().data(), static_cast<std::size_t>(model.buffers().size())));
  for (const auto& s : model.layout().segments()) {
    const auto* begin = x.data() + s.offset;
    if (const auto* bad = std::find_if(begin, begin + s.length, [](T v) { return !std::isfinite(v); });
        bad != begin + s.length)
      throw parse_error(file.path(), 0,
                        fmt::format("the weights are not finite: {} holds {} at element {} (was it saved from a run "
                                    "that diverged?)",
                                    s.name, double(*bad), bad - begin));
  }
  // A model trained on -1/+1 labels reads them as the classes 0 and 1.
  if (const auto labels = file.metadata().find("labels"); labels != file.metadata().end()) {
    if (labels->second != "-1,1")
      throw parse_error(file.path(), 0, fmt::format("unknown \"labels\" metadata '{}'; expected -1,1", labels->second));
    for (Index r = 0; r < d.rows; ++r) {
      float& v = d.y[static_cast<std::size_t>(r)];
      if (v != -1.0f && v != 1.0f)
        throw parse_error(d.source, 0, fmt::format("row {} has the label {}; the model was trained on the labels -1 "
                                                   "and +1", r, v));
    }
    map_signed_labels(d);
  }
  if (file.contains("standardize.mean")) {
    data::Standardizer scaler{file.floats("standardize.mean"), file.floats("standardize.scale")};
    scaler.apply(d);
  }
  return train::evaluate(model, x, d);
}

void run_evaluate(const EvaluateFlags& f) {
  if (f.model.empty()) throw usage_error("--model is required: a file written by descent train --save");
  if (f.data.empty()) throw usage_error("--data is required (fashion-mnist, FILE.csv or FILE.svm)");
  const auto file = io::SafetensorsFile::read(f.model);
  const auto spec = file.metadata().find("model");
  if (spec == file.metadata().end())
    throw parse_error(f.model, 0,
                      file.metadata().count("descent.checkpoint")
                          ? "a training checkpoint, not a saved model: continue it with descent train --resume, or "
                            "save a model with descent train --save"
                          : "no \"model\" entry in its metadata: not a file written by descent train --save");
  // Files from before checksums were written have none to check.
  if (const auto crc = file.metadata().find("descent.crc32"); crc != file.metadata().end()) {
    std::ifstream in(f.model, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string actual = train::tensor_checksum(bytes, f.model);
    if (actual != crc->second)
      throw parse_error(f.model, 0, fmt::format("the model file is damaged: its tensors' CRC-32 is {}, its metadata "
                                                "says {}", actual, crc->second));
  }
  const auto& named = data::named_datasets();
  Flags as_train;
  as_train.label_column = f.label_column;
  data::Dataset d = std::find(named.begin(), named.end(), f.data) != named.end()
                        ? data::load_named(f.data, data::Part::test)
                        : load_file(f.data, as_train, 0);
  // The weights' precision: the dtype of a tensor that is not the scaler's.
  bool wide = false;
  for (const auto& name : file.names())
    if (name.rfind("standardize.", 0) != 0) {
      wide = file.dtype(name) == io::DType::f64;
      break;
    }
  const auto e = wide ? evaluate_saved<double>(file, spec->second, d) : evaluate_saved<float>(file, spec->second, d);
  print_evaluation(e, f.data, f.json);
}

}  // namespace

void add_evaluate(CLI::App& app) {
  auto f = std::make_shared<EvaluateFlags>();
  CLI::App* cmd = app.add_subcommand("evaluate", "Report a saved model's loss and accuracy (or MSE and R^2) on data");
  cmd->add_option("--model", f->model, "Weights written by descent train --save");
  cmd->add_option("--data", f->data, "fashion-mnist (its test part), FILE.csv or a LIBSVM file");
  cmd->add_option("--label-column", f->label_column, "CSV: the target column, a 0-based index or a header name");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  cmd->callback([f] { run_evaluate(*f); });
}

void add_train(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("train", "Train a model on a data set and report on held-out data");
  cmd->add_option("--data", f->data, "fashion-mnist, FILE.csv or a LIBSVM file (.svm, .libsvm, .txt)");
  cmd->add_option("--test", f->test, "Test set file (default: the named set's test part, else a seeded 20%)");
  cmd->add_option("--label-column", f->label_column, "CSV: the target column, a 0-based index or a header name "
                                                      "(default: the last)");
  cmd->add_flag("--standardize", f->standardize, "Scale features with statistics of the training data");
  cmd->add_flag("--impute", f->impute, "CSV: replace missing values by their column's mean (default: reject)");
  cmd->add_option("--model", f->model, "linear, logistic, or a spec: " + nn::model_spec_help());
  cmd->add_option("--loss", f->loss, "Override the model's loss: mse, mae, huber, cross_entropy, bce, hinge");
  cmd->add_option("--optimizer", f->optimizer, "A stepper (" + fmt::format("{}", fmt::join(optim::stepper_names(), ", ")) +
                                                   ") or a full-batch solver (" + method_names() + ")")
      ->capture_default_str();
  cmd->add_option("--lr", f->lr, "Learning rate of the steppers")->capture_default_str()
      ->check(number_in(0, infinity));
  f->stepper.add_to(cmd);
  cmd->add_option("--schedule", f->schedule, "Learning-rate schedule over all steps, e.g. cosine, warmup:100+cosine; or plateau[:PATIENCE[:FACTOR]], which cuts the rate when the validation loss stalls");
  cmd->add_option("--l2", f->l2, "Add (L2/2) ||W||^2 over weights, not biases, for any optimizer")
      ->check(number_in(0, infinity));
  cmd->add_option("--epochs", f->epochs, "Passes over the training set")->capture_default_str()
      ->transform(integer_in<Index>(1, 1'000'000'000));
  cmd->add_option("--batch-size", f->batch_size, "Samples per step (1: SGD; the whole set: batch descent)")
      ->capture_default_str()
      ->transform(integer_in<Index>(1, Index(1) << 31));
  cmd->add_option("--val-fraction", f->val_fraction, "Hold out this fraction of the training set for validation")
      ->check(number_in(0, 1));
  cmd->add_option("--early-stopping", f->early_stopping,
                  "Stop after this many epochs without a better validation loss, restoring the best weights")
      ->transform(integer_in<Index>(0, 1'000'000'000));
  cmd->add_option("--gtol", f->gtol, "Full-batch solvers: stop when |g| <= gtol")->capture_default_str()
      ->check(number_in(0, infinity));
  cmd->add_option("--max-iter", f->max_iter, "Full-batch solvers: iteration limit")->capture_default_str()
      ->transform(integer_in<Index>(1, Index(1) << 40));
  cmd->add_option("--memory", f->memory, "lbfgs: (s, y) pairs kept")->capture_default_str()
      ->transform(integer_in<Index>(1, 100'000));
  cmd->add_option("--time-limit", f->time_limit, "Stop after this many seconds (status time_limit)")
      ->check(number_in(0, infinity, true));
  cmd->add_option("--seed", f->seed, "Seed of the initialization, splits, shuffles and dropout")
      ->capture_default_str()
      ->transform(integer_in<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()));
  cmd->add_option("--threads", f->threads, "Threads (default: OMP_NUM_THREADS or all cores)")
      ->transform(thread_count());
  cmd->add_option("--log", f->log, "Write a JSON Lines log: the configuration, then one line per epoch");
  cmd->add_option("--save", f->save, "Write the trained weights as safetensors");
  cmd->add_option("--checkpoint", f->checkpoint,
                  "Write a checkpoint (weights, optimizer state, generators, position) after every epoch");
  cmd->add_option("--checkpoint-every", f->checkpoint_every, "Also every this many steps")
      ->transform(integer_in<Index>(0, Index(1) << 62));
  cmd->add_option("--resume", f->resume, "Continue the run this checkpoint was written by (same flags)");
  cmd->add_option("--on-divergence", f->on_divergence,
                  "stop: end a run whose loss becomes non-finite or explodes; rollback: restore the last good "
                  "weights and optimizer state, halve the learning rate and go on")
      ->check(CLI::IsMember({"stop", "rollback"}))
      ->capture_default_str();
  cmd->add_option("--divergence-factor", f->divergence_factor,
                  "Also count as diverging a smoothed loss over this many times the lowest so far (> 1; 0: off)")
      ->capture_default_str()
      ->check(number_in(0, infinity));
  cmd->add_option("--max-rollbacks", f->max_rollbacks, "Rollbacks before a divergence stops the run")
      ->capture_default_str()
      ->transform(integer_in<Index>(0, 1'000'000));
  cmd->add_flag("--json", f->json, "Print one JSON summary");
  cmd->add_flag("--distributed", f->distributed,
                "Data-parallel over the ranks of mpirun: each rank trains on its shard, gradients are allreduced");
  cmd->add_option("--sync-every", f->sync_every,
                  "With --distributed: local SGD, each rank steps on its own shard and the parameters are averaged "
                  "every K steps (0: synchronous)")
      ->transform(integer_in<Index>(0, Index(1) << 40));
  cmd->add_flag("--sync-state", f->sync_state, "With --sync-every: average the optimizer's state too");
  cmd->add_flag("--no-shard-optimizer", f->no_shard_optimizer,
                "With --distributed: every rank takes the whole optimizer step (by default each rank updates its "
                "1/P of the parameters, for the element-wise optimizers)");
  cmd->callback([f] {
    const int status = run_train(*f);
    if (status != 0) throw exit_status{status};
  });
}

}  // namespace descent::cli
