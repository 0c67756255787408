// Steppers by name, for the command line and the bindings.
//
//   Hyperparameters hp{{"beta2", 0.99}, {"weight_decay", 0.01}};
//   auto adam = make_stepper<float>("adamw", layout, x0, hp);
//
// Names: sgd, momentum, nesterov, adagrad, rmsprop, rmsprop-centered,
// adadelta, adam, adamw, amsgrad, adamax, nadam, radam, lion, adafactor,
// schedule-free-sgd, schedule-free-adamw, prodigy, muon. Hyper-parameters
// are named as in torch.optim (momentum, dampening, nesterov, beta1, beta2,
// eps, weight_decay, alpha, rho, lr_decay, ...); booleans are 0 or 1.
// `weight_decay` means what it means in torch for that method: coupled
// (Regularization::l2) for SGD, AdaGrad, RMSProp, AdaDelta and Adam and its
// variants; decoupled for AdamW, Lion, Adafactor and Muon; the method's own
// rule for schedule-free AdamW (and coupled for schedule-free SGD) and
// Prodigy. `lookahead_k` and `lookahead_alpha` wrap any method in Lookahead;
// `perturb_radius`, `perturb_threshold`, `perturb_interval`, `perturb_seed`
// and `perturb_decrease` (PerturbOptions) wrap it, outermost, in Perturbed.
// An unknown name or hyper-parameter, or a value out of range, throws
// descent::invalid_argument listing what is accepted.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "descent/optim/steppers.hpp"

namespace descent::optim {

using Hyperparameters = std::map<std::string, double, std::less<>>;

// Every method name, in the order above.
const std::vector<std::string>& stepper_names();
bool is_stepper_name(std::string_view name);

// `x0` is the starting point (schedule-free, Prodigy and Lookahead keep a
// copy); `regularization` adds clipping, L1 and further decay on top. When
// `resolved` is given it receives every hyper-parameter of the method with
// the value it took, given or default (a run's log records them all).
template <class T>
std::unique_ptr<Stepper<T>> make_stepper(std::string_view method, const Layout& layout, ConstVectorRef<T> x0,
                                         const Hyperparameters& hyperparameters = {},
                                         const Regularization& regularization = {},
                                         Hyperparameters* resolved = nullptr);

}  // namespace descent::optim
