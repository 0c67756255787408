#include "descent/core/stopping.hpp"

#include <cmath>

#include <fmt/format.h>

#include "descent/core/error.hpp"

namespace descent {

void StopOptions::validate() const {
  auto nonnegative = [](double v, const char* field) {
    DESCENT_REQUIRE(v >= 0.0 && !std::isnan(v),
            fmt::format("StopOptions::{} must be >= 0; got {}", field, v));
  };
  nonnegative(gradient_tolerance, "gradient_tolerance");
  nonnegative(value_tolerance, "value_tolerance");
  nonnegative(step_tolerance, "step_tolerance");
  DESCENT_REQUIRE(relative_gradient_tolerance >= 0.0 && relative_gradient_tolerance < 1.0,
          fmt::format("StopOptions::relative_gradient_tolerance must be in [0, 1); got {}",
                      relative_gradient_tolerance));
  DESCENT_REQUIRE(max_iterations >= 0,
          fmt::format("StopOptions::max_iterations must be >= 0; got {}", max_iterations));
  DESCENT_REQUIRE(max_evaluations >= 0,
          fmt::format("StopOptions::max_evaluations must be >= 0 (0 = unlimited); got {}", max_evaluations));
  DESCENT_REQUIRE(time_limit > 0.0, fmt::format("StopOptions::time_limit must be > 0 seconds; got {}", time_limit));
}

}  // namespace descent
