// The binary readers under a memory cap: crafted headers that claim
// billions of elements, and a gzip stream that inflates to all its header
// claims, are refused with a message (descent::parse_error) rather than
// allocated. Each case runs in a child process whose address space is
// capped at 1 GiB (setrlimit(RLIMIT_AS), what `ulimit -v` sets), so an
// allocation of what the input claims would fail there with bad_alloc or
// kill the child, and the test sees it.
//
// Skipped under AddressSanitizer, whose shadow memory needs terabytes of
// address space.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "descent/core/error.hpp"
#include "descent/data/idx.hpp"
#include "descent/io/safetensors.hpp"
#include "support/temp_dir.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define DESCENT_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DESCENT_UNDER_ASAN 1
#endif
#endif

namespace descent {
namespace {

constexpr rlim_t kCap = rlim_t(1) << 30;  // 1 GiB of address space

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>(v & 0xff)};
}

std::string idx_header(const std::vector<std::uint32_t>& dims) {
  std::string s{'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (const auto d : dims) s += be32(d);
  return s;
}

// What a child reports: 0 = refused with a parse_error that says `says`,
// 1 = refused with another message, 2 = accepted, 3 = out of memory,
// 4 = another exception. A child killed by a signal is reported as such.
enum Outcome { refused = 0, other_message, accepted, out_of_memory, other_exception };

int in_capped_child(const std::function<void()>& read, const std::string& says) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const struct rlimit cap {kCap, kCap};
    ::setrlimit(RLIMIT_AS, &cap);
    int outcome = accepted;
    try {
      read();
    } catch (const parse_error& e) {
      outcome = std::string(e.what()).find(says) != std::string::npos ? refused : other_message;
      if (outcome == other_message) std::fprintf(stderr, "refused with: %s\n", e.what());
    } catch (const std::bad_alloc&) {
      outcome = out_of_memory;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "threw: %s\n", e.what());
      outcome = other_exception;
    }
    ::_exit(outcome);
  }
  int raw = 0;
  ::waitpid(pid, &raw, 0);
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : 100 + WTERMSIG(raw);
}

class MemoryCap : public testing::TempDirTest {
 protected:
  void SetUp() override {
#ifdef DESCENT_UNDER_ASAN
    GTEST_SKIP() << "AddressSanitizer's shadow memory does not fit under an address-space cap";
#endif
    TempDirTest::SetUp();
  }
  std::string write(const std::string& name, const std::string& bytes) const {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  // A gzip file of `header` then `zeros` zero bytes, written a piece at a
  // time: a few hundred KiB that inflate to hundreds of MiB.
  std::string write_bomb(const std::string& name, const std::string& header, std::uint64_t zeros) const {
    const auto path = (dir_ / name).string();
    gzFile f = gzopen(path.c_str(), "wb9");
    EXPECT_NE(f, nullptr);
    gzwrite(f, header.data(), static_cast<unsigned>(header.size()));
    const std::vector<char> block(1 << 20, 0);
    for (std::uint64_t left = zeros; left > 0;) {
      const auto n = static_cast<unsigned>(std::min<std::uint64_t>(left, block.size()));
      gzwrite(f, block.data(), n);
      left -= n;
    }
    gzclose(f);
    return path;
  }
};

TEST_F(MemoryCap, IdxHeadersClaimingMoreThanMemoryAreRefusedBeforeReading) {
  // 2^31 - 1 images of one pixel: 8 GiB as float32, in a 100-byte file.
  const auto images = write("images.idx", idx_header({2147483647u, 1, 1}) + std::string(100, '\0'));
  const auto labels = write("labels.idx", idx_header({2147483647u}) + std::string(100, '\0'));
  EXPECT_EQ(in_capped_child([&] { data::load_idx(images, labels); }, "more than this process may hold"), refused);
  // 60000 images of 28 x 28, 188 MB as float32, in a file of 100 bytes: what
  // the file holds is read, and its end is reported.
  const auto short_images = write("short.idx", idx_header({60000, 28, 28}) + std::string(100, '\0'));
  const auto short_labels = write("short-labels.idx", idx_header({60000}) + std::string(60000, '\0'));
  EXPECT_EQ(in_capped_child([&] { data::load_idx(short_images, short_labels); }, "the file ends here"), refused);
}

TEST_F(MemoryCap, AGzipStreamThatInflatesToAllItsHeaderClaimsIsRefusedUpFront) {
  // 2^28 pixels, 1 GiB as float32: the stream really holds them all.
  const std::uint32_t rows = 1u << 20;
  const auto images = write_bomb("images.idx.gz", idx_header({rows, 16, 16}), std::uint64_t(rows) * 256);
  const auto labels = write_bomb("labels.idx.gz", idx_header({rows}), rows);
  EXPECT_LT(std::ifstream(images, std::ios::binary | std::ios::ate).tellg(), 1 << 20) << "a small file";
  EXPECT_EQ(in_capped_child([&] { data::load_idx(images, labels); }, "more than this process may hold"), refused);
}

TEST_F(MemoryCap, SafetensorsHeadersClaimingHugeTensorsAreRefused) {
  // A header length of 2^62, then a header whose tensor claims 2^40 floats
  // in a file of a few bytes, then one whose offsets run past the file.
  std::string huge_length(8, '\0');
  huge_length[7] = 0x40;
  const auto a = write("a.safetensors", huge_length + "{}");
  const std::string header = R"({"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4398046511104]}})";
  std::string length(8, '\0');
  for (int k = 0; k < 8; ++k) length[k] = static_cast<char>((header.size() >> (8 * k)) & 0xff);
  const auto b = write("b.safetensors", length + header + std::string(16, '\0'));
  for (const auto& path : {a, b})
    EXPECT_EQ(in_capped_child(
                  [&] {
                    const auto file = io::SafetensorsFile::read(path);
                    for (const auto& name : file.names()) (void)file.floats(name);
                  },
                  path),
              refused)
        << path;
}

}  // namespace
}  // namespace descent
