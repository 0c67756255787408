// Checkpoint and model files: their layout, checksums and metadata, written
// (atomically, by io::SafetensorsWriter::write) and read here alone. The
// trainer writes and resumes checkpoints through saved_files.hpp; the CLI
// and the library's users save and load models through model_file.hpp.
#include "saved_files.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <optional>

#include <fmt/format.h>

#include "descent/io/safetensors.hpp"
#include "descent/nn/spec.hpp"
#include "descent/optim/state_io.hpp"
#include "descent/train/model_file.hpp"

namespace descent::train {

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Refuses a file whose tensors do not match the CRC-32 in its metadata.
void verify_checksum(const std::string& path, const std::string& recorded, const char* what) {
  const std::string actual = tensor_checksum(read_bytes(path), path);
  if (actual != recorded)
    throw parse_error(path, 0, fmt::format("the {} is damaged: its tensors' CRC-32 is {}, its metadata says {}", what,
                                           actual, recorded));
}

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

std::string local_state_name(Index rank) { return fmt::format("local_sgd.rank{}", rank); }

// Reads a checkpoint and checks it is one, undamaged.
io::SafetensorsFile open_checkpoint(const std::string& path) {
  auto file = io::SafetensorsFile::read(path);
  const auto& meta = file.metadata();
  const auto crc = meta.find("descent.crc32");
  if (meta.find("descent.checkpoint") == meta.end() || crc == meta.end())
    throw parse_error(path, 0, "not a descent training checkpoint (no descent.checkpoint and descent.crc32 metadata)");
  verify_checksum(path, crc->second, "checkpoint");
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

}  // namespace

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

namespace detail {

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
                     optim::Stepper<T>& stepper, const LoopState& loop, const LocalSgdCheckpoint* local) {
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

namespace {

// The checkpoint must be of this model and this optimizer: the messages
// name both sides.
template <class T>
void require_same_model(const io::SafetensorsFile& file, const nn::Model<T>& model, optim::Stepper<T>& stepper) {
  const std::string& path = file.path();
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
}

// A local SGD checkpoint carries every rank's own state and resumes only
// the run that wrote it; any other checkpoint resumes any synchronous run.
// Returns this rank's own state, for a local SGD checkpoint.
std::optional<io::SafetensorsFile> own_state(const io::SafetensorsFile& file, const detail::LocalSgdResume* local) {
  const std::string& path = file.path();
  const bool written_by_local_sgd = file.contains("train.local_sgd");
  if (local && !written_by_local_sgd)
    throw parse_error(path, 0, "local SGD resumes only a checkpoint that local SGD wrote (on as many ranks, with "
                               "the same sync_every); this one was written by a synchronous run");
  if (!written_by_local_sgd) return std::nullopt;
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
  return io::SafetensorsFile::parse(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                                    fmt::format("{} (rank {}'s state)", path, local->rank));
}

// The schedule's and the divergence guard's parts of the loop's state.
void read_schedule_and_guard(const io::SafetensorsFile& file, bool with_plateau, LoopState& loop) {
  const std::string& path = file.path();
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
}

// The loop's state; `mine` is this rank's own state in local SGD, else
// the file itself.
LoopState read_loop_state(const io::SafetensorsFile& file, const io::SafetensorsFile& mine, Index rows,
                          bool with_plateau) {
  const std::string& path = file.path();
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
  read_schedule_and_guard(file, with_plateau, loop);
  if (&mine != &file) {
    const auto counts = mine.int64s("train.local_counts");
    const auto loss_sum = mine.doubles("train.local_loss_sum");
    if (counts.size() != 2 || loss_sum.size() != 1 || counts[0] < 0 || counts[1] < 0)
      throw parse_error(mine.path(), 0, "train.local_counts or train.local_loss_sum is malformed");
    loop.seen = counts[0], loop.processed = counts[1], loop.loss_sum = loss_sum[0];
  }
  return loop;
}

}  // namespace

template <class T>
LoopState load_checkpoint(const std::string& path, nn::Model<T>& model, Vector<T>& x, Vector<T>& best,
                          optim::Stepper<T>& stepper, Index rows, bool with_plateau, const LocalSgdResume* local) {
  const auto file = open_checkpoint(path);
  require_same_model(file, model, stepper);
  const std::optional<io::SafetensorsFile> own = own_state(file, local);
  const io::SafetensorsFile& mine = own ? *own : file;
  LoopState loop = read_loop_state(file, mine, own ? local->rows : rows, with_plateau);
  // Everything checked: now change the caller's state.
  optim::load_state(stepper, mine);
  file.read_into("x", std::span<T>(x.data(), static_cast<std::size_t>(x.size())));
  if (best.size() > 0 && file.contains("train.best"))
    file.read_into("train.best", std::span<T>(best.data(), static_cast<std::size_t>(best.size())));
  if (model.buffers().size() > 0)
    file.read_into("buffers", std::span<T>(model.buffers().data(), static_cast<std::size_t>(model.buffers().size())));
  return loop;
}

#define DESCENT_INSTANTIATE(T)                                                                                     \
  template std::string local_state<T>(optim::Stepper<T>&, const LoopState&);                                      \
  template void save_checkpoint<T>(const std::string&, const nn::Model<T>&, const Vector<T>&, const Vector<T>&,   \
                                   optim::Stepper<T>&, const LoopState&, const LocalSgdCheckpoint*);              \
  template LoopState load_checkpoint<T>(const std::string&, nn::Model<T>&, Vector<T>&, Vector<T>&,                \
                                        optim::Stepper<T>&, Index, bool, const LocalSgdResume*);
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)
#undef DESCENT_INSTANTIATE

}  // namespace detail

// ---- Saved models ------------------------------------------------------------------

template <class T>
void save_model(const std::string& path, const nn::Model<T>& model, const Vector<T>& x, const ModelFile& about) {
  io::SafetensorsWriter w;
  if (about.scaler) {
    const auto n = static_cast<std::int64_t>(about.scaler->mean.size());
    w.add("standardize.mean", std::span<const float>(about.scaler->mean), {n});
    w.add("standardize.scale", std::span<const float>(about.scaler->scale), {n});
  }
  for (const auto& s : model.layout().segments()) {
    std::vector<std::int64_t> shape = s.is_matrix() ? std::vector<std::int64_t>{s.rows, s.cols}
                                                    : std::vector<std::int64_t>{s.length};
    w.add(s.name, std::span<const T>(x.data() + s.offset, static_cast<std::size_t>(s.length)), shape);
  }
  if (model.buffers().size() > 0)
    w.add("buffers", std::span<const T>(model.buffers().data(), static_cast<std::size_t>(model.buffers().size())),
          {model.buffers().size()});
  w.set_metadata("model", about.spec);
  // The labels of the classes 0, 1, ... when the data's were not class ids.
  if (about.signed_labels) w.set_metadata("labels", "-1,1");
  w.set_metadata("loss", model.loss().name());
  w.set_metadata("descent", DESCENT_VERSION);
  w.set_metadata("descent.crc32", tensor_checksum(w.serialize(), path));
  w.write(path);
}

namespace {

// A saved model's file, checked to be one and undamaged.
io::SafetensorsFile open_model(const std::string& path) {
  auto file = io::SafetensorsFile::read(path);
  const auto& meta = file.metadata();
  if (meta.find("model") == meta.end())
    throw parse_error(path, 0,
                      meta.count("descent.checkpoint")
                          ? "a training checkpoint, not a saved model: continue it with descent train --resume, or "
                            "save a model with descent train --save"
                          : "no \"model\" entry in its metadata: not a file written by descent train --save");
  // Files from before checksums were written have none to check.
  if (const auto crc = meta.find("descent.crc32"); crc != meta.end()) verify_checksum(path, crc->second, "model file");
  return file;
}

template <class T>
nn::Model<T> model_of(const io::SafetensorsFile& file, const std::string& spec) {
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
  return model;
}

template <class T>
void require_finite_weights(const io::SafetensorsFile& file, const nn::Model<T>& model, const Vector<T>& x) {
  for (const auto& s : model.layout().segments()) {
    const auto* begin = x.data() + s.offset;
    if (const auto* bad = std::find_if(begin, begin + s.length, [](T v) { return !std::isfinite(v); });
        bad != begin + s.length)
      throw parse_error(file.path(), 0,
                        fmt::format("the weights are not finite: {} holds {} at element {} (was it saved from a run "
                                    "that diverged?)",
                                    s.name, double(*bad), bad - begin));
  }
}

}  // namespace

template <class T>
SavedModel<T> load_model(const std::string& path) {
  const auto file = open_model(path);
  const auto& meta = file.metadata();
  SavedModel<T> saved{model_of<T>(file, meta.at("model")), {}, {}};
  auto& [model, x, about] = saved;
  about.spec = meta.at("model");
  about.loss = model.loss().name();
  x.resize(model.num_parameters());
  for (const auto& s : model.layout().segments())
    file.read_into(s.name, std::span<T>(x.data() + s.offset, static_cast<std::size_t>(s.length)));
  if (model.buffers().size() > 0)
    file.read_into("buffers", std::span<T>(model.buffers().data(), static_cast<std::size_t>(model.buffers().size())));
  require_finite_weights(file, model, x);
  if (const auto labels = meta.find("labels"); labels != meta.end()) {
    if (labels->second != "-1,1")
      throw parse_error(path, 0, fmt::format("unknown \"labels\" metadata '{}'; expected -1,1", labels->second));
    about.signed_labels = true;
  }
  if (file.contains("standardize.mean"))
    about.scaler = data::Standardizer{file.floats("standardize.mean"), file.floats("standardize.scale")};
  return saved;
}

bool saved_in_double(const std::string& path) {
  const auto file = io::SafetensorsFile::read(path);
  // The weights' precision: the dtype of a tensor that is not the scaler's.
  for (const auto& name : file.names())
    if (!name.starts_with("standardize.")) return file.dtype(name) == io::DType::f64;
  return false;
}

void map_signed_labels(data::Dataset& d) {
  for (float& v : d.y) v = v == -1.0f ? 0.0f : v;
}

void prepare_data(const ModelFile& about, data::Dataset& d) {
  if (about.signed_labels) {
    for (Index r = 0; r < d.rows; ++r) {
      const float v = d.y[static_cast<std::size_t>(r)];
      if (v != -1.0f && v != 1.0f)
        throw parse_error(d.source, 0, fmt::format("row {} has the label {}; the model was trained on the labels -1 "
                                                   "and +1", r, v));
    }
    map_signed_labels(d);
  }
  if (about.scaler) about.scaler->apply(d);
}

#define DESCENT_INSTANTIATE(T)                                                                                     \
  template void save_model<T>(const std::string&, const nn::Model<T>&, const Vector<T>&, const ModelFile&);       \
  template SavedModel<T> load_model<T>(const std::string&);
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)
#undef DESCENT_INSTANTIATE

}  // namespace descent::train
