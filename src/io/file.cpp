#include "descent/io/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace descent::io {
namespace {

[[noreturn]] void fail(const std::string& path, const char* step, int error) {
  throw std::runtime_error(
      fmt::format("cannot write '{}': {}: {}", path, step, std::strerror(error)));
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view content) {
  // The temporary lives beside the target, so the rename stays within one
  // file system and is atomic.
  const std::filesystem::path target(path);
  const std::filesystem::path directory =
      target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  const std::string pattern =
      (directory / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  std::vector<char> temp(pattern.begin(), pattern.end());
  temp.push_back('\0');

  const int fd = ::mkstemp(temp.data());
  if (fd < 0) fail(path, "creating a temporary file beside it", errno);
  const std::string temp_path(temp.data());

  // From here on, failure removes the temporary and leaves `path` alone.
  auto abandon = [&](const char* step) {
    const int error = errno;
    ::close(fd);
    ::unlink(temp_path.c_str());
    fail(path, step, error);
  };

  // mkstemp makes the file 0600; give it the target's mode, or 0644.
  struct stat existing {};
  const mode_t mode = ::stat(path.c_str(), &existing) == 0 ? (existing.st_mode & 07777) : 0644;
  if (::fchmod(fd, mode) != 0) abandon("setting the mode of the temporary file");

  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t written = ::write(fd, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      abandon("writing the temporary file");
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  if (::fsync(fd) != 0) abandon("flushing the temporary file to disk");
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp_path.c_str());
    fail(path, "closing the temporary file", error);
  }
  if (::rename(temp_path.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp_path.c_str());
    fail(path, "renaming the temporary file over it", error);
  }

  // Make the rename itself durable; a failure here no longer loses data, so
  // it is not reported.
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

int remove_stale_temporaries(const std::string& path) {
  const std::filesystem::path target(path);
  const std::filesystem::path directory =
      target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  const std::string prefix = "." + target.filename().string() + ".tmp-";
  int removed = 0;
  std::error_code error;
  for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    // mkstemp's six characters after the prefix, nothing else.
    if (name.size() == prefix.size() + 6 && name.compare(0, prefix.size(), prefix) == 0 &&
        it->is_regular_file(error)) {
      std::error_code ignored;
      if (std::filesystem::remove(it->path(), ignored)) ++removed;
    }
  }
  return removed;
}

}  // namespace descent::io
