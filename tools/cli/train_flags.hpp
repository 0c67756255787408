// descent train's flags (train_flags.cpp defines them and the rules that
// tie them together; train.cpp runs them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "descent/core/projection.hpp"
#include "descent/core/segments.hpp"
#include "descent/core/types.hpp"
#include "descent/train/setup.hpp"
#include "paths.hpp"
#include "stepper_flags.hpp"

namespace descent::cli {

struct Flags {
  std::string data, test, label_column, model, loss, optimizer = "adam", schedule;
  bool standardize = false, impute = false;
  double lr = 1e-3, l2 = 0, val_fraction = 0, gtol = 1e-6;
  bool lr_auto = false;  // --lr auto: the range test's suggestion
  std::optional<double> time_limit;
  StepperFlags stepper;
  std::vector<std::string> project;  // --project [SEGMENTS=]SPEC, repeatable
  Index epochs = 10, batch_size = 32, early_stopping = 0, max_iter = 1000, memory = 20;
  std::uint64_t seed = 0;
  int threads = 0;
  std::string log, save, checkpoint, resume;
  Index checkpoint_every = 0;
  std::string on_divergence = "stop";
  double divergence_factor = 0;
  Index max_rollbacks = 3;
  Index plateau_epochs = 3;
  double plateau_tolerance = 1e-3;
  bool json = false;
  bool distributed = false, sync_state = false, no_shard_optimizer = false;
  Index sync_every = 0;
};

// Whether the model fits class ids, and the data's options, from the flags.
bool classifier(const Flags& f);
train::DataOptions data_options(const Flags& f);

// The flags of the data, the model and the optimizer, which descent train
// and descent lr-find share.
void add_setup_flags(CLI::App* cmd, Flags& f);
// Throws usage_error for a missing --data or --model, an unknown optimizer
// or loss.
void check_setup_flags(const Flags& f);
// The files --data and --test read, for check_paths (a named set reads none).
std::vector<NamedPath> data_inputs(const Flags& f);

// This command line as descent train: the subcommand's name replaced,
// --json and every flag in `drop` (with its value) left out.
std::string as_train_command(const std::vector<std::string>& drop);

// Throws usage_error for flags that do not go together, or files the run
// could not read or write.
void check_flags(const Flags& f);

// The run itself (train.cpp): returns the exit status.
int run_train(const Flags& f);

// The constraint of --project over the model's parameters: each flag is
// SPEC (every parameter) or SEGMENTS=SPEC, SEGMENTS a comma-separated list
// of segment names or '*' patterns ("*.weight"). Throws usage_error for a
// malformed spec, a pattern that matches no segment, overlapping pieces, or
// a set the optimizer cannot keep (a full-batch solver other than lbfgsb
// for boxes, projected-gd or spg).
Projection train_projection(const Flags& f, const Layout& layout);

}  // namespace descent::cli
