// data::load_idx on the input as a file of labels when its header says one
// dimension, else as a file of images; raw or gzip, as the input comes. The
// other file of the pair is made to match the input's count (as far as its
// header can be read), so that a well-formed input gets past the count
// check and its body is read too. (One load per input: each opens two gzip
// streams, whose buffers cost more under the sanitizers than the parsing.)
#include <zlib.h>

#include <cstdint>
#include <string>

#include "descent/core/error.hpp"
#include "descent/data/idx.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

using descent::fuzz::write_scratch;

// The most samples the matching file holds data for; beyond it, only its
// header is written (and the load fails on one file or the other).
constexpr std::uint32_t kMostSamples = 1 << 16;

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>(v & 0xff)};
}

struct Claim {
  unsigned rank = 0;
  std::uint32_t count = 1;
};

// The rank and first size in the header of the IDX file at `path`
// (decompressed when it is gzip), as far as the file holds them.
Claim claim(const std::string& path) {
  Claim c;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return c;
  unsigned char header[8] = {};
  const int got = gzread(file, header, sizeof header);
  gzclose(file);
  if (got >= 4) c.rank = header[3];
  if (got == static_cast<int>(sizeof header))
    c.count = (std::uint32_t{header[4]} << 24) | (std::uint32_t{header[5]} << 16) | (std::uint32_t{header[6]} << 8) |
              std::uint32_t{header[7]};
  return c;
}

// An IDX file of `count` samples of one byte each, in `rank` dimensions
// (count x 1 x ... x 1); data only up to kMostSamples.
std::string samples(std::uint32_t count, unsigned rank) {
  std::string s{'\0', '\0', '\x08', static_cast<char>(rank)};
  s += be32(count);
  for (unsigned k = 1; k < rank; ++k) s += be32(1);
  if (count <= kMostSamples)
    for (std::uint32_t k = 0; k < count; ++k) s.push_back(static_cast<char>(k % 10));
  return s;
}

}  // namespace

DESCENT_FUZZ_TARGET(idx) {
  const std::string input = write_scratch("input-idx", descent::fuzz::as_text(data, size));
  const Claim c = claim(input);
  try {
    if (c.rank == 1) {
      const std::string images = write_scratch("images-idx3", samples(c.count, 3));
      descent::data::load_idx(images, input, {.scale = false}).validate();
    } else {
      const std::string labels = write_scratch("labels-idx1", samples(c.count, 1));
      descent::data::load_idx(input, labels).validate();
    }
  } catch (const descent::parse_error&) {
  }
  return 0;
}
