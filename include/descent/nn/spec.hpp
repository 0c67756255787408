// Models from a one-line spec, as the CLI and benchmarks name them.
//
//   linear:F[-O]           linear regression, F inputs, O outputs (1); loss mse
//   logistic:F             binary logistic regression; loss bce (targets 0/1)
//   logistic:F-K           multinomial logistic regression, K >= 2 classes;
//                          loss cross_entropy
//   mlp:F-H1-...-O[:ACT]   multi-layer perceptron, ACT between layers (relu;
//                          also leaky_relu, tanh, sigmoid, gelu); loss
//                          cross_entropy, or mse when O = 1
//   cnn:lenet              28x28 images: Conv(1->6, 5x5, pad 2) ReLU MaxPool
//                          Conv(6->16, 5x5) ReLU MaxPool, Linear(400, 120)
//                          ReLU Linear(120, 10); loss cross_entropy
//
// Linear and logistic models start from zero weights (a convex problem: the
// same start every time). Networks draw He (Kaiming) uniform weights for
// ReLU-like activations and Glorot (Xavier) uniform for tanh and sigmoid,
// with the activation's gain (init.hpp), and zero biases.
#pragma once

#include <string>

#include "descent/nn/model.hpp"

namespace descent::nn {

// Throws descent::invalid_argument naming the spec and the expected form,
// or saying that the model would have more than 2^40 parameters.
template <class T>
Model<T> make_model(const std::string& spec);

// The lines above, for --help.
std::string model_spec_help();

}  // namespace descent::nn
