#include "descent/optim/run.hpp"

#include <cmath>

#include <fmt/format.h>

#include "descent/core/error.hpp"
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
  if (auto s = monitor.start(x, fx, gnorm, counts())) return finish(*s, 0);

  for (Index k = 1;; ++k) {
    const double lr = options.schedule ? options.schedule(k - 1) : options.lr;
    if (!(std::isfinite(lr) && lr >= 0)) {
      monitor.set_reason(fmt::format("the schedule gave learning rate {} at step {}", lr, k - 1));
      return finish(Status::diverged, k - 1);
    }
    stepper.step(x, g, T(lr));
    const T f_prev = fx;
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
