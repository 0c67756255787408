// descent lr-find's settings, which descent train --lr auto shares.
#pragma once

#include <string>

#include "descent/train/lr_find.hpp"
#include "train_flags.hpp"

namespace descent::cli {

struct RangeFlags {
  double lr_min = 1e-7, lr_max = 10, divergence = 4;
  Index steps = 200;
  std::string plot;
  bool json = false;
};

// The range test's options: the training flags' batch size, l2 and seed,
// and the test's own.
train::RangeTestOptions range_test_options(const Flags& f, const RangeFlags& r);

}  // namespace descent::cli
