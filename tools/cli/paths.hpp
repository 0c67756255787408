// The files a command reads and writes, checked before any work starts: a
// run that would fail to write its output, or that would write over one of
// its own inputs or outputs, is refused at once, with exit status 2, rather
// than after the training (docs/reliability.md, "Nothing lost, nothing crashes").
#pragma once

#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "descent/core/error.hpp"
#include "descent/io/file.hpp"

namespace descent::cli {

struct NamedPath {
  std::string flag;  // "--log", "-o", "a run log"
  std::string path;  // empty: not given, skipped
};

// Throws usage_error (or descent::invalid_argument, for an output that
// cannot be written) unless every input is a regular file (or missing, for
// the reader to report), every output can be written, and no output is an
// input or another output.
inline void check_paths(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
  for (const auto& in : inputs) {
    if (in.path.empty()) continue;
    if (const auto kind = io::special_file_kind(in.path); !kind.empty())
      throw usage_error(fmt::format("{} {}: it is {}; expected a regular file to read", in.flag, in.path, kind));
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& out = outputs[i];
    if (out.path.empty()) continue;
    io::require_writable_output(out.path, out.flag);  // invalid_argument: status 2, as a usage error
    for (const auto& in : inputs)
      if (!in.path.empty() && io::same_file(out.path, in.path))
        throw usage_error(fmt::format("{} {} is the file {} reads; writing it would destroy the input. Give "
                                      "another path",
                                      out.flag, out.path, in.flag));
    for (std::size_t k = 0; k < i; ++k)
      if (!outputs[k].path.empty() && io::same_file(out.path, outputs[k].path))
        throw usage_error(fmt::format("{} and {} name the same file, {}; give each its own", outputs[k].flag,
                                      out.flag, out.path));
  }
}

}  // namespace descent::cli
