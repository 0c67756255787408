#include "descent/train/trainer.hpp"

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numeric>
#include <optional>

#include <fmt/format.h>

#include "descent/core/any_objective.hpp"
#include "descent/io/file.hpp"
#include "descent/io/safetensors.hpp"
#include "descent/optim/schedule.hpp"
#include "descent/optim/state_io.hpp"
#include "descent/train/checkpoint.hpp"
#include "data_parallel.hpp"

namespace descent::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

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
  require(d.rows >= 1, fmt::format("the {} set has no rows", what));
  const Index in = model.input_shape().size(), out = model.output_shape().size();
  require(d.features == in, fmt::format("the {} set has {} features per sample; the model takes {} (input {})", what,
                                        d.features, in, model.input_shape().str()));
  const Index width = model.loss().target_width(out);
  require(d.targets == width, fmt::format("the {} set has {} target values per sample; loss {} on {} outputs takes {}",
                                          what, d.targets, model.loss().name(), out, width));
}

}  // namespace

template <class T>
Evaluation evaluate(nn::Model<T>& model, const Vector<T>& x, const data::Dataset& d, Index chunk_rows) {
  require_fits(model, d, "evaluation");
  require(x.size() == model.num_parameters(),
          fmt::format("evaluate: {} parameters given, the model has {}", x.size(), model.num_parameters()));
  require(chunk_rows >= 1, fmt::format("evaluate: chunk_rows = {}, expected >= 1", chunk_rows));
  const Table<T> table(d);
  const Index out = model.output_shape().size(), width = d.targets;
  const nn::LossKind kind = model.loss().kind;
  // Classes: labels with cross-entropy; one logit, or one-hot rows of K,
  // with binary cross-entropy (the prediction is the largest output).
  const bool one_hot = kind == nn::LossKind::bce && out > 1 && data::is_one_hot(d);
  const bool by_class = kind == nn::LossKind::cross_entropy || (kind == nn::LossKind::bce && out == 1) || one_hot;

  Evaluation e;
  e.rows = d.rows;
  if (by_class) {
    e.classes = kind == nn::LossKind::cross_entropy || one_hot ? out : 2;
    e.confusion.assign(static_cast<std::size_t>(e.classes * e.classes), 0);
  }
  autograd::Tape<T> tape;
  autograd::NoGradGuard<T> no_grad(tape);
  Rng rng(0);
  std::vector<Index> labels;
  double loss_sum = 0, squared_error = 0, target_sum = 0, target_squares = 0;
  Index right = 0;
  for (Index first = 0; first < d.rows; first += chunk_rows) {
    const Index count = std::min(chunk_rows, d.rows - first);
    tape.reset();
    const T* targets = table.y + first * width;
    labels.resize(static_cast<std::size_t>(count));
    if (kind == nn::LossKind::cross_entropy)
      for (Index i = 0; i < count; ++i) {
        const T v = targets[i];
        require(v >= 0 && v < static_cast<T>(out) && v == std::floor(v),
                fmt::format("the label of sample {} is {}, expected an integer in [0, {})", first + i, v, out));
        labels[static_cast<std::size_t>(i)] = static_cast<Index>(v);
      }
    const auto batch = tape.constant(table.x + first * d.features, {count, d.features});
    const auto output = model.forward(tape, x.data(), nullptr, batch, false, rng);
    loss_sum += double(nn::apply_loss(model.loss(), output, targets, std::span<const Index>(labels)).item()) * count;
    const T* o = output.data();
    for (Index i = 0; i < count; ++i) {
      if (by_class) {
        Index predicted = 0, truth = 0;
        if (kind == nn::LossKind::cross_entropy || one_hot) {
          for (Index k = 1; k < out; ++k)
            if (o[i * out + k] > o[i * out + predicted]) predicted = k;
          if (one_hot) {
            while (targets[i * width + truth] != T(1)) ++truth;
          } else {
            truth = labels[static_cast<std::size_t>(i)];
          }
        } else {
          predicted = o[i] > 0 ? 1 : 0;
          truth = targets[i] >= T(0.5) ? 1 : 0;
        }
        right += predicted == truth;
        ++e.confusion[static_cast<std::size_t>(truth * e.classes + predicted)];
      } else {
        for (Index k = 0; k < width; ++k) {
          const double t = targets[i * width + k], r = double(o[i * out + k]) - t;
          squared_error += r * r;
          target_sum += t;
          target_squares += t * t;
        }
      }
    }
  }
  e.loss = loss_sum / double(d.rows);
  if (by_class) {
    e.accuracy = double(right) / double(d.rows);
  } else {
    const double values = double(d.rows * width);
    e.mse = squared_error / values;
    const double total = target_squares - target_sum * target_sum / values;  // sum of (t - mean t)^2
    e.r2 = total > 0 ? 1 - squared_error / total : std::numeric_limits<double>::quiet_NaN();
  }
  return e;
}

// ---- Checkpoints ---------------------------------------------------------------

std::string tensor_checksum(const std::string& serialized, const std::string& name_for_errors) {
  const auto file = io::SafetensorsFile::parse(serialized, name_for_errors);
  auto names = file.names();
  std::sort(names.begin(), names.end());
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const auto& name : names) {
    crc = crc32(crc, reinterpret_cast<const Bytef*>(name.data()), static_cast<uInt>(name.size()));
    const auto bytes = file.raw(name);
    for (std::size_t done = 0; done < bytes.size();) {  // crc32 takes at most 4 GiB at a time
      const auto piece = static_cast<uInt>(std::min<std::size_t>(bytes.size() - done, std::size_t(1) << 30));
      crc = crc32(crc, bytes.data() + done, piece);
      done += piece;
    }
  }
  return fmt::format("{:08x}", static_cast<std::uint32_t>(crc));
}

namespace {

std::vector<std::int64_t> as_int64(const Rng::State& s) {
  std::vector<std::int64_t> v;
  for (auto w : s) v.push_back(static_cast<std::int64_t>(w));
  return v;
}
Rng::State as_state(const std::vector<std::int64_t>& v) {
  Rng::State s{};
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint64_t>(v.at(i));
  return s;
}

// Local SGD: a checkpoint holds, beside the averaged weights, each rank's
// own order of its rows, shuffle generator, optimizer state and running
// sums of the epoch (local_state), one safetensors blob per rank.
struct LocalSgdCheckpoint {
  Index ranks = 0, sync_every = 0;
  std::vector<std::string> rank_states;  // on the writing rank, by rank
};

std::string local_state_name(Index rank) { return fmt::format("local_sgd.rank{}", rank); }

template <class T>
std::string local_state(optim::Stepper<T>& stepper, const LoopState& loop) {
  io::SafetensorsWriter w;
  optim::save_state(stepper, w);
  const std::vector<std::int64_t> order(loop.order.begin(), loop.order.end());
  w.add("train.order", std::span<const std::int64_t>(order), {std::int64_t(order.size())});
  const auto shuffle = as_int64(loop.shuffle);
  w.add("train.shuffle_rng", std::span<const std::int64_t>(shuffle), {4});
  const std::vector<std::int64_t> counts{loop.seen, loop.processed};
  w.add("train.local_counts", std::span<const std::int64_t>(counts), {2});
  const double loss_sum = loop.loss_sum;
  w.add("train.local_loss_sum", std::span<const double>(&loss_sum, 1), {1});
  return w.serialize();
}

template <class T>
void save_checkpoint(const std::string& path, const nn::Model<T>& model, const Vector<T>& x, const Vector<T>& best,
                     optim::Stepper<T>& stepper, const LoopState& loop, const LocalSgdCheckpoint* local = nullptr) {
  io::SafetensorsWriter w;
  w.add("x", std::span<const T>(x.data(), static_cast<std::size_t>(x.size())), {x.size()});
  if (best.size() > 0) w.add("train.best", std::span<const T>(best.data(), static_cast<std::size_t>(best.size())), {best.size()});
  if (model.buffers().size() > 0)
    w.add("buffers", std::span<const T>(model.buffers().data(), static_cast<std::size_t>(model.buffers().size())),
          {model.buffers().size()});
  optim::save_state(stepper, w);
  const std::vector<std::int64_t> counters{loop.epoch, loop.position, loop.steps, loop.processed,
                                           loop.seen,  loop.best_epoch, loop.since_best};
  w.add("train.counters", std::span<const std::int64_t>(counters), {std::int64_t(counters.size())});
  const std::vector<double> sums{loop.loss_sum, loop.best_validation_loss};
  w.add("train.sums", std::span<const double>(sums), {2});
  const auto shuffle = as_int64(loop.shuffle), dropout = as_int64(loop.dropout);
  w.add("train.shuffle_rng", std::span<const std::int64_t>(shuffle), {4});
  w.add("train.dropout_rng", std::span<const std::int64_t>(dropout), {4});
  const std::vector<std::int64_t> order(loop.order.begin(), loop.order.end());
  w.add("train.order", std::span<const std::int64_t>(order), {std::int64_t(order.size())});
  if (loop.plateau) {
    const auto& p = *loop.plateau;
    const std::vector<double> values{p.lr, p.best};
    const std::vector<std::int64_t> counts{p.bad_reports, p.cooldown_left, p.reports};
    w.add("train.plateau_values", std::span<const double>(values), {2});
    w.add("train.plateau_counts", std::span<const std::int64_t>(counts), {3});
  }
  const std::vector<double> guard{loop.lr_scale, loop.smoothed_loss, loop.best_smoothed_loss};
  const std::vector<std::int64_t> guard_counts{loop.rollbacks, loop.smoothed_steps};
  w.add("train.guard", std::span<const double>(guard), {3});
  w.add("train.guard_counts", std::span<const std::int64_t>(guard_counts), {2});
  if (local) {
    const std::vector<std::int64_t> shape{local->ranks, local->sync_every};
    w.add("train.local_sgd", std::span<const std::int64_t>(shape), {2});
    for (std::size_t r = 0; r < local->rank_states.size(); ++r) {
      const std::string& blob = local->rank_states[r];
      w.add(local_state_name(Index(r)),
            std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()),
            {std::int64_t(blob.size())});
    }
  }
  w.set_metadata("descent.checkpoint", "1");
  w.set_metadata("descent.optimizer", stepper.name());
  w.set_metadata("descent.layout", describe_layout(model.layout()));
  w.set_metadata("descent.crc32", tensor_checksum(w.serialize(), path));
  w.write(path);
}

// Reads a checkpoint and checks it is one, undamaged.
io::SafetensorsFile open_checkpoint(const std::string& path) {
  auto file = io::SafetensorsFile::read(path);
  const auto& meta = file.metadata();
  const auto crc = meta.find("descent.crc32");
  if (meta.find("descent.checkpoint") == meta.end() || crc == meta.end())
    throw parse_error(path, 0, "not a descent training checkpoint (no descent.checkpoint and descent.crc32 metadata)");
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string actual = tensor_checksum(bytes, path);
  if (actual != crc->second)
    throw parse_error(path, 0, fmt::format("the checkpoint is damaged: its tensors' CRC-32 is {}, its metadata says {}",
                                           actual, crc->second));
  const auto counters = file.int64s("train.counters");
  const auto sums = file.doubles("train.sums");
  if (counters.size() != 7 || sums.size() != 2) throw parse_error(path, 0, "train.counters or train.sums has the wrong size");
  return file;
}

// The length of a 1-D tensor; -1 for another shape or none.
Index length_of(const io::SafetensorsFile& file, const std::string& name) {
  if (!file.contains(name)) return -1;
  const auto shape = file.shape(name);
  return shape.size() == 1 ? shape[0] : -1;
}

std::string metadata_or(const io::SafetensorsFile& file, const std::string& key, const std::string& fallback) {
  const auto it = file.metadata().find(key);
  return it == file.metadata().end() ? fallback : it->second;
}

// A local SGD run resuming: which rank this is, of how many, averaging
// every how many steps, over how many rows of its own.
struct LocalSgdResume {
  Index rank = 0, ranks = 0, sync_every = 0, rows = 0;
};

template <class T>
LoopState load_checkpoint(const std::string& path, nn::Model<T>& model, Vector<T>& x, Vector<T>& best,
                          optim::Stepper<T>& stepper, Index rows, bool with_plateau,
                          const LocalSgdResume* local = nullptr) {
  const auto file = open_checkpoint(path);
  // The model and the optimizer first: the messages name both sides.
  const std::string layout = describe_layout(model.layout());
  const std::string saved_layout = metadata_or(file, "descent.layout", "");
  const Index saved_parameters = length_of(file, "x");
  if (saved_parameters < 0) throw parse_error(path, 0, "the checkpoint has no parameter vector x (a 1-D tensor)");
  if ((!saved_layout.empty() && saved_layout != layout) || saved_parameters != model.num_parameters())
    throw parse_error(path, 0, fmt::format("the checkpoint is of another model: it holds {} parameters ({}); this run's "
                                           "model has {} ({})",
                                           saved_parameters, saved_layout.empty() ? "layout not recorded" : saved_layout,
                                           model.num_parameters(), layout));
  const std::string saved_optimizer = metadata_or(file, "descent.optimizer", "");
  if (!saved_optimizer.empty() && saved_optimizer != stepper.name())
    throw parse_error(path, 0, fmt::format("the checkpoint was written by optimizer {}; this run uses {}",
                                           saved_optimizer, stepper.name()));
  // A local SGD checkpoint carries every rank's own state and resumes only
  // the run that wrote it; any other checkpoint resumes any synchronous run.
  const bool written_by_local_sgd = file.contains("train.local_sgd");
  if (local && !written_by_local_sgd)
    throw parse_error(path, 0, "local SGD resumes only a checkpoint that local SGD wrote (on as many ranks, with "
                               "the same sync_every); this one was written by a synchronous run");
  std::optional<io::SafetensorsFile> own;  // this rank's own state (local SGD)
  if (written_by_local_sgd) {
    const auto shape = file.int64s("train.local_sgd");  // [ranks, sync_every]
    if (shape.size() != 2) throw parse_error(path, 0, "train.local_sgd has the wrong size");
    if (!local)
      throw parse_error(path, 0, fmt::format("the checkpoint was written by local SGD on {} ranks averaging every {} "
                                             "steps, and holds each rank's own order and optimizer state: resume it "
                                             "under mpirun -np {} with --distributed --sync-every {}",
                                             shape[0], shape[1], shape[0], shape[1]));
    if (shape[0] != local->ranks || shape[1] != local->sync_every)
      throw parse_error(path, 0, fmt::format("the checkpoint was written by local SGD on {} ranks averaging every {} "
                                             "steps; this run is on {} ranks averaging every {}",
                                             shape[0], shape[1], local->ranks, local->sync_every));
    const auto bytes = file.raw(local_state_name(local->rank));
    own = io::SafetensorsFile::parse(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                                     fmt::format("{} (rank {}'s state)", path, local->rank));
    rows = local->rows;
  }
  const io::SafetensorsFile& mine = own ? *own : file;
  LoopState loop;
  const auto counters = file.int64s("train.counters");
  const auto sums = file.doubles("train.sums");
  const auto order = mine.int64s("train.order");
  if (static_cast<Index>(order.size()) != rows)
    throw parse_error(path, 0, fmt::format("the checkpoint is for a training set of {} rows; this one has {}",
                                           order.size(), rows));
  loop.epoch = counters[0], loop.position = counters[1], loop.steps = counters[2], loop.processed = counters[3];
  loop.seen = counters[4], loop.best_epoch = counters[5], loop.since_best = counters[6];
  loop.loss_sum = sums[0], loop.best_validation_loss = sums[1];
  loop.shuffle = as_state(mine.int64s("train.shuffle_rng"));
  loop.dropout = as_state(file.int64s("train.dropout_rng"));
  loop.order.assign(order.begin(), order.end());
  for (Index r : loop.order)
    if (r < 0 || r >= rows) throw parse_error(path, 0, fmt::format("train.order holds row {} of {}", r, rows));
  if (file.contains("train.plateau_values") != with_plateau)
    throw parse_error(path, 0, with_plateau ? "the checkpoint was written without a plateau schedule; this run has one"
                                            : "the checkpoint was written with a plateau schedule; this run has none");
  if (with_plateau) {
    const auto values = file.doubles("train.plateau_values");
    const auto counts = file.int64s("train.plateau_counts");
    if (values.size() != 2 || counts.size() != 3)
      throw parse_error(path, 0, "train.plateau_values or train.plateau_counts has the wrong size");
    loop.plateau = optim::ReduceOnPlateau::State{.lr = values[0], .best = values[1], .bad_reports = counts[0],
                                                 .cooldown_left = counts[1], .reports = counts[2]};
  }
  if (file.contains("train.guard")) {  // older checkpoints have none: no rollback yet
    const auto guard = file.doubles("train.guard");
    const auto counts = file.int64s("train.guard_counts");
    if (guard.size() != 3 || counts.size() != 2 || !(guard[0] > 0 && guard[0] <= 1) || counts[0] < 0)
      throw parse_error(path, 0, "train.guard or train.guard_counts is malformed");
    loop.lr_scale = guard[0], loop.smoothed_loss = guard[1], loop.best_smoothed_loss = guard[2];
    loop.rollbacks = counts[0], loop.smoothed_steps = counts[1];
  }
  if (own) {
    const auto counts = own->int64s("train.local_counts");
    const auto loss_sum = own->doubles("train.local_loss_sum");
    if (counts.size() != 2 || loss_sum.size() != 1 || counts[0] < 0 || counts[1] < 0)
      throw parse_error(own->path(), 0, "train.local_counts or train.local_loss_sum is malformed");
    loop.seen = counts[0], loop.processed = counts[1], loop.loss_sum = loss_sum[0];
  }
  // Everything checked: now change the caller's state.
  optim::load_state(stepper, mine);
  file.read_into("x", std::span<T>(x.data(), static_cast<std::size_t>(x.size())));
  if (best.size() > 0 && file.contains("train.best"))
    file.read_into("train.best", std::span<T>(best.data(), static_cast<std::size_t>(best.size())));
  if (model.buffers().size() > 0)
    file.read_into("buffers", std::span<T>(model.buffers().data(), static_cast<std::size_t>(model.buffers().size())));
  return loop;
}

// ---- Data-parallel runs -----------------------------------------------------------

// What kind of run the options ask for, checked.
struct DistributedRun {
  bool on = false;
  Index sync_every = 0;
  Index rows_per_epoch = 0;  // the rows one epoch's loop walks through
  bool synchronous() const { return on && sync_every == 0; }
  bool local_sgd() const { return on && sync_every > 0; }
};

DistributedRun distributed_run(const TrainOptions& o, const data::Dataset& training) {
  DistributedRun d;
  d.rows_per_epoch = training.rows;
  require(o.sync_every >= 0, fmt::format("sync_every = {}, expected >= 0", o.sync_every));
  require((o.communicator == nullptr) == (o.shard == nullptr),
          "a data-parallel run needs both a communicator and the rank's shard (TrainOptions::communicator, shard)");
  if (!o.communicator) {
    require(o.sync_every == 0 && !o.sync_state, "sync_every and sync_state need a communicator (local SGD)");
    return d;
  }
  const dist::Shard& shard = *o.shard;
  require(static_cast<Index>(shard.rows.size()) == training.rows,
          fmt::format("the training set given has {} rows, this rank's shard {}", training.rows, shard.rows.size()));
  for (const Index r : shard.rows)
    require(r >= 0 && r < shard.total_rows, fmt::format("the shard holds row {} of {}", r, shard.total_rows));
  d.on = true;
  d.sync_every = o.sync_every;
  d.rows_per_epoch = shard.total_rows;
  if (o.sync_every > 0) {
    require(o.checkpoint_every % o.sync_every == 0,
            fmt::format("local SGD checkpoints where the ranks' weights are averaged: checkpoint_every = {} must be "
                        "a multiple of sync_every = {}",
                        o.checkpoint_every, o.sync_every));
    require(!optim::is_plateau_spec(o.schedule), "local SGD (sync_every > 0) does not take a plateau schedule");
    require(o.on_divergence == TrainOptions::OnDivergence::stop && o.divergence_factor == 0,
            "local SGD (sync_every > 0) takes neither the divergence rollback nor divergence_factor: its ranks see "
            "different losses");
    d.rows_per_epoch = shard.total_rows / o.communicator->size();  // the smallest shard
  }
  return d;
}

std::int64_t bits_of(double v) {
  std::int64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// Every rank must run the same model on the same data with the same
// settings: compared once, before the first collective of the loop.
template <class T>
void handshake(dist::Communicator& comm, const nn::Model<T>& model, const Vector<T>& x, const data::Dataset& training,
               const data::Dataset* validation, optim::Stepper<T>& stepper, const TrainOptions& o,
               const DistributedRun& d) {
  std::string layout;
  for (const Segment& s : model.layout().segments()) layout += fmt::format("{}:{};", s.name, s.length);
  const auto hash = [](const std::string& v) { return static_cast<std::int64_t>(dist::hash_string(v)); };
  const auto values = std::as_bytes(std::span<const T>(x.data(), static_cast<std::size_t>(x.size())));
  dist::handshake(comm, {{"the parameter count", model.num_parameters()},
                         {"the model's layers (a hash of their names and sizes)", hash(layout)},
                         {"the loss", hash(model.loss().name())},
                         {"the features per sample", training.features},
                         {"the targets per sample", training.targets},
                         {"the training rows in all", o.shard->total_rows},
                         {"a validation set", validation != nullptr},
                         {"the optimizer", hash(stepper.name())},
                         {"the batch size", o.batch_size},
                         {"the epochs", o.epochs},
                         {"the seed", static_cast<std::int64_t>(o.seed)},
                         {"the learning rate (its bits)", bits_of(o.lr)},
                         {"l2 (its bits)", bits_of(o.l2)},
                         {"the schedule", hash(o.schedule)},
                         {"the early-stopping patience", o.patience},
                         {"the checkpoint interval", o.checkpoint_every},
                         {"sync_every", d.sync_every},
                         {"sync_state", o.sync_state},
                         {"optimizer sharding", o.shard_optimizer},
                         {"the starting parameters (a hash; after --resume, the checkpoint's)",
                          static_cast<std::int64_t>(dist::hash_bytes(values))}});
}

// A full-batch objective over sharded data: each rank sums value and
// gradient over its rows, one allreduce adds [gradient..., value], and the
// division by the global row count and the l2 penalty come once, after it.
template <class T>
class AllreducedObjective {
 public:
  AllreducedObjective(nn::ModelObjective<T>& local, dist::Communicator& comm, Index total_rows)
      : local_(local), comm_(comm), total_(static_cast<T>(total_rows)), buffer_(local.size() + 1) {}
  Index size() const { return local_.size(); }
  T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) {
    const Index n = size();
    auto sums = buffer_.head(n);
    buffer_[n] = local_.value_and_gradient(x, sums);
    comm_.allreduce_sum(std::span<T>(buffer_.data(), static_cast<std::size_t>(buffer_.size())));
    g = sums / total_;
    return buffer_[n] / total_ + local_.penalty(x.data(), g.data());
  }
  T value(ConstVectorRef<T> x) {
    T v = local_.value(x);
    comm_.allreduce_sum(std::span<T>(&v, 1));
    return v / total_ + local_.penalty(x.data(), nullptr);
  }

 private:
  nn::ModelObjective<T>& local_;
  dist::Communicator& comm_;
  T total_;
  Vector<T> buffer_;
};

}  // namespace

std::string describe_layout(const Layout& layout) {
  std::string out;
  for (const auto& s : layout.segments()) {
    if (!out.empty()) out += ", ";
    out += s.is_matrix() ? fmt::format("{} {}x{}", s.name, s.rows, s.cols) : fmt::format("{} {}", s.name, s.length);
  }
  return out;
}

CheckpointInfo inspect_checkpoint(const std::string& path) {
  const auto file = open_checkpoint(path);
  const auto counters = file.int64s("train.counters");
  CheckpointInfo info;
  info.optimizer = metadata_or(file, "descent.optimizer", "");
  info.layout = metadata_or(file, "descent.layout", "");
  info.parameters = length_of(file, "x");
  info.epoch = counters[0];
  info.position = counters[1];
  info.steps = counters[2];
  info.rows = length_of(file, "train.order");
  return info;
}

// ---- The loop ---------------------------------------------------------------------

// The last good state for the divergence guard: the weights, the optimizer
// state and the model's buffers. Storage is allocated by the first capture;
// later captures and restores copy into it.
template <class T>
class Snapshot final : public optim::StateVisitor<T> {
 public:
  void capture(const Vector<T>& x, optim::Stepper<T>& stepper, const Vector<T>& buffers, Index step) {
    x_ = x;
    buffers_ = buffers;
    restoring_ = false;
    visit(stepper);
    step_ = step;
  }
  void restore(Vector<T>& x, optim::Stepper<T>& stepper, Vector<T>& buffers) {
    x = x_;
    buffers = buffers_;
    restoring_ = true;
    visit(stepper);
  }
  Index step() const { return step_; }

  void vector(std::string_view, Vector<T>& v) override {
    if (restoring_) {
      v = vectors_[next_vector_];
    } else if (next_vector_ == vectors_.size()) {
      vectors_.push_back(v);
    } else {
      vectors_[next_vector_] = v;
    }
    ++next_vector_;
  }
  void scalar(std::string_view, double& v) override { slot(scalars_, next_scalar_++, v); }
  void counter(std::string_view, std::int64_t& v) override { slot(counters_, next_counter_++, v); }

 private:
  void visit(optim::Stepper<T>& stepper) {
    next_vector_ = next_scalar_ = next_counter_ = 0;
    stepper.visit_state(*this);
  }
  template <class V>
  void slot(std::vector<V>& store, std::size_t i, V& v) {
    if (restoring_) {
      v = store[i];
    } else if (i == store.size()) {
      store.push_back(v);
    } else {
      store[i] = v;
    }
  }

  Vector<T> x_, buffers_;
  std::vector<Vector<T>> vectors_;
  std::vector<double> scalars_;
  std::vector<std::int64_t> counters_;
  std::size_t next_vector_ = 0, next_scalar_ = 0, next_counter_ = 0;
  bool restoring_ = false;
  Index step_ = 0;
};

template <class T>
TrainResult fit(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training, const data::Dataset* validation,
                optim::Stepper<T>& stepper, const TrainOptions& o, TrainCallback* callback) {
  require(o.epochs >= 1, fmt::format("epochs = {}, expected >= 1", o.epochs));
  require(o.batch_size >= 1, fmt::format("batch_size = {}, expected >= 1", o.batch_size));
  require(std::isfinite(o.lr) && o.lr >= 0, fmt::format("lr = {}, expected a finite value >= 0", o.lr));
  require(o.patience >= 0, fmt::format("patience = {}, expected >= 0", o.patience));
  require(o.checkpoint_every >= 0, fmt::format("checkpoint_every = {}, expected >= 0", o.checkpoint_every));
  require(o.patience == 0 || validation != nullptr, "early stopping (patience > 0) needs a validation set");
  require(o.divergence_factor == 0 || (std::isfinite(o.divergence_factor) && o.divergence_factor > 1),
          fmt::format("divergence_factor = {}, expected 0 (off) or a finite value > 1", o.divergence_factor));
  require(o.max_rollbacks >= 0, fmt::format("max_rollbacks = {}, expected >= 0", o.max_rollbacks));
  require(o.snapshot_every >= 1, fmt::format("snapshot_every = {}, expected >= 1", o.snapshot_every));
  require(x.size() == model.num_parameters(),
          fmt::format("fit: {} parameters given, the model has {}", x.size(), model.num_parameters()));
  require_fits(model, training, "training");
  // Rank 0 alone evaluates the validation set: the other ranks of a
  // distributed run may pass one without rows.
  if (validation && (o.communicator == nullptr || o.communicator->rank() == 0))
    require_fits(model, *validation, "validation");

  const Table<T> table(training);
  const DistributedRun dist = distributed_run(o, training);
  nn::ModelObjective<T> objective(model, table.x, table.y, training.rows,
                                  {.chunk_rows = o.chunk_rows, .training = true, .seed = o.seed, .l2 = o.l2,
                                   .sum = dist.synchronous()});
  std::optional<detail::DataParallel<T>> parallel;
  if (dist.on) parallel.emplace(*o.communicator, *o.shard, objective, o.batch_size, o.seed);
  // n: the rows one epoch walks through (in local SGD, the rank's own,
  // counted as on the smallest shard, so that every rank takes as many steps).
  const Index n = dist.rows_per_epoch, batch = std::min(o.batch_size, n);
  const Index steps_per_epoch = (n + batch - 1) / batch;
  std::optional<optim::ReduceOnPlateau> plateau;
  if (optim::is_plateau_spec(o.schedule)) plateau.emplace(o.lr, optim::parse_plateau(o.schedule));
  const optim::Schedule schedule = o.schedule.empty() || plateau
                                       ? optim::Schedule()
                                       : optim::parse_schedule(o.schedule, o.epochs * steps_per_epoch);
  const bool rollback = o.on_divergence == TrainOptions::OnDivergence::rollback;

  // Everything a step touches is allocated here, once.
  Rng rng(o.seed ^ 0x9e3779b97f4a7c15ULL);  // a stream apart from the dropout masks'
  Vector<T> g(x.size()), previous(x.size());
  Vector<T> best = o.patience > 0 ? Vector<T>(x) : Vector<T>();
  Snapshot<T> snapshot;
  LoopState loop;
  if (!o.resume.empty()) {
    std::optional<LocalSgdResume> local;
    if (dist.local_sgd())
      local = LocalSgdResume{.rank = o.communicator->rank(), .ranks = o.communicator->size(),
                             .sync_every = dist.sync_every, .rows = training.rows};
    loop = load_checkpoint(o.resume, model, x, best, stepper, n, plateau.has_value(), local ? &*local : nullptr);
    if (plateau) plateau->restore(*loop.plateau);
    rng.set_state(loop.shuffle);
    objective.rng().set_state(loop.dropout);
  } else {
    loop.order.resize(static_cast<std::size_t>(dist.local_sgd() ? training.rows : n));
    std::iota(loop.order.begin(), loop.order.end(), Index(0));
  }
  // Local SGD: each rank shuffles its own rows with a stream of its own
  // (a checkpoint holds each rank's).
  if (dist.local_sgd() && o.resume.empty())
    rng.reseed(o.seed ^ (0x2545f4914f6cdd1dULL * std::uint64_t(o.communicator->rank() + 1)));
  if (parallel) handshake(*o.communicator, model, x, training, validation, stepper, o, dist);
  // Optimizer sharding: `active` takes the steps (this rank's slice of the
  // update), `stepper` gets the whole state back before a checkpoint and
  // at the end.
  const bool sharded = dist.synchronous() && o.shard_optimizer && parallel->shard_optimizer(stepper);
  optim::Stepper<T>& active = parallel ? parallel->stepper(stepper) : stepper;
  Vector<T> synced = dist.local_sgd() ? Vector<T>(x) : Vector<T>();  // local SGD: x at the last averaging
  if (rollback) snapshot.capture(x, active, model.buffers(), loop.steps);
  // What a run killed while writing its checkpoint left beside it.
  if (!o.checkpoint.empty() && (!parallel || parallel->lead())) io::remove_stale_temporaries(o.checkpoint);
  const auto checkpoint = [&](const std::string& path) {
    loop.shuffle = rng.state();
    loop.dropout = objective.rng().state();
    if (plateau) loop.plateau = plateau->state();
    if (sharded) parallel->gather_state(stepper);
    std::optional<LocalSgdCheckpoint> local;
    if (dist.local_sgd())  // (written where x was just averaged, the same on every rank)
      local = LocalSgdCheckpoint{.ranks = parallel->size(),
                                 .sync_every = dist.sync_every,
                                 .rank_states = parallel->communicator().gather_bytes(local_state(stepper, loop), 0)};
    if (!parallel || parallel->lead())  // rank 0 writes it
      save_checkpoint(path, model, x, best, stepper, loop, local ? &*local : nullptr);
    // A run resumed from here starts with this snapshot: so does this one.
    if (rollback) snapshot.capture(x, active, model.buffers(), loop.steps);
  };
  const std::string& interrupt_path = o.checkpoint.empty() ? o.interrupt_checkpoint : o.checkpoint;
  const auto interrupted = [&] { return o.interrupt && o.interrupt->load(std::memory_order_relaxed); };

  TrainResult r;
  r.steps = loop.steps;
  r.rollbacks = loop.rollbacks;
  r.best_epoch = loop.best_epoch;
  r.best_validation_loss = loop.best_epoch > 0 ? loop.best_validation_loss : r.best_validation_loss;
  const auto start = Clock::now();
  bool stop = false;
  const auto stop_interrupted = [&](Index epoch) {
    r.status = Status::interrupted;
    r.message = fmt::format("interrupted after step {} (epoch {})", r.steps, epoch);
    if (!interrupt_path.empty()) {
      checkpoint(interrupt_path);
      r.checkpoint_written = interrupt_path;
      r.message += fmt::format("; checkpoint written to {}", interrupt_path);
    }
    stop = true;
  };
  for (; loop.epoch <= o.epochs && !stop; ++loop.epoch) {
    const Index epoch = loop.epoch;
    const auto epoch_start = Clock::now();
    if (loop.position == 0) {
      data::shuffle(loop.order, rng);  // the same global order on every rank, or in local SGD each rank's own
      loop.loss_sum = 0;
      loop.seen = 0;
    }
    StepRecord step;
    for (; loop.position < n; loop.position += batch) {
      Index count = std::min(batch, n - loop.position);
      if (dist.local_sgd() && loop.position + count == n) count = training.rows - loop.position;  // the rest
      const std::span<const Index> rows(loop.order.data() + loop.position, static_cast<std::size_t>(count));
      if (parallel) parallel->seed_dropout(r.steps);
      T loss;
      double gradient_norm;
      if (sharded) {
        const auto gradient = parallel->sharded_gradient(x, rows);  // this rank's slice of it
        loss = gradient.loss;
        gradient_norm = gradient.gradient_norm;
      } else {
        loss = dist.synchronous() ? parallel->gradient(x, g, rows) : objective.value_and_gradient(x, g, rows);
        gradient_norm = double(g.norm());
      }
      step.lr = (plateau ? plateau->lr() : schedule.lr(o.lr, r.steps)) * loop.lr_scale;
      // A diverging step is not taken. It ends the run, or (rollback) puts
      // back the last good snapshot at half the learning rate and goes on
      // with the next mini-batch. Returns true when the run goes on.
      const auto diverge = [&](std::string why) {
        if (rollback && loop.rollbacks < o.max_rollbacks) {
          snapshot.restore(x, active, model.buffers());
          ++loop.rollbacks;
          loop.lr_scale *= 0.5;
          loop.smoothed_steps = 0;  // the smoothed loss starts again from the restored weights
          r.rollbacks = loop.rollbacks;
          if (callback)
            callback->on_rollback({.rollback = loop.rollbacks, .epoch = epoch, .step = r.steps + 1,
                                   .restored_step = snapshot.step(), .lr_scale = loop.lr_scale, .reason = why});
          return true;
        }
        r.status = Status::diverged;
        r.diverged_at_step = r.steps + 1;
        r.message = std::move(why);
        if (rollback) {
          snapshot.restore(x, active, model.buffers());
          r.message += fmt::format(" after {} rollback{}; the weights are those of the last good snapshot (step {})",
                                   loop.rollbacks, loop.rollbacks == 1 ? "" : "s", snapshot.step());
        } else {
          r.message += "; the weights are those before that step";
        }
        stop = true;
        return false;
      };
      if (!std::isfinite(double(loss)) || !std::isfinite(gradient_norm)) {
        if (diverge(fmt::format("the loss or its gradient is not finite at step {} (epoch {}): loss {}, |g| {}",
                                r.steps + 1, epoch, double(loss), gradient_norm)))
          continue;
        if (!dist.local_sgd()) break;
      }
      if (!stop && o.divergence_factor > 0) {  // (refused in local SGD, whose ranks see different losses)
        const double smoothed =
            loop.smoothed_steps == 0 ? double(loss) : 0.9 * loop.smoothed_loss + 0.1 * double(loss);
        if (loop.smoothed_steps > 0 && loop.best_smoothed_loss > 0 &&
            smoothed > o.divergence_factor * loop.best_smoothed_loss) {
          if (diverge(fmt::format("the loss is exploding at step {} (epoch {}): its moving average {:.6g} is over {} "
                                  "times the lowest so far, {:.6g}",
                                  r.steps + 1, epoch, smoothed, o.divergence_factor, loop.best_smoothed_loss)))
            continue;
          break;
        }
        loop.best_smoothed_loss = loop.smoothed_steps == 0 ? smoothed : std::min(loop.best_smoothed_loss, smoothed);
        loop.smoothed_loss = smoothed;
        ++loop.smoothed_steps;
      }
      double update_norm = 0;  // (sharded: from every rank's slice)
      if (!stop) {
        bool finite;
        if (sharded) {
          const auto update = parallel->sharded_step(x, static_cast<T>(step.lr), gradient_norm);
          finite = update.finite;
          update_norm = update.update_norm;
        } else {
          previous = x;
          stepper.step(x, g, static_cast<T>(step.lr));
          finite = x.allFinite();
          if (!finite) x = previous;
        }
        if (!finite) {
          if (diverge(fmt::format("step {} (epoch {}) made the weights non-finite at learning rate {}", r.steps + 1,
                                  epoch, step.lr)))
            continue;
          if (!dist.local_sgd()) break;
        }
      }
      if (dist.local_sgd()) {  // a rank that diverged stops every rank, on the weights of the last averaging
        if (parallel->agree({.diverged = stop}).diverged) {
          if (!stop) diverge(fmt::format("another rank's loss, gradient or weights became non-finite at step {} "
                                         "(epoch {})", r.steps + 1, epoch));
          x = synced;
          r.message += " (local SGD: the weights of the last averaging)";
          break;
        }
        if ((r.steps + 1) % o.sync_every == 0) {
          parallel->average(x, o.sync_state ? &stepper : nullptr);
          synced = x;
        }
      }
      ++r.steps;
      loop.steps = r.steps;
      loop.loss_sum += double(loss) * double(count);
      loop.seen += count;
      loop.processed += count;
      step.epoch = epoch;
      step.step = r.steps;
      step.loss = double(loss);
      step.gradient_norm = gradient_norm;
      step.update_norm = sharded ? update_norm : double((x - previous).norm());
      step.seconds = seconds_since(start);
      const bool mid_epoch = loop.position + count < n;
      if (rollback && r.steps % o.snapshot_every == 0) snapshot.capture(x, active, model.buffers(), r.steps);
      if (!o.checkpoint.empty() && o.checkpoint_every > 0 && r.steps % o.checkpoint_every == 0 && mid_epoch) {
        loop.position += count;  // the checkpoint resumes after this step
        checkpoint(o.checkpoint);
        loop.position -= count;
      }
      const bool callback_stop = callback && !callback->on_step(step);
      bool time_stop = step.seconds > o.time_limit;
      bool interrupt_now = mid_epoch && interrupted();
      if (parallel) {  // every rank stops at the same step: when any callback, interrupt or rank 0's clock says so
        const auto agreed = parallel->agree({.callback = callback_stop, .time = time_stop, .interrupt = interrupt_now});
        // (local SGD: at the next step that averages the weights)
        interrupt_now = mid_epoch && agreed.interrupt && (!dist.local_sgd() || r.steps % o.sync_every == 0);
        if (agreed.callback) {
          r.status = Status::stopped_by_callback;
          r.message = fmt::format("stopped by a callback at step {}", r.steps);
          stop = true;
          break;
        }
        time_stop = agreed.time;
      } else if (callback_stop) {
        r.status = Status::stopped_by_callback;
        r.message = fmt::format("stopped by a callback at step {}", r.steps);
        stop = true;
        break;
      }
      if (time_stop) {
        r.status = Status::time_limit;
        r.message = fmt::format("time limit of {} s reached at step {} (epoch {})", o.time_limit, r.steps, epoch);
        stop = true;
        break;
      }
      // An interruption on the epoch's last step waits for its end, below.
      if (interrupt_now) {
        loop.position += count;
        stop_interrupted(epoch);
        break;
      }
    }
    if (stop) break;
    if (loop.seen == 0) {  // every step of the epoch was rolled back: nothing to report
      loop.position = 0;
      continue;
    }
    if (dist.local_sgd()) {  // the epoch ends on averaged weights and the loss over every rank's rows
      parallel->average(x, o.sync_state ? &stepper : nullptr);
      synced = x;
      double sums[2] = {loop.loss_sum, double(loop.seen)};
      parallel->sum(std::span<double>(sums, 2));
      loop.processed += Index(sums[1]) - loop.seen;
      loop.loss_sum = sums[0];
      loop.seen = Index(sums[1]);
    }

    // The epoch's record, validation and early stopping.
    EpochRecord e;
    e.epoch = epoch;
    e.steps = r.steps;
    e.train_loss = loop.loss_sum / double(loop.seen);
    e.gradient_norm = step.gradient_norm;
    e.update_norm = step.update_norm;
    e.lr = step.lr;
    e.samples_per_second = double(loop.seen) / seconds_since(epoch_start);
    if (validation) {
      Evaluation v;
      if (!parallel || parallel->lead()) v = evaluate(model, x, *validation, o.chunk_rows);
      if (parallel) parallel->share_from_lead(v.loss, v.accuracy);
      e.validation_loss = v.loss;
      e.validation_accuracy = v.accuracy;
      if (loop.best_epoch == 0 || v.loss < loop.best_validation_loss) {
        loop.best_epoch = epoch;
        loop.best_validation_loss = v.loss;
        loop.since_best = 0;
        if (o.patience > 0) best = x;
      } else {
        ++loop.since_best;
      }
      r.best_epoch = loop.best_epoch;
      r.best_validation_loss = loop.best_validation_loss;
    }
    if (plateau) plateau->report(validation ? e.validation_loss : e.train_loss);
    e.seconds = seconds_since(start);
    r.epochs = epoch;
    r.train_loss = e.train_loss;
    r.history.push_back(e);
    loop.position = 0;  // the next epoch starts with its shuffle
    bool epoch_stop = callback && !callback->on_epoch(e);
    if (parallel) epoch_stop = parallel->agree({.callback = epoch_stop}).callback;
    if (epoch_stop) {
      r.status = Status::stopped_by_callback;
      r.message = fmt::format("stopped by a callback after epoch {}", epoch);
      break;
    }
    if (o.patience > 0 && loop.since_best >= o.patience) {
      x = best;
      r.status = Status::converged_value;
      r.message = fmt::format("early stopping: the validation loss did not improve for {} epochs; restored the "
                              "weights of epoch {} (validation loss {:.6g})",
                              o.patience, loop.best_epoch, loop.best_validation_loss);
      break;
    }
    // Resuming from here starts the next epoch (a run given more epochs
    // continues from the last one).
    ++loop.epoch;
    bool interrupt_now = interrupted();
    if (parallel) interrupt_now = parallel->agree({.interrupt = interrupt_now}).interrupt;
    if (epoch < o.epochs && interrupt_now) {
      stop_interrupted(epoch);
    } else if (!o.checkpoint.empty()) {
      checkpoint(o.checkpoint);
    }
    --loop.epoch;
  }
  if (parallel) {
    // Local SGD ends on averaged weights; batch norm's running statistics
    // (each rank's own batches) are averaged in either mode.
    if (dist.local_sgd() && r.status != Status::diverged) parallel->average(x, o.sync_state ? &stepper : nullptr);
    if (model.buffers().size() > 0)
      parallel->average(std::span<T>(model.buffers().data(), static_cast<std::size_t>(model.buffers().size())));
    if (sharded) parallel->gather_state(stepper);  // the caller's stepper ends with the whole state
    r.ranks = parallel->size();
    r.optimizer_sharded = sharded;
    r.communication_seconds = parallel->communication_seconds();
  }
  r.seconds = seconds_since(start);
  r.samples_per_second = r.seconds > 0 ? double(loop.processed) / r.seconds : 0;
  if (r.message.empty())
    r.message = fmt::format("trained {} epoch{} ({} steps)", r.epochs, r.epochs == 1 ? "" : "s", r.steps);
  if (r.rollbacks > 0 && r.status != Status::diverged)
    r.message += fmt::format(" after {} rollback{} of the divergence guard (learning rate x{:g})", r.rollbacks,
                             r.rollbacks == 1 ? "" : "s", loop.lr_scale);
  return r;
}

template <class T>
Result<T> fit_full_batch(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training, Method method,
                         const MinimizeOptions& options, double l2, Callback<T>* callback,
                         dist::Communicator* communicator) {
  require(x.size() == model.num_parameters(),
          fmt::format("fit_full_batch: {} parameters given, the model has {}", x.size(), model.num_parameters()));
  require_fits(model, training, "training");
  const Table<T> table(training);
  // Evaluation mode: a deterministic objective (no dropout; batch norm with
  // its running statistics), as line searches need. Chunks of about 2 MiB of
  // features: the backward pass of a chunk finds it still in cache, so an
  // evaluation reads the data set from memory once instead of twice (for a
  // linear model, the whole cost).
  const Index chunk = std::clamp<Index>((Index(1) << 18) / std::max<Index>(training.features, 1), 64, 4096);
  nn::ModelObjective<T> objective(model, table.x, table.y, training.rows,
                                  {.chunk_rows = chunk, .training = false, .l2 = l2, .sum = communicator != nullptr});
  if (!communicator) {
    auto any = AnyObjective<T>::reference(objective);
    return minimize<T>(any, x, method, options, callback);
  }
  require(!std::isfinite(options.stop.time_limit),
          "a distributed full-batch solver takes no time limit: the ranks' clocks would stop them at different "
          "iterations");
  std::int64_t total_rows = training.rows;
  communicator->allreduce_sum(std::span<std::int64_t>(&total_rows, 1));
  std::string layout;
  for (const Segment& s : model.layout().segments()) layout += fmt::format("{}:{};", s.name, s.length);
  dist::handshake(*communicator,
                  {{"the parameter count", model.num_parameters()},
                   {"the model's layers (a hash of their names and sizes)",
                    static_cast<std::int64_t>(dist::hash_string(layout))},
                   {"the features per sample", training.features},
                   {"the targets per sample", training.targets},
                   {"the method", static_cast<std::int64_t>(method)},
                   {"l2 (its bits)", bits_of(l2)},
                   {"the gradient tolerance (its bits)", bits_of(options.stop.gradient_tolerance)},
                   {"the iteration limit", options.stop.max_iterations},
                   {"the starting parameters (a hash)",
                    static_cast<std::int64_t>(dist::hash_bytes(
                        std::as_bytes(std::span<const T>(x.data(), static_cast<std::size_t>(x.size())))))}});
  AllreducedObjective<T> sharded(objective, *communicator, total_rows);
  auto any = AnyObjective<T>::reference(sharded);
  return minimize<T>(any, x, method, options, callback);
}

#define DESCENT_INSTANTIATE(T)                                                                                     \
  template TrainResult fit<T>(nn::Model<T>&, Vector<T>&, const data::Dataset&, const data::Dataset*,              \
                              optim::Stepper<T>&, const TrainOptions&, TrainCallback*);                            \
  template Result<T> fit_full_batch<T>(nn::Model<T>&, Vector<T>&, const data::Dataset&, Method,                   \
                                       const MinimizeOptions&, double, Callback<T>*, dist::Communicator*);         \
  template Evaluation evaluate<T>(nn::Model<T>&, const Vector<T>&, const data::Dataset&, Index);
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)

}  // namespace descent::train
