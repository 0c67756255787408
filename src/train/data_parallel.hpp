// The data-parallel parts of the training loop (internal to trainer.cpp):
// the gradient of a global batch summed over the ranks, the optimizer's
// update sharded across them, the agreement on stopping, parameter
// averaging for local SGD, validation by rank 0.
#pragma once

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "descent/core/parallel.hpp"
#include "descent/dist/communicator.hpp"
#include "descent/dist/shard.hpp"
#include "descent/nn/objective.hpp"
#include "descent/optim/stepper.hpp"

namespace descent::train::detail {

using dist::Chunk;

template <class T>
class DataParallel {
 public:
  // objective: the rank's shard, with the sum option in synchronous mode.
  DataParallel(dist::Communicator& comm, const dist::Shard& shard, nn::ModelObjective<T>& objective, Index batch,
               std::uint64_t seed)
      : comm_(comm), objective_(objective), seed_(seed), local_of_(static_cast<std::size_t>(shard.total_rows), -1) {
    for (std::size_t i = 0; i < shard.rows.size(); ++i)
      local_of_[static_cast<std::size_t>(shard.rows[i])] = static_cast<Index>(i);
    local_rows_.reserve(static_cast<std::size_t>(batch) + 1);
    buffer_.resize(objective.size() + 2);
  }

  bool lead() const { return comm_.rank() == 0; }
  int rank() const { return comm_.rank(); }
  int size() const { return comm_.size(); }
  dist::Communicator& communicator() { return comm_; }
  double communication_seconds() const { return seconds_; }

  // Dropout masks of step `step` on this rank: a stream of their own, so
  // that a checkpoint needs no generator state per rank.
  void seed_dropout(Index step) {
    objective_.rng().reseed(seed_ ^ (0xd1b54a32d192ed03ULL * std::uint64_t(step + 1)) ^
                            (0x8cb92ba72f3d8dd7ULL * std::uint64_t(comm_.rank() + 1)));
  }

  // Synchronous mode: the mean loss over the global batch `rows` (global
  // indices) with the penalty, and its gradient in g, the same bits on
  // every rank. [sum of gradients, sum of losses, count] is reduced in one
  // allreduce; a rank owning none of the rows contributes zeros.
  T gradient(const Vector<T>& x, Vector<T>& g, std::span<const Index> rows) {
    select_local(rows);
    const Index n = objective_.size();
    auto sums = buffer_.head(n);
    buffer_[n] = objective_.value_and_gradient(x, sums, std::span<const Index>(local_rows_));
    buffer_[n + 1] = static_cast<T>(local_rows_.size());
    timed([&] { comm_.allreduce_sum(std::span<T>(buffer_.data(), static_cast<std::size_t>(buffer_.size()))); });
    const T count = buffer_[n + 1];
    g = sums / count;
    return buffer_[n] / count + objective_.penalty(x.data(), g.data());
  }

  // ---- Optimizer sharding (synchronous mode) ----
  //
  // With an element-wise method (Stepper::shard) and more than one rank,
  // rank r updates only its chunk of x (Communicator::chunk), with its
  // chunk of the optimizer's state. The gradient sum is then a reduce-
  // scatter, which leaves each rank the summed gradient of its own chunk,
  // and the updated chunks are put together by an allgather: the same
  // bytes on the wire as one allreduce, 1/P of the update's arithmetic and
  // passes over memory per rank, and replicas bit-identical by
  // construction (each chunk computed once, then copied).

  // Starts sharding the update of `full` when its method allows it;
  // copies this rank's slice of full's state (fresh, or a checkpoint's).
  // Returns whether it did.
  bool shard_optimizer(optim::Stepper<T>& full) {
    if (comm_.size() == 1) return false;
    // A simplex or a ball couples variables that may lie on several ranks:
    // then every rank steps the whole of x.
    if (!full.projection().is_box()) return false;
    const Index n = objective_.size();
    chunk_ = comm_.my_chunk(n);
    shard_ = full.shard(full.layout().slice(chunk_.first, chunk_.last));
    if (!shard_) return false;
    shard_->set_projection(full.projection().slice(n, chunk_.first, chunk_.last));
    StateSlices slices(chunk_, n);
    full.visit_state(slices);
    Slicer slicer(slices, /*into_shard=*/true);
    shard_->visit_state(slicer);
    previous_.resize(chunk_.size());
    return true;
  }
  // The stepper that takes the steps: the shard's, or the caller's.
  optim::Stepper<T>& stepper(optim::Stepper<T>& full) { return shard_ ? *shard_ : full; }

  // full's state := every rank's slice of it, on every rank (a collective,
  // before a checkpoint is written and at the end of the run).
  void gather_state(optim::Stepper<T>& full) {
    if (!shard_) return;
    const Index n = objective_.size();
    StateSlices slices(chunk_, n);
    full.visit_state(slices);
    Slicer slicer(slices, /*into_shard=*/false);
    shard_->visit_state(slicer);
    for (Vector<T>* v : slices.vectors)
      timed([&] { comm_.allgather_chunks(std::span<T>(v->data(), static_cast<std::size_t>(v->size()))); });
  }

  struct Gradient {
    T loss;                // the mean loss over the global batch, with the penalty
    double gradient_norm;  // of the whole gradient
  };
  // The gradient of the global batch `rows` on this rank's chunk (kept
  // for sharded_step), its loss and the norm of the whole gradient.
  Gradient sharded_gradient(const Vector<T>& x, std::span<const Index> rows) {
    select_local(rows);
    const Index n = objective_.size();
    auto sums = buffer_.head(n);
    const T local_loss = objective_.value_and_gradient(x, sums, std::span<const Index>(local_rows_));
    timed([&] { comm_.reduce_scatter_sum(std::span<T>(sums.data(), static_cast<std::size_t>(n))); });
    const T count = static_cast<T>(rows.size());  // every row of the batch is some rank's
    T* g = buffer_.data();
    T* gc = g + chunk_.first;
    const Index length = chunk_.size();
    double squares;
    T penalty = 0;
    if (objective_.has_penalty()) {  // the penalty's gradient first, then the norm
      descent::detail::for_each_index(length, [=](Index j) { gc[j] /= count; });
      penalty = objective_.penalty(x.data(), g, chunk_.first, chunk_.last);
      squares = descent::detail::sum_over<double>(length, [=](Index j) { return double(gc[j]) * double(gc[j]); });
    } else {  // one pass
      squares = descent::detail::sum_over<double>(length, [=](Index j) {
        gc[j] /= count;
        return double(gc[j]) * double(gc[j]);
      });
    }
    double totals[4] = {double(local_loss), double(penalty), squares, double(local_rows_.size())};
    timed([&] { comm_.allreduce_sum(std::span<double>(totals, 4)); });
    DESCENT_ASSERT(totals[3] == double(rows.size()));
    return {static_cast<T>(totals[0] / double(rows.size()) + totals[1]), std::sqrt(totals[2])};
  }

  struct Update {
    bool finite;         // on every rank; when false, x is as it was before the step
    double update_norm;  // ||x after - x before||
  };
  // One step of the shard's stepper on this rank's chunk of x, then x
  // whole again from every rank's chunk.
  Update sharded_step(Vector<T>& x, T lr, double gradient_norm) {
    auto mine = x.segment(chunk_.first, chunk_.size());
    previous_ = mine;
    shard_->step(mine, buffer_.segment(chunk_.first, chunk_.size()), lr, gradient_norm);
    // The squared update, in double: finite exactly when every new value
    // is (the old ones are, and a float's square cannot overflow a double).
    const T* after = mine.data();
    const T* before = previous_.data();
    const double squares = descent::detail::sum_over<double>(chunk_.size(), [=](Index j) {
      const double d = double(after[j]) - double(before[j]);
      return d * d;
    });
    double totals[2] = {std::isfinite(squares) ? 0.0 : 1.0, squares};  // [ranks with non-finite values, squares]
    timed([&] { comm_.allreduce_sum(std::span<double>(totals, 2)); });
    if (totals[0] > 0) {
      mine = previous_;  // every other chunk is still as it was
      return {false, 0};
    }
    timed([&] { comm_.allgather_chunks(std::span<T>(x.data(), static_cast<std::size_t>(x.size()))); });
    return {true, std::sqrt(totals[1])};
  }

  // Every rank learns whether any rank asks to stop (its callback, a local
  // divergence) and whether rank 0's clock passed the time limit: one
  // small allreduce, so that every rank leaves the loop at the same step.
  struct Stops {
    bool callback = false, time = false, diverged = false, interrupt = false;
  };
  Stops agree(Stops mine) {
    std::int64_t flags[4] = {mine.callback, lead() && mine.time, mine.diverged, mine.interrupt};
    timed([&] { comm_.allreduce_sum(std::span<std::int64_t>(flags, 4)); });
    return {flags[0] > 0, flags[1] > 0, flags[2] > 0, flags[3] > 0};
  }

  // Sums over the ranks, in place.
  void sum(std::span<double> values) {
    timed([&] { comm_.allreduce_sum(values); });
  }

  // Local SGD: x := the mean of every rank's x (and, with state, of every
  // vector and scalar of the stepper's state).
  void average(Vector<T>& x, optim::Stepper<T>* state) {
    const T inverse = T(1) / static_cast<T>(comm_.size());
    timed([&] { comm_.allreduce_sum(std::span<T>(x.data(), static_cast<std::size_t>(x.size()))); });
    x *= inverse;
    if (state) {
      Averager averager(*this, inverse);
      state->visit_state(averager);
    }
  }
  void average(std::span<T> values) {
    timed([&] { comm_.allreduce_sum(values); });
    for (T& v : values) v /= static_cast<T>(comm_.size());
  }

  // Rank 0's validation loss and accuracy on every rank.
  void share_from_lead(double& loss, double& accuracy) {
    double values[2] = {loss, accuracy};
    timed([&] { comm_.broadcast_values(std::span<double>(values, 2), 0); });
    loss = values[0];
    accuracy = values[1];
  }

 private:
  // The rows of the global batch this rank owns, as local indices.
  void select_local(std::span<const Index> rows) {
    local_rows_.clear();
    for (const Index r : rows)
      if (const Index l = local_of_[static_cast<std::size_t>(r)]; l >= 0) local_rows_.push_back(l);
  }

  // A stepper's state in visit order: the vectors (those the length of x),
  // scalars and counters.
  struct StateSlices final : optim::StateVisitor<T> {
    StateSlices(Chunk chunk, Index n) : chunk(chunk), n(n) {}
    void vector(std::string_view name, Vector<T>& v) override {
      DESCENT_REQUIRE(v.size() == n, fmt::format("optimizer sharding: the state vector '{}' has {} values, x has {}", name,
                                         v.size(), n));
      vectors.push_back(&v);
    }
    void scalar(std::string_view, double& s) override { scalars.push_back(&s); }
    void counter(std::string_view, std::int64_t& c) override { counters.push_back(&c); }
    Chunk chunk;
    Index n;
    std::vector<Vector<T>*> vectors;
    std::vector<double*> scalars;
    std::vector<std::int64_t*> counters;
  };
  // Visits the shard's state, copying each piece from (into_shard) or to
  // its slice of the whole state. The scalars and counters of an
  // element-wise method are the same on every rank (the step count, bias
  // corrections), so every rank copies its own.
  struct Slicer final : optim::StateVisitor<T> {
    Slicer(StateSlices& whole, bool into_shard) : whole(whole), into_shard(into_shard) {}
    void vector(std::string_view name, Vector<T>& v) override {
      DESCENT_REQUIRE(next_vector < whole.vectors.size() && v.size() == whole.chunk.size(),
              fmt::format("optimizer sharding: the shard's state vector '{}' does not match the whole state", name));
      auto slice = whole.vectors[next_vector++]->segment(whole.chunk.first, whole.chunk.size());
      if (into_shard) v = slice; else slice = v;
    }
    void scalar(std::string_view, double& s) override {
      double& w = *whole.scalars.at(next_scalar++);
      if (into_shard) s = w; else w = s;
    }
    void counter(std::string_view, std::int64_t& c) override {
      std::int64_t& w = *whole.counters.at(next_counter++);
      if (into_shard) c = w; else w = c;
    }
    StateSlices& whole;
    bool into_shard;
    std::size_t next_vector = 0, next_scalar = 0, next_counter = 0;
  };

  class Averager final : public optim::StateVisitor<T> {
   public:
    Averager(DataParallel& p, T inverse) : p_(p), inverse_(inverse) {}
    void vector(std::string_view, Vector<T>& v) override {
      p_.timed([&] { p_.comm_.allreduce_sum(std::span<T>(v.data(), static_cast<std::size_t>(v.size()))); });
      v *= inverse_;
    }
    void scalar(std::string_view, double& s) override {
      p_.timed([&] { p_.comm_.allreduce_sum(std::span<double>(&s, 1)); });
      s /= double(p_.comm_.size());
    }
    void counter(std::string_view, std::int64_t&) override {}  // the same step count on every rank

   private:
    DataParallel& p_;
    T inverse_;
  };

  template <class F>
  void timed(F&& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  dist::Communicator& comm_;
  nn::ModelObjective<T>& objective_;
  std::uint64_t seed_;
  std::vector<Index> local_of_;  // global row -> local row, -1 when another rank owns it
  std::vector<Index> local_rows_;
  Vector<T> buffer_;  // [gradient sums..., loss sum, count]
  double seconds_ = 0;
  // Optimizer sharding: this rank's chunk of x, the stepper over it, and
  // the chunk before the step (put back when a step makes it non-finite).
  Chunk chunk_;
  std::unique_ptr<optim::Stepper<T>> shard_;
  Vector<T> previous_;
};

}  // namespace descent::train::detail
