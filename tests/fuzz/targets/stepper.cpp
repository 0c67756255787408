// The stepper flags of descent minimize and descent train, parsed as the CLI
// parses them (cli::StepperFlags::hyperparameters_map, cli::parse_double),
// then optim::make_stepper by name with those hyper-parameters, and two
// steps of the stepper it builds.
//
// The input, one item a line:
//   METHOD                 first line: adam, muon, sgd, ...
//   lookahead=K,ALPHA      as --lookahead K,ALPHA
//   nesterov               as --nesterov
//   clip_norm=V, l1=V      as --clip-norm V, --l1 V
//   KEY=VALUE              anything else, as --hp KEY=VALUE
#include <string>
#include <string_view>

#include "descent/core/error.hpp"
#include "descent/optim/factory.hpp"
#include "fuzz/fuzz_target.hpp"
#include "stepper_flags.hpp"
#include "commands.hpp"

namespace {

using descent::Index;

// Newton-Schulz iterations per Muon step: more are valid, and only slow
// (the count is what the caller asked for), so the step is skipped.
constexpr double kMostNsSteps = 100;

struct Parsed {
  std::string method;
  descent::cli::StepperFlags flags;
};

// False when a number is malformed (the CLI refuses it before any parsing
// of ours: CLI11 reads --clip-norm and --l1).
bool parse(std::string_view text, Parsed& out) {
  bool first = true;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string line(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (first) {
      out.method = line;
      first = false;
    } else if (line.starts_with("lookahead=")) {
      out.flags.lookahead = line.substr(10);
    } else if (line == "nesterov") {
      out.flags.nesterov = true;
    } else if (line.starts_with("clip_norm=")) {
      if (!descent::cli::parse_double(line.substr(10), out.flags.clip_norm)) return false;
    } else if (line.starts_with("l1=")) {
      if (!descent::cli::parse_double(line.substr(3), out.flags.l1)) return false;
    } else {
      out.flags.hyperparameters.push_back(line);
    }
  }
  return true;
}

// A 2 x 3 matrix and a vector of 3, so that the shape-aware methods (Muon,
// Adafactor) see both kinds of segment.
descent::Layout layout() {
  descent::Layout l;
  l.add("w", 2, 3);
  l.add("b", 3);
  return l;
}

}  // namespace

DESCENT_FUZZ_TARGET(stepper) {
  Parsed p;
  if (!parse(descent::fuzz::as_text(data, size), p)) return 0;
  descent::optim::Hyperparameters hp;
  try {
    hp = p.flags.hyperparameters_map();
  } catch (const descent::cli::usage_error&) {
    return 0;
  }
  const auto ns_steps = hp.find("ns_steps");
  const bool slow = ns_steps != hp.end() && ns_steps->second > kMostNsSteps;
  try {
    const descent::Layout l = layout();
    descent::Vector<float> x = descent::Vector<float>::LinSpaced(l.size(), -1.0f, 1.0f);
    auto stepper = descent::optim::make_stepper<float>(p.method, l, x, hp, p.flags.regularization());
    (void)stepper->name();
    if (slow) return 0;
    const descent::Vector<float> g = descent::Vector<float>::LinSpaced(l.size(), 0.5f, -0.5f);
    stepper->step(x, g, 0.1f);
    stepper->step(x, g, 0.1f);
  } catch (const descent::invalid_argument&) {
  }
  return 0;
}
