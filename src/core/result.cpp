#include "descent/core/result.hpp"

#include <fmt/format.h>

namespace descent {

template <class T>
std::string Result<T>::brief_report() const {
  return fmt::format("{}: f = {:.9g}, |g| = {:.3g}, {} iterations, {} f / {} g / {} H evaluations",
                     to_string(status), double(value), double(gradient_norm), iterations,
                     value_evaluations, gradient_evaluations, hessian_evaluations);
}

template <class T>
std::string Result<T>::full_report() const {
  std::string s = fmt::format(
      "status:        {}\n"
      "message:       {}\n"
      "f:             {:.17g}\n"
      "gradient norm: {:.6g}\n"
      "iterations:    {}\n"
      "evaluations:   {} value, {} gradient, {} Hessian\n"
      "seconds:       {:.6f}\n",
      to_string(status), message, double(value), double(gradient_norm), iterations,
      value_evaluations, gradient_evaluations, hessian_evaluations, seconds);
  if (diverged_at >= 0) s += fmt::format("diverged at:   iteration {}\n", diverged_at);
  return s;
}

template struct Result<float>;
template struct Result<double>;

}  // namespace descent
