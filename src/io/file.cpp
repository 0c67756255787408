#include "descent/io/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "descent/core/error.hpp"

namespace descent::io {
namespace {

[[noreturn]] void fail(const std::string& path, const char* step, int error) {
  throw std::runtime_error(
      fmt::format("cannot write '{}': {}: {}", path, step, std::strerror(error)));
}

std::filesystem::path directory_of(const std::string& path) {
  const std::filesystem::path target(path);
  return target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
}

std::string kind_of(mode_t mode) {
  if (S_ISREG(mode)) return "";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// mkstemp beside `path`: the temporary's name and its descriptor.
std::pair<std::string, int> make_temporary(const std::string& path) {
  const std::filesystem::path target(path);
  const std::string pattern = (directory_of(path) / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  std::vector<char> temp(pattern.begin(), pattern.end());
  temp.push_back('\0');
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) fail(path, "creating a temporary file beside it", errno);
  return {std::string(temp.data()), fd};
}

// Gives the temporary the target's mode, or 0644 (mkstemp makes it 0600).
bool copy_mode(int fd, const std::string& path) {
  struct stat existing {};
  const mode_t mode = ::stat(path.c_str(), &existing) == 0 ? (existing.st_mode & 07777) : 0644;
  return ::fchmod(fd, mode) == 0;
}

// write(2) until all of `content` is written; false with errno on failure.
bool write_all(int fd, std::string_view content) {
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t written = ::write(fd, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  return true;
}

}  // namespace

std::string special_file_kind(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return "";
  return kind_of(info.st_mode);
}

void require_regular_input(const std::string& path) {
  const std::string kind = special_file_kind(path);
  if (!kind.empty()) throw parse_error(path, 0, fmt::format("cannot read it: it is {}, not a regular file", kind));
}

void require_writable_output(const std::string& path, std::string_view flag) {
  if (path.empty()) throw invalid_argument(fmt::format("{}: expected a file path, got an empty one", flag));
  const std::string kind = special_file_kind(path);
  if (!kind.empty())
    throw invalid_argument(fmt::format("{} {}: it is {}; expected a regular file to write (or a new path)", flag,
                                       path, kind));
  const std::filesystem::path directory = directory_of(path);
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0)
    throw invalid_argument(fmt::format("{} {}: the directory '{}' {}", flag, path, directory.string(),
                                       errno == ENOENT ? "does not exist" : std::strerror(errno)));
  if (!S_ISDIR(info.st_mode))
    throw invalid_argument(fmt::format("{} {}: '{}' is not a directory", flag, path, directory.string()));
  // The file is written as a temporary beside it, then renamed: the
  // directory must take new files.
  if (::access(directory.c_str(), W_OK | X_OK) != 0)
    throw invalid_argument(fmt::format("{} {}: cannot write in the directory '{}': {}", flag, path,
                                       directory.string(), std::strerror(errno)));
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat x {}, y {};
  if (::stat(a.c_str(), &x) == 0 && ::stat(b.c_str(), &y) == 0) return x.st_dev == y.st_dev && x.st_ino == y.st_ino;
  std::error_code error;
  const auto ca = std::filesystem::weakly_canonical(a, error);
  if (error) return false;
  const auto cb = std::filesystem::weakly_canonical(b, error);
  return !error && ca == cb;
}

void write_file_atomically(const std::string& path, std::string_view content) {
  // The temporary lives beside the target, so the rename stays within one
  // file system and is atomic.
  const std::filesystem::path directory = directory_of(path);
  const auto temporary = make_temporary(path);
  const std::string& temp_path = temporary.first;
  const int fd = temporary.second;

  // From here on, failure removes the temporary and leaves `path` alone.
  auto abandon = [&](const char* step) {
    const int error = errno;
    ::close(fd);
    ::unlink(temp_path.c_str());
    fail(path, step, error);
  };

  if (!copy_mode(fd, path)) abandon("setting the mode of the temporary file");
  if (!write_all(fd, content)) abandon("writing the temporary file");
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
  const std::filesystem::path directory = directory_of(path);
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

StreamedFile::StreamedFile(std::string path) : path_(std::move(path)) {
  std::tie(temporary_, fd_) = make_temporary(path_);
  if (!copy_mode(fd_, path_)) {
    const int error = errno;
    ::close(fd_);
    ::unlink(temporary_.c_str());
    fail(path_, "setting the mode of the temporary file", error);
  }
}

StreamedFile::~StreamedFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!published_) ::unlink(temporary_.c_str());
}

void StreamedFile::write(std::string_view text) {
  if (!write_all(fd_, text)) fail(path_, published_ ? "appending to it" : "writing the temporary file", errno);
}

void StreamedFile::publish() {
  if (published_) return;
  if (::rename(temporary_.c_str(), path_.c_str()) != 0) fail(path_, "renaming the temporary file over it", errno);
  published_ = true;
}

}  // namespace descent::io
