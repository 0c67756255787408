// The stepper flags that `descent minimize` and `descent train` share:
// hyper-parameters named as in torch.optim, Lookahead, perturbation,
// clipping and L1.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "descent/optim/factory.hpp"

namespace descent::cli {

struct StepperFlags {
  std::optional<double> momentum, beta1, beta2, eps, weight_decay;
  bool nesterov = false;
  std::vector<std::string> hyperparameters;  // --hp KEY=VALUE
  std::string lookahead;                     // K,ALPHA
  std::string perturb;                       // RADIUS[,THRESHOLD[,INTERVAL]]
  double clip_norm = 0, l1 = 0;

  // Registers --momentum ... --l1 on cmd (not --lr nor --schedule, whose
  // meaning each subcommand words itself).
  void add_to(CLI::App* cmd);
  // The hyper-parameters given; throws usage_error on a malformed --hp or
  // --lookahead.
  optim::Hyperparameters hyperparameters_map() const;
  optim::Regularization regularization() const;
};

// A whole string as a finite double.
bool parse_double(const std::string& text, double& out);

}  // namespace descent::cli
