#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "fuzz/fuzz_target.hpp"

namespace descent::fuzz {
namespace {

namespace fs = std::filesystem;

// The directory, made on first use and removed with everything in it when
// the process exits normally.
class ScratchDir {
 public:
  ScratchDir() : path_(fs::temp_directory_path() / ("descent-fuzz-" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

std::string scratch_path(const std::string& name) {
  static const ScratchDir dir;
  return (dir.path() / name).string();
}

std::string write_scratch(const std::string& name, std::string_view content) {
  const std::string path = scratch_path(name);
  std::error_code ignored;
  fs::remove(path, ignored);
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw std::runtime_error("fuzz: cannot write the scratch file " + path);
  return path;
}

}  // namespace descent::fuzz
