// A model, its initialized weights and a stepper, for the trainer's tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"

namespace descent::testing {

struct TrainingSetup {
  nn::Model<float> model;
  Vector<float> x;
  std::unique_ptr<optim::Stepper<float>> stepper;
};

inline TrainingSetup training_setup(const std::string& spec, const std::string& method, std::uint64_t seed) {
  TrainingSetup s{nn::make_model<float>(spec), {}, nullptr};
  s.x.resize(s.model.num_parameters());
  s.model.initialize(s.x, seed);
  s.stepper = optim::make_stepper<float>(method, s.model.layout(), s.x);
  return s;
}

}  // namespace descent::testing
