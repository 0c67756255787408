// io::SafetensorsFile::parse on the input, then what descent reads from such
// files: every accessor on every tensor, a writer round trip, an optimizer's
// state (optim::load_state, as a checkpoint is resumed) when the metadata
// names a stepper, and a model's weights by segment (as descent evaluate
// reads a file of descent train --save) when it names a model spec.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "descent/core/error.hpp"
#include "descent/io/safetensors.hpp"
#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"
#include "descent/optim/state_io.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

using descent::Index;
using descent::io::DType;
using descent::io::SafetensorsFile;
using descent::io::SafetensorsWriter;

// The largest stepper the state is loaded into: the file's parameter count
// is the run's, which a real run has allocated already.
constexpr Index kMostParameters = 1 << 12;

void check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz safetensors: %s\n", what);
  std::abort();
}

// Every accessor; typed reads of another dtype are refused with parse_error.
template <class T>
void read_as(const SafetensorsFile& file, const std::string& name, DType typed_as,
             std::vector<T> (SafetensorsFile::*values)(std::string_view) const) {
  try {
    const std::vector<T> v = (file.*values)(name);
    check(file.dtype(name) == typed_as, "a typed read of another dtype succeeded");
    check(static_cast<std::int64_t>(v.size()) == file.element_count(name), "a typed read has the wrong size");
    std::vector<T> out(v.size());
    file.read_into(name, std::span<T>(out));
    check(v.empty() || std::memcmp(out.data(), v.data(), v.size() * sizeof(T)) == 0,
          "read_into differs from the typed read");
  } catch (const descent::parse_error&) {
    check(file.dtype(name) != typed_as, "a typed read of the right dtype was refused");
  }
}

void read_everything(const SafetensorsFile& file) {
  for (const std::string& name : file.names()) {
    check(file.contains(name), "a listed name is not contained");
    const auto raw = file.raw(name);
    check(raw.size() == static_cast<std::size_t>(file.element_count(name)) * descent::io::dtype_size(file.dtype(name)),
          "raw bytes disagree with the shape");
    (void)file.shape(name);
    read_as<float>(file, name, DType::f32, &SafetensorsFile::floats);
    read_as<double>(file, name, DType::f64, &SafetensorsFile::doubles);
    read_as<std::int64_t>(file, name, DType::i64, &SafetensorsFile::int64s);
    read_as<std::int32_t>(file, name, DType::i32, &SafetensorsFile::int32s);
    read_as<std::uint8_t>(file, name, DType::u8, &SafetensorsFile::uint8s);
  }
}

// What parse accepted, written again, parses to the same tensors. (The
// writer is stricter about names, "" and invalid UTF-8, than a reader need
// be: those are refused with invalid_argument.)
void round_trip(const SafetensorsFile& file) {
  SafetensorsWriter writer;
  try {
    for (const std::string& name : file.names()) writer.add_raw(name, file.dtype(name), file.raw(name), file.shape(name));
    for (const auto& [key, value] : file.metadata()) writer.set_metadata(key, value);
  } catch (const descent::invalid_argument&) {
    return;
  }
  const SafetensorsFile again = SafetensorsFile::parse(writer.serialize(), "round trip");
  check(again.names() == file.names(), "the round trip changed the names");
  check(again.metadata() == file.metadata(), "the round trip changed the metadata");
  for (const std::string& name : file.names()) {
    const auto a = file.raw(name), b = again.raw(name);
    check(std::equal(a.begin(), a.end(), b.begin(), b.end()), "the round trip changed a tensor's bytes");
  }
}

const std::string* metadata(const SafetensorsFile& file, const std::string& key) {
  const auto it = file.metadata().find(key);
  return it == file.metadata().end() ? nullptr : &it->second;
}

// Loads the optimizer state into a fresh stepper of the method and size the
// metadata names, as resuming a run does.
template <class T>
void load_optimizer_state(const SafetensorsFile& file) {
  const std::string* method = metadata(file, "optim.method");
  const std::string* parameters = metadata(file, "optim.parameters");
  if (method == nullptr || parameters == nullptr) return;
  std::string name = *method;
  descent::optim::Hyperparameters hp;
  if (name.ends_with("+lookahead")) {
    name.resize(name.size() - std::string_view("+lookahead").size());
    hp["lookahead_k"] = 5;
  }
  Index n = 0;
  const auto [end, error] = std::from_chars(parameters->data(), parameters->data() + parameters->size(), n);
  if (!descent::optim::is_stepper_name(name) || error != std::errc() || n < 1 || n > kMostParameters) return;
  const descent::Vector<T> x0 = descent::Vector<T>::Zero(n);
  auto stepper = descent::optim::make_stepper<T>(name, descent::Layout::single(n), x0, hp);
  try {
    descent::optim::load_state(*stepper, file);
  } catch (const descent::parse_error&) {
  }
}

// Reads the weights of the model the metadata names, segment by segment.
template <class T>
void load_model_weights(const SafetensorsFile& file) {
  const std::string* spec = metadata(file, "model");
  if (spec == nullptr) return;
  try {
    const auto model = descent::nn::make_model<T>(*spec);
    for (const auto& segment : model.layout().segments()) {
      if (!file.contains(segment.name) || segment.length > kMostParameters) continue;
      std::vector<T> weights(static_cast<std::size_t>(segment.length));
      file.read_into(segment.name, std::span<T>(weights));
    }
  } catch (const descent::invalid_argument&) {  // not a spec
  } catch (const descent::parse_error&) {       // weights of another dtype or size
  }
}

}  // namespace

DESCENT_FUZZ_TARGET(safetensors) {
  std::string bytes(descent::fuzz::as_text(data, size));
  try {
    const SafetensorsFile file = SafetensorsFile::parse(std::move(bytes), "input.safetensors");
    read_everything(file);
    round_trip(file);
    load_optimizer_state<float>(file);
    load_optimizer_state<double>(file);
    load_model_weights<float>(file);
    load_model_weights<double>(file);
  } catch (const descent::parse_error&) {
  }
  return 0;
}
