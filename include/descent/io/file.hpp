// Writing result files so that a reader never sees half of one.
#pragma once

#include <string>
#include <string_view>

namespace descent::io {

// Writes `content` to a temporary file in the directory of `path`, flushes it
// to disk (fsync) and renames it over `path`, so `path` holds either its old
// content or all of the new. A new file gets mode 0644; an existing one keeps
// its mode. Throws std::runtime_error naming the path, the step that failed
// and the OS error (strerror) on failure, leaving an existing file intact
// and removing the temporary.
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace descent::io
