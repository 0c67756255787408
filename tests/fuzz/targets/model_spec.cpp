// nn::make_model on the input as a model spec ("mlp:784-256-10:gelu", ...),
// in both precisions; a model it builds is summarized and, when small,
// initialized, as descent train does next.
#include <string>

#include "descent/core/error.hpp"
#include "descent/nn/spec.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

// Models up to this many parameters are initialized (larger ones are
// valid, and only slow to draw).
constexpr descent::Index kMostInitialized = 1 << 16;

template <class T>
void build(const std::string& spec) {
  try {
    auto model = descent::nn::make_model<T>(spec);
    (void)model.summary();
    if (model.num_parameters() > kMostInitialized) return;
    descent::Vector<T> params(model.num_parameters());
    model.initialize(params, 1);
  } catch (const descent::invalid_argument&) {
  }
}

}  // namespace

DESCENT_FUZZ_TARGET(model_spec) {
  const std::string spec(descent::fuzz::as_text(data, size));
  build<float>(spec);
  build<double>(spec);
  return 0;
}
