#include "descent/optim/run.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "descent/core/error.hpp"
#include "descent/optim/steppers.hpp"
#include "descent/solvers/detail/monitor.hpp"

namespace descent::optim {

template <class T>
Result<T> minimize_with_stepper(AnyObjective<T>& f, VectorRef<T> x_io, Stepper<T>& stepper,
                                const StepperRunOptions& options, Callback<T>* callback) {
  const Index n = x_io.size();
  DESCENT_REQUIRE(n == stepper.layout().size(),
          fmt::format("{}: x has {} elements; the stepper's layout has {}", stepper.name(), n,
                      stepper.layout().size()));
  DESCENT_REQUIRE(std::isfinite(options.lr) && options.lr >= 0,
          fmt::format("the learning rate must be finite and >= 0; got {}", options.lr));
  detail::Monitor<T> monitor(stepper.name(), options.stop, callback, n);
  Index evaluations = 0;
  auto counts = [&] { return detail::Counts{evaluations, evaluations, 0}; };

  Vector<T> x = x_io, g(n);
  T fx = f.value_and_gradient(x, g);
  ++evaluations;
  T gnorm = g.norm();
  auto finish = [&](Status s, Index k) {
    // The schedule-free methods evaluate the model at their averaged iterate.
    Vector<T> point(n);
    stepper.evaluation_point(x, point);
    if (point != x && s != Status::diverged) {
      x = point;
      fx = f.value_and_gradient(x, g);
      ++evaluations;
      gnorm = g.norm();
    }
    x_io = x;
    return monitor.finish(s, x, fx, gnorm, k, counts());
  };
  // Perturbed gradient descent's stopping rule (optim/steppers.hpp): a point
  // that passes the gradient test is perturbed first; the run stops there
  // once f fell by less than `decrease` since the last perturbation.
  auto* perturbed = dynamic_cast<Perturbed<T>*>(&stepper);
  std::int64_t perturbations_seen = 0, checked_perturbation = 0;
  T f_at_perturbation = T(0);  // f where the last perturbation started
  auto no_way_down = [&] {
    const double fell = double(f_at_perturbation - fx);
    return fell < perturbed->options().decrease * std::max(1.0, std::abs(double(f_at_perturbation)));
  };
  if (perturbed != nullptr) {
    monitor.set_stationary_check(
        [&] {
          if (perturbed->perturbations() > 0 && no_way_down()) return false;
          perturbed->request_perturbation();
          return true;
        },
        "perturbed {} time(s) at a point that passed the gradient test");
  }
  if (auto s = monitor.start(x, fx, gnorm, counts())) return finish(*s, 0);

  for (Index k = 1;; ++k) {
    const double lr = options.schedule ? options.schedule(k - 1) : options.lr;
    if (!(std::isfinite(lr) && lr >= 0)) {
      monitor.set_reason(fmt::format("the schedule gave learning rate {} at step {}", lr, k - 1));
      return finish(Status::diverged, k - 1);
    }
    // Jin et al.'s stop: `interval` steps after a perturbation (before the
    // stepper may perturb again), f has not fallen by `decrease`: the
    // perturbation found no way down.
    if (perturbed != nullptr && perturbed->perturbations() > checked_perturbation &&
        stepper.steps() - perturbed->last_perturbation() >= perturbed->options().interval) {
      checked_perturbation = perturbed->perturbations();
      if (no_way_down()) {
        monitor.set_reason(fmt::format("f fell by {:.3g} in the {} steps after perturbation {}: a minimum",
                                       double(f_at_perturbation - fx), perturbed->options().interval,
                                       perturbed->perturbations()));
        if (fx > f_at_perturbation) {  // back to the point the perturbation left, as in the paper
          x = perturbed->perturbed_from();
          fx = f.value_and_gradient(x, g);
          ++evaluations;
          gnorm = g.norm();
        }
        return finish(Status::converged_value, k - 1);
      }
    }
    const T f_prev = fx;
    stepper.step(x, g, T(lr));
    if (perturbed != nullptr && perturbed->perturbations() != perturbations_seen) {
      perturbations_seen = perturbed->perturbations();
      f_at_perturbation = f_prev;
    }
    fx = f.value_and_gradient(x, g);
    ++evaluations;
    gnorm = g.norm();
    if (auto s = monitor.iterate(k, x, f_prev, fx, gnorm, T(lr), T(0), counts())) return finish(*s, k);
  }
}

template Result<float> minimize_with_stepper(AnyObjective<float>&, VectorRef<float>, Stepper<float>&,
                                             const StepperRunOptions&, Callback<float>*);
template Result<double> minimize_with_stepper(AnyObjective<double>&, VectorRef<double>, Stepper<double>&,
                                              const StepperRunOptions&, Callback<double>*);

}  // namespace descent::optim
