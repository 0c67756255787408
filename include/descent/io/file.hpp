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

// Removes the temporaries that write_file_atomically(path, ...) calls left
// behind when their process was killed mid-write (".NAME.tmp-XXXXXX" beside
// `path`); returns how many. For a writer that owns `path`, before its first
// write: another process writing the same path at the same time would lose
// its temporary.
int remove_stale_temporaries(const std::string& path);

}  // namespace descent::io
