// Checkpoints: everything a training run needs to continue bit for bit.
//
// A safetensors file (readable from Python) holding the parameters
// ("x"), the model's buffers, the optimizer's state ("optim.*"), the
// shuffle and dropout generators, the current epoch's order of rows and
// the position in it, the running sums of the epoch, the early-stopping
// bookkeeping and a reduce-on-plateau schedule's state. Its metadata carries a CRC-32 of every tensor's bytes; a file
// whose tensors do not match it is refused as damaged. Files are written
// atomically (a temporary file, fsync, rename), so a run killed at any
// moment leaves the previous checkpoint intact.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "descent/core/random.hpp"
#include "descent/core/segments.hpp"
#include "descent/core/types.hpp"
#include "descent/optim/schedule.hpp"

namespace descent::train {

// The loop's own state, beside the model's and the optimizer's.
struct LoopState {
  Index epoch = 1;     // the epoch in progress (1-based)
  Index position = 0;  // rows of it done; 0: its shuffle is still to come
  Index steps = 0;
  Index processed = 0;
  Index seen = 0;  // rows of this epoch, for its mean loss
  double loss_sum = 0;
  Index best_epoch = 0;
  double best_validation_loss = 0;
  Index since_best = 0;
  Rng::State shuffle{}, dropout{};
  std::vector<Index> order;
  std::optional<optim::ReduceOnPlateau::State> plateau;  // with a reduce-on-plateau schedule
  // The divergence guard's.
  Index rollbacks = 0;
  double lr_scale = 1;
  double smoothed_loss = 0, best_smoothed_loss = 0;
  Index smoothed_steps = 0;  // losses in the average; 0: none yet
};

// What a checkpoint holds, from its metadata and counters, checked against
// its CRC-32 (a damaged or foreign file throws descent::parse_error).
struct CheckpointInfo {
  std::string optimizer;  // the stepper's name ("adam", ...)
  std::string layout;     // the model's parameter tensors, "0.weight 32x2, 0.bias 32, ..."
  Index parameters = 0;
  Index epoch = 0;        // the epoch it resumes in (1-based)
  Index position = 0;     // rows of that epoch already done
  Index steps = 0;
  Index rows = 0;         // of the training set
};
CheckpointInfo inspect_checkpoint(const std::string& path);

// A model's parameter tensors as a checkpoint names them.
std::string describe_layout(const Layout& layout);

// The CRC-32 of every tensor's bytes, in name order, as 8 hex digits.
std::string tensor_checksum(const std::string& serialized_safetensors, const std::string& name_for_errors);

}  // namespace descent::train
