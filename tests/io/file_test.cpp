#include "descent/io/file.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

#include <signal.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace descent::io {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class WriteFileAtomically : public descent::testing::TempDirTest {};

TEST_F(WriteFileAtomically, WritesThenReplacesContentLeavingNoTemporary) {
  const fs::path target = dir_ / "out.svg";
  write_file_atomically(target.string(), "first version");
  EXPECT_EQ(read_all(target), "first version");
  write_file_atomically(target.string(), std::string("second\0binary", 13));
  EXPECT_EQ(read_all(target), std::string("second\0binary", 13));
  write_file_atomically(target.string(), "");
  EXPECT_EQ(read_all(target), "");
  EXPECT_EQ(entries(), 1u);
  const auto perms = fs::status(target).permissions();
  EXPECT_NE(perms & fs::perms::others_read, fs::perms::none) << "a new file is 0644, not 0600";
}

TEST_F(WriteFileAtomically, WritesARelativePathInTheCurrentDirectory) {
  const fs::path previous = fs::current_path();
  fs::current_path(dir_);
  write_file_atomically("plain.txt", "x");
  fs::current_path(previous);
  EXPECT_EQ(read_all(dir_ / "plain.txt"), "x");
}

TEST_F(WriteFileAtomically, ThrowsNamingThePathAndTheOsErrorForAMissingDirectory) {
  const std::string target = (dir_ / "no-such-dir" / "out.svg").string();
  try {
    write_file_atomically(target, "content");
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(target), std::string::npos) << message;
    EXPECT_NE(message.find(std::strerror(ENOENT)), std::string::npos) << message;
  }
  EXPECT_EQ(entries(), 0u);
}

TEST_F(WriteFileAtomically, LeavesTheTargetIntactWhenTheRenameFails) {
  // Tests run as root, so permissions cannot make a write fail; a directory
  // in the way of the rename can.
  const fs::path target = dir_ / "occupied";
  fs::create_directory(target);
  std::ofstream(target / "keep.txt") << "kept";
  EXPECT_THROW(write_file_atomically(target.string(), "new"), std::runtime_error);
  EXPECT_TRUE(fs::is_directory(target));
  EXPECT_EQ(read_all(target / "keep.txt"), "kept");
  EXPECT_EQ(entries(), 1u) << "the temporary file was not removed";
}

TEST_F(WriteFileAtomically, AFileSizeLimitFailsTheWriteAndKeepsTheOldContent) {
  // A full disk, as far as write(2) is concerned: EFBIG past RLIMIT_FSIZE.
  const fs::path target = dir_ / "model.safetensors";
  write_file_atomically(target.string(), "the old content");
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{}, limited{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  limited = saved;
  limited.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  std::string error;
  try {
    write_file_atomically(target.string(), std::string(4096, 'x'));
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  EXPECT_NE(error.find(target.string()), std::string::npos) << error;
  EXPECT_NE(error.find("writing the temporary file: File too large"), std::string::npos) << error;
  EXPECT_EQ(read_all(target), "the old content");
  EXPECT_EQ(entries(), 1u) << "the temporary file was not removed";
}

TEST_F(WriteFileAtomically, StaleTemporariesOfOnePathAreRemovedAndNothingElse) {
  const fs::path target = dir_ / "run.ckpt";
  std::ofstream(target) << "checkpoint";
  for (const char* name : {".run.ckpt.tmp-a1B2c3", ".run.ckpt.tmp-zzzzzz", ".run.ckpt.tmp-short", ".other.tmp-a1B2c3",
                           "run.ckpt.tmp-a1B2c3"})
    std::ofstream(dir_ / name) << "x";
  EXPECT_EQ(remove_stale_temporaries(target.string()), 2);
  EXPECT_TRUE(fs::exists(target));
  EXPECT_TRUE(fs::exists(dir_ / ".run.ckpt.tmp-short"));
  EXPECT_TRUE(fs::exists(dir_ / ".other.tmp-a1B2c3"));
  EXPECT_TRUE(fs::exists(dir_ / "run.ckpt.tmp-a1B2c3"));
  EXPECT_EQ(remove_stale_temporaries((dir_ / "missing" / "run.ckpt").string()), 0);
}

}  // namespace
}  // namespace descent::io
