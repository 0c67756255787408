// Shared by the fuzz targets in tests/fuzz/targets/.
//
// Each target is one function of the input bytes, declared with
// DESCENT_FUZZ_TARGET(name). Built by scripts/fuzz.sh (clang, libFuzzer) it
// is the program's LLVMFuzzerTestOneInput; built into the test suite
// (DESCENT_FUZZ_REPLAY, any compiler) it is descent::fuzz::run_<name>, so
// that every target links into one executable that replays the corpora.
//
// A target returns normally when the library accepts the input or refuses
// it with the exception it documents for bad input (descent::parse_error,
// descent::invalid_argument, ...). Anything else, a crash, a sanitizer
// report, an input that takes over a second, any other exception
// (std::bad_alloc included), escapes and is a bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#ifdef DESCENT_FUZZ_REPLAY
#define DESCENT_FUZZ_TARGET(name) \
  int descent::fuzz::run_##name(const std::uint8_t* data, std::size_t size)
#else
#define DESCENT_FUZZ_TARGET(name) \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
#endif

namespace descent::fuzz {

// Every target, for the replay test: X(name) for each.
#define DESCENT_FUZZ_TARGETS(X) \
  X(csv)                        \
  X(idx)                        \
  X(libsvm)                     \
  X(safetensors)                \
  X(model_spec)                 \
  X(schedule)                   \
  X(stepper)

#define DESCENT_FUZZ_DECLARE(name) int run_##name(const std::uint8_t* data, std::size_t size);
DESCENT_FUZZ_TARGETS(DESCENT_FUZZ_DECLARE)
#undef DESCENT_FUZZ_DECLARE

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The path of a scratch file called `name` in a directory of this process's
// own under the system's temporary directory ($TMPDIR or /tmp), removed when
// the process exits. The loaders that take paths read the input from there.
std::string scratch_path(const std::string& name);

// Writes `content` to scratch_path(name) and returns the path. The old file
// is removed first, not truncated: truncating a file makes ext4 flush it,
// which would cost milliseconds per input.
std::string write_scratch(const std::string& name, std::string_view content);

}  // namespace descent::fuzz
