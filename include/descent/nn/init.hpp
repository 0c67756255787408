// Weight initialization, seeded.
//
// fan_in and fan_out count the inputs and outputs of one unit: for a linear
// layer [O, F] they are F and O; for a convolution [O, C, KH, KW] they are
// C*KH*KW and O*KH*KW.
//
//   xavier_uniform  U(-a, a), a = gain sqrt(6 / (fan_in + fan_out))
//                   (Glorot and Bengio, AISTATS 2010)
//   xavier_normal   N(0, s^2), s = gain sqrt(2 / (fan_in + fan_out))
//   kaiming_uniform U(-a, a), a = gain sqrt(3 / fan_in)
//   kaiming_normal  N(0, s^2), s = gain / sqrt(fan_in)
//                   (He et al., ICCV 2015; gain sqrt(2) for ReLU)
//   torch_default   U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default
//                   for Linear and Conv2d weights and biases
#pragma once

#include <span>
#include <string>

#include "descent/core/random.hpp"
#include "descent/core/types.hpp"

namespace descent::nn {

enum class Init { xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal, torch_default, zeros, constant };

// The gain that keeps activations' variance through a nonlinearity:
// sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu, 5/3 for tanh,
// 1 otherwise (linear, sigmoid, gelu).
double gain_for(const std::string& activation, double negative_slope = 0.01);

struct InitOptions {
  Init method = Init::kaiming_uniform;
  double gain = 1.4142135623730951;  // sqrt(2), for ReLU; > 0
  double value = 0;                  // for Init::constant
};

// Fills w by `options`; fan_in and fan_out >= 1.
template <class T>
void initialize(std::span<T> w, Index fan_in, Index fan_out, const InitOptions& options, Rng& rng);

// "xavier_uniform", "kaiming_normal", ... ; throws descent::invalid_argument
// listing the names otherwise.
Init parse_init(const std::string& name);
std::string init_name(Init method);

}  // namespace descent::nn
