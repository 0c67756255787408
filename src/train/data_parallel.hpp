// The data-parallel parts of the training loop (internal to trainer.cpp):
// the gradient of a global batch summed over the ranks, the agreement on
// stopping, parameter averaging for local SGD, validation by rank 0.
#pragma once

#include <chrono>
#include <cstring>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "descent/dist/communicator.hpp"
#include "descent/dist/shard.hpp"
#include "descent/nn/objective.hpp"
#include "descent/optim/stepper.hpp"

namespace descent::train::detail {

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
    local_rows_.clear();
    for (const Index r : rows)
      if (const Index l = local_of_[static_cast<std::size_t>(r)]; l >= 0) local_rows_.push_back(l);
    const Index n = objective_.size();
    auto sums = buffer_.head(n);
    buffer_[n] = objective_.value_and_gradient(x, sums, std::span<const Index>(local_rows_));
    buffer_[n + 1] = static_cast<T>(local_rows_.size());
    timed([&] { comm_.allreduce_sum(std::span<T>(buffer_.data(), static_cast<std::size_t>(buffer_.size()))); });
    const T count = buffer_[n + 1];
    g = sums / count;
    return buffer_[n] / count + objective_.penalty(x.data(), g.data());
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
};

}  // namespace descent::train::detail
