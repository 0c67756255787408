#include "descent/nn/init.hpp"

#include <array>
#include <cmath>
#include <utility>

#include "descent/core/error.hpp"

namespace descent::nn {

namespace {
constexpr std::array<std::pair<Init, const char*>, 7> kNames{{{Init::xavier_uniform, "xavier_uniform"},
                                                              {Init::xavier_normal, "xavier_normal"},
                                                              {Init::kaiming_uniform, "kaiming_uniform"},
                                                              {Init::kaiming_normal, "kaiming_normal"},
                                                              {Init::torch_default, "torch_default"},
                                                              {Init::zeros, "zeros"},
                                                              {Init::constant, "constant"}}};
}  // namespace

double gain_for(const std::string& activation, double negative_slope) {
  if (activation == "relu") return std::sqrt(2.0);
  if (activation == "leaky_relu") return std::sqrt(2.0 / (1 + negative_slope * negative_slope));
  if (activation == "tanh") return 5.0 / 3.0;
  return 1.0;
}

template <class T>
void initialize(std::span<T> w, Index fan_in, Index fan_out, const InitOptions& options, Rng& rng) {
  require(fan_in >= 1 && fan_out >= 1, "initialize: fan_in = " + std::to_string(fan_in) + " and fan_out = " +
                                           std::to_string(fan_out) + ", expected >= 1");
  require(options.gain > 0, "initialize: gain = " + std::to_string(options.gain) + ", expected > 0");
  const double g = options.gain;
  const auto uniform = [&](double a) {
    for (T& v : w) v = static_cast<T>(rng.uniform(-a, a));
  };
  const auto normal = [&](double s) {
    for (T& v : w) v = static_cast<T>(s * rng.normal());
  };
  switch (options.method) {
    case Init::xavier_uniform: return uniform(g * std::sqrt(6.0 / double(fan_in + fan_out)));
    case Init::xavier_normal: return normal(g * std::sqrt(2.0 / double(fan_in + fan_out)));
    case Init::kaiming_uniform: return uniform(g * std::sqrt(3.0 / double(fan_in)));
    case Init::kaiming_normal: return normal(g / std::sqrt(double(fan_in)));
    case Init::torch_default: return uniform(1.0 / std::sqrt(double(fan_in)));
    case Init::zeros:
      for (T& v : w) v = T(0);
      return;
    case Init::constant:
      for (T& v : w) v = static_cast<T>(options.value);
      return;
  }
}

Init parse_init(const std::string& name) {
  std::string known;
  for (const auto& [method, text] : kNames) {
    if (name == text) return method;
    known += known.empty() ? text : std::string(", ") + text;
  }
  throw invalid_argument("unknown initializer '" + name + "' (known: " + known + ")");
}

std::string init_name(Init method) {
  for (const auto& [m, text] : kNames)
    if (m == method) return text;
  return "unknown";
}

template void initialize<float>(std::span<float>, Index, Index, const InitOptions&, Rng&);
template void initialize<double>(std::span<double>, Index, Index, const InitOptions&, Rng&);

}  // namespace descent::nn
