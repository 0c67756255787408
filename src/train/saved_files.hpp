// Internal: the layout of checkpoints, written and read here alone
// (saved_files.cpp). The public side is descent/train/checkpoint.hpp
// (inspecting a checkpoint) and descent/train/model_file.hpp (saved models).
#pragma once

#include <string>
#include <vector>

#include "descent/nn/model.hpp"
#include "descent/optim/stepper.hpp"
#include "descent/train/checkpoint.hpp"

namespace descent::train::detail {

// Local SGD: a checkpoint holds, beside the averaged weights, each rank's
// own order of its rows, shuffle generator, optimizer state and running
// sums of the epoch (local_state), one safetensors blob per rank.
struct LocalSgdCheckpoint {
  Index ranks = 0, sync_every = 0;
  std::vector<std::string> rank_states;  // on the writing rank, by rank
};

// This rank's own part of a local SGD checkpoint.
template <class T>
std::string local_state(optim::Stepper<T>& stepper, const LoopState& loop);

// Writes everything a run needs to continue bit for bit, atomically.
// best: early stopping's best weights (empty without early stopping).
template <class T>
void save_checkpoint(const std::string& path, const nn::Model<T>& model, const Vector<T>& x, const Vector<T>& best,
                     optim::Stepper<T>& stepper, const LoopState& loop, const LocalSgdCheckpoint* local = nullptr);

// A local SGD run resuming: which rank this is, of how many, averaging
// every how many steps, over how many rows of its own.
struct LocalSgdResume {
  Index rank = 0, ranks = 0, sync_every = 0, rows = 0;
};

// Reads a checkpoint into the model's buffers, x, best and the stepper's
// state, and returns the loop's state. Everything is checked (the model,
// the optimizer, the training set's size, the schedule, the kind of run)
// before anything of the caller's changes; a mismatch throws
// descent::parse_error naming both sides.
template <class T>
LoopState load_checkpoint(const std::string& path, nn::Model<T>& model, Vector<T>& x, Vector<T>& best,
                          optim::Stepper<T>& stepper, Index rows, bool with_plateau,
                          const LocalSgdResume* local = nullptr);

}  // namespace descent::train::detail
