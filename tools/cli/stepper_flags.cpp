#include "stepper_flags.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <algorithm>

#include <fmt/format.h>

#include "commands.hpp"
#include "ranges.hpp"

namespace descent::cli {

bool parse_double(const std::string& text, double& out) {
  const char* begin = text.data();
  char* end = nullptr;
  errno = 0;
  out = std::strtod(begin, &end);
  return !text.empty() && end == begin + text.size() && errno == 0 && std::isfinite(out);
}

void StepperFlags::add_to(CLI::App* cmd) {
  cmd->add_option("--momentum", momentum, "Stepper momentum (sgd, momentum, nesterov, rmsprop, muon)")
      ->check(number_in(0, infinity));
  cmd->add_option("--beta1", beta1, "Stepper beta1 (Adam family, lion, prodigy, schedule-free-adamw)")
      ->check(number_in(0, infinity));
  cmd->add_option("--beta2", beta2, "Stepper beta2")
      ->check(number_in(0, infinity));
  cmd->add_option("--eps", eps, "Stepper epsilon")
      ->check(number_in(0, infinity));
  cmd->add_option("--weight-decay", weight_decay,
                  "Weight decay as torch.optim defines it for the method (decoupled for adamw, lion, muon)")
      ->check(number_in(0, infinity));
  cmd->add_flag("--nesterov", nesterov, "Nesterov momentum (sgd, momentum)");
  cmd->add_option("--hp", hyperparameters, "Any other stepper hyper-parameter, KEY=VALUE (repeatable)");
  cmd->add_option("--lookahead", lookahead, "Wrap the stepper in Lookahead: K,ALPHA (e.g. 5,0.5)");
  cmd->add_option("--perturb", perturb,
                  "Perturbed gradient descent around the stepper: RADIUS[,THRESHOLD[,INTERVAL]], noise uniform in a "
                  "ball of RADIUS when |g| <= THRESHOLD (default 1e-3) and no perturbation came in the last INTERVAL "
                  "steps (default 100); --hp perturb_seed=S seeds it");
  cmd->add_option("--clip-norm", clip_norm, "Steppers: clip the gradient to this global norm (0 = off)")
      ->check(number_in(0, infinity));
  cmd->add_option("--l1", l1, "Steppers: L1 penalty by soft-thresholding (0 = off)")
      ->check(number_in(0, infinity));
}

optim::Hyperparameters StepperFlags::hyperparameters_map() const {
  optim::Hyperparameters hp;
  if (momentum) hp["momentum"] = *momentum;
  if (beta1) hp["beta1"] = *beta1;
  if (beta2) hp["beta2"] = *beta2;
  if (eps) hp["eps"] = *eps;
  if (weight_decay) hp["weight_decay"] = *weight_decay;
  if (nesterov) hp["nesterov"] = 1;
  for (const auto& kv : hyperparameters) {
    const auto eq = kv.find('=');
    double value = 0;
    if (eq == std::string::npos || !parse_double(kv.substr(eq + 1), value))
      throw usage_error(fmt::format("--hp takes KEY=VALUE with a number VALUE; got '{}'", kv));
    hp[kv.substr(0, eq)] = value;
  }
  if (!lookahead.empty()) {
    const auto comma = lookahead.find(',');
    double k = 0, alpha = 0;
    if (comma == std::string::npos || !parse_double(lookahead.substr(0, comma), k) ||
        !parse_double(lookahead.substr(comma + 1), alpha))
      throw usage_error(fmt::format("--lookahead takes K,ALPHA (for example 5,0.5); got '{}'", lookahead));
    hp["lookahead_k"] = k;
    hp["lookahead_alpha"] = alpha;
  }
  if (!perturb.empty()) {
    double values[3] = {0, optim::PerturbOptions{}.gradient_threshold, double(optim::PerturbOptions{}.interval)};
    std::size_t begin = 0;
    int count = 0;
    for (; count < 3 && begin <= perturb.size(); ++count) {
      const auto comma = std::min(perturb.find(',', begin), perturb.size());
      if (!parse_double(perturb.substr(begin, comma - begin), values[count])) {
        count = -1;
        break;
      }
      begin = comma + 1;
    }
    if (count < 1 || begin <= perturb.size())
      throw usage_error(
          fmt::format("--perturb takes RADIUS[,THRESHOLD[,INTERVAL]] (for example 0.01,1e-3,20); got '{}'", perturb));
    hp["perturb_radius"] = values[0];
    hp["perturb_threshold"] = values[1];
    hp["perturb_interval"] = values[2];
  }
  return hp;
}

optim::Regularization StepperFlags::regularization() const {
  optim::Regularization reg;
  reg.clip_norm = clip_norm;
  reg.l1 = l1;
  return reg;
}

}  // namespace descent::cli
