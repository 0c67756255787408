// data::load_libsvm on the input as a file, with the feature count taken
// from the file and with a fixed one.
#include "descent/core/error.hpp"
#include "descent/data/libsvm.hpp"
#include "fuzz/fuzz_target.hpp"

DESCENT_FUZZ_TARGET(libsvm) {
  const std::string path = descent::fuzz::write_scratch("input.svm", descent::fuzz::as_text(data, size));
  for (const descent::Index features : {0, 4}) {
    try {
      descent::data::load_libsvm(path, {.features = features}).validate();
    } catch (const descent::parse_error&) {
    }
  }
  return 0;
}
