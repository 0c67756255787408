#include "descent/data/idx.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "descent/core/error.hpp"
#include "descent/core/memory.hpp"
#include "descent/io/file.hpp"

namespace descent::data {
namespace {

// The most elements one file may declare: 2^31 (2 GiB of bytes, 8 GiB as
// float), far above any IDX data set in use.
constexpr std::uint64_t kMaxElements = std::uint64_t{1} << 31;

[[noreturn]] void fail(const std::string& path, std::uint64_t offset, const std::string& message) {
  throw parse_error(path, static_cast<std::int64_t>(offset), fmt::format("byte {}: {}", offset, message));
}

// A file read through zlib, which passes a file that is not gzip through
// unchanged. Counts the bytes delivered, for messages.
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {
    io::require_regular_input(path);  // /dev/zero would decompress for ever
    errno = 0;
    file_ = ::gzopen(path.c_str(), "rb");
    if (file_ == nullptr)
      throw parse_error(
          path, 0,
          fmt::format("cannot open the file: {}", errno != 0 ? std::strerror(errno) : "out of memory in zlib"));
    ::gzbuffer(file_, 1 << 17);
    // The most bytes the file can decompress to: its size when it is not
    // gzip, else deflate's best ratio, 1032:1, times its size.
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
      const auto size = static_cast<std::uint64_t>(info.st_size);
      most_bytes_ = ::gzdirect(file_) == 1 ? size : size * 1032;
    }
  }
  ~Reader() { ::gzclose(file_); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Up to `n` bytes into `buffer`: fewer only at the end of the data.
  // Throws parse_error when the file cannot be read or its gzip data is
  // corrupt.
  std::size_t read(void* buffer, std::size_t n) {
    auto* out = static_cast<unsigned char*>(buffer);
    std::size_t got = 0;
    while (got < n) {
      const auto ask = static_cast<unsigned>(std::min<std::size_t>(n - got, std::size_t{1} << 30));
      const int r = ::gzread(file_, out + got, ask);
      if (r < 0) report_error();
      if (r == 0) {
        // A gzip stream cut short ends with Z_BUF_ERROR: the caller reports
        // the end of the data; note why.
        int code = Z_OK;
        ::gzerror(file_, &code);
        if (code == Z_BUF_ERROR)
          cut_short_ = true;
        else if (code != Z_OK)
          report_error();
        break;
      }
      got += static_cast<std::size_t>(r);
      offset_ += static_cast<std::uint64_t>(r);
    }
    return got;
  }

  std::uint64_t offset() const { return offset_; }
  bool cut_short() const { return cut_short_; }
  // An upper bound on the bytes the file holds (0 when unknown), to reserve
  // memory by; no promise that they are there.
  std::uint64_t most_bytes() const { return most_bytes_; }
  // Why the data ended, for a message about a file that ends early.
  std::string end_note() const { return cut_short_ ? " (the gzip stream is cut short)" : ""; }

 private:
  [[noreturn]] void report_error() {
    int code = Z_OK;
    std::string_view message = ::gzerror(file_, &code);
    // zlib's message starts with the path.
    if (message.starts_with(path_ + ": ")) message.remove_prefix(path_.size() + 2);
    if (code == Z_ERRNO) fail(path_, offset_, fmt::format("cannot read the file: {}", message));
    fail(path_, offset_, fmt::format("corrupt gzip data: {}", message));
  }

  const std::string& path_;
  gzFile file_ = nullptr;
  std::uint64_t offset_ = 0;
  bool cut_short_ = false;
  std::uint64_t most_bytes_ = 0;
};

const char* type_name(unsigned type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return nullptr;
  }
}

struct Header {
  std::vector<std::uint32_t> dims;
  std::uint64_t elements = 0;  // product of dims
  std::uint64_t size = 0;      // header bytes
  std::string shape() const {
    std::string s;
    for (std::size_t k = 0; k < dims.size(); ++k) s += fmt::format("{}{}", k ? " x " : "", dims[k]);
    return s;
  }
};

Header read_header(Reader& in, const std::string& path, const char* what, unsigned min_rank, unsigned max_rank) {
  std::array<unsigned char, 4> magic{};
  const std::size_t got = in.read(magic.data(), magic.size());
  if (got == 0)
    fail(path, 0,
         fmt::format("expected the IDX magic number of a file of {}, found an empty file{}", what, in.end_note()));
  if (got < magic.size())
    fail(path, got, fmt::format("the file ends inside the 4-byte IDX magic number{}", in.end_note()));
  if (magic[0] != 0 || magic[1] != 0) {
    const bool gzip = magic[0] == 0x1f && magic[1] == 0x8b;
    fail(path, 0,
         fmt::format("expected the IDX magic number 00 00 08 0{} (a file of {}), found {:02x} {:02x} {:02x} {:02x}{}",
                     min_rank == 1 ? 1 : 3, what, magic[0], magic[1], magic[2], magic[3],
                     gzip ? " (a gzip header inside the data: is the file compressed twice?)" : ""));
  }
  if (magic[2] != 0x08) {
    if (const char* name = type_name(magic[2]))
      fail(path, 2,
           fmt::format("element type 0x{:02X} ({}) is not supported: expected 0x08 (unsigned byte)", magic[2], name));
    fail(path, 2,
         fmt::format("expected the element type 0x08 (unsigned byte), found 0x{:02X}, which is no IDX type", magic[2]));
  }
  const unsigned rank = magic[3];
  if (rank < min_rank || rank > max_rank) {
    fail(path, 3,
         min_rank == max_rank
             ? fmt::format("expected {} dimension{} in a file of {}, found {}", min_rank, min_rank == 1 ? "" : "s",
                           what, rank)
             : fmt::format("expected {} to {} dimensions in a file of {}, found {}", min_rank, max_rank, what, rank));
  }
  Header h;
  h.elements = 1;
  for (unsigned k = 0; k < rank; ++k) {
    std::array<unsigned char, 4> b{};
    const std::uint64_t at = in.offset();
    const std::size_t n = in.read(b.data(), b.size());
    if (n < b.size())
      fail(path, in.offset(),
           fmt::format("the file ends inside the header: expected the size of dimension {} of {} "
                       "at bytes {}..{}{}",
                       k + 1, rank, at, at + 3, in.end_note()));
    const std::uint32_t size =
        (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    if (size == 0) fail(path, at, fmt::format("dimension {} of {} is 0: expected a positive size", k + 1, rank));
    h.dims.push_back(size);
    h.elements *= size;  // at most 2^31 * 2^32: no overflow before the check
    if (h.elements > kMaxElements) {
      // Say the whole claimed shape when the file has it.
      fail(path, 4,
           fmt::format("the dimensions {}{} hold more than 2^31 elements, the most this loader reads", h.shape(),
                       k + 1 < rank ? " x ..." : ""));
    }
  }
  h.size = in.offset();
  return h;
}

// The elements the header declares, read as they come; those of the rows in
// `kept` (every row when it is null; a row being the elements of one entry
// of the first dimension) are appended to `out` through `value`, so that a
// header claiming more than the file holds costs only what the file holds,
// and rows not kept cost nothing. `out` is reserved up front only for the
// kept rows, and only as far as the file could hold (Reader::most_bytes).
// Every byte is read either way: a file that ends early or holds more than
// its header says fails alike whatever is kept.
void read_body(Reader& in, const std::string& path, const Header& h, const char* what,
               const std::array<float, 256>& value, const std::vector<Index>* kept, std::vector<float>& out) {
  const std::uint64_t row_bytes = h.elements / h.dims[0];
  const std::uint64_t could_hold = in.most_bytes() > h.size ? in.most_bytes() - h.size : 0;
  const std::uint64_t wanted = kept == nullptr ? h.elements : kept->size() * row_bytes;
  out.reserve(static_cast<std::size_t>(std::min(wanted, could_hold)));
  std::vector<unsigned char> chunk(std::size_t{1} << 16);
  // Grown a piece at a time (zeroing at most 256 KiB that stays in cache),
  // then filled: cheaper than a push_back per element.
  auto append = [&](std::size_t from, std::size_t to) {
    const std::size_t at = out.size();
    out.resize(at + (to - from));
    std::transform(chunk.begin() + static_cast<std::ptrdiff_t>(from), chunk.begin() + static_cast<std::ptrdiff_t>(to),
                   out.begin() + static_cast<std::ptrdiff_t>(at), [&](unsigned char b) { return value[b]; });
  };
  std::uint64_t have = 0;
  std::size_t next = 0;  // the first entry of `kept` not yet appended whole
  while (have < h.elements) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), h.elements - have));
    const std::size_t got = in.read(chunk.data(), want);
    if (kept == nullptr) {
      append(0, got);
    } else {
      // The chunk holds bytes [have, end) of the body: append the parts of
      // kept rows in it. A row that goes on past the chunk stays next.
      const std::uint64_t end = have + got;
      while (next < kept->size()) {
        const std::uint64_t row_begin = static_cast<std::uint64_t>((*kept)[next]) * row_bytes;
        const std::uint64_t row_end = row_begin + row_bytes;
        if (row_begin >= end) break;
        append(static_cast<std::size_t>(std::max(row_begin, have) - have),
               static_cast<std::size_t>(std::min(row_end, end) - have));
        if (row_end > end) break;
        ++next;
      }
    }
    have += got;
    if (got < want)
      fail(path, in.offset(),
           fmt::format("the file ends here{}: expected {} bytes of {} after the {}-byte header (shape {}), found {}",
                       in.end_note(), h.elements, what, h.size, h.shape(), have));
  }
  unsigned char extra = 0;
  if (in.read(&extra, 1) != 0)
    fail(path, h.size + h.elements,
         fmt::format("expected the end of the file after the {} elements the header declares (shape {}), "
                     "found more bytes",
                     h.elements, h.shape()));
  // The data is all there but the gzip trailer (its checksum) is not.
  if (in.cut_short()) fail(path, in.offset(), "the file ends here: the gzip stream is cut short before its checksum");
}

}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path, const IdxOptions& options) {
  Reader images(images_path);
  Reader labels(labels_path);
  const Header image_header = read_header(images, images_path, "images", 2, 4);
  const Header label_header = read_header(labels, labels_path, "labels", 1, 1);
  if (image_header.dims[0] != label_header.dims[0])
    fail(labels_path, 4,
         fmt::format("expected {} labels, one per image in '{}', found {}", image_header.dims[0], images_path,
                     label_header.dims[0]));

  // The rows to keep, chosen from the count both headers agree on, before
  // any is read; null keeps every row without listing them.
  const auto rows = static_cast<Index>(image_header.dims[0]);
  std::vector<Index> kept;
  if (options.rows) kept = select_rows(options.rows, rows, images_path);
  const std::vector<Index>* keep = options.rows ? &kept : nullptr;

  // What the kept rows take as float32, against the machine's memory: a
  // small gzip file can inflate to all the header declares (1032:1 at
  // most), and reading would die for want of memory instead of saying so.
  const std::uint64_t kept_rows = keep == nullptr ? image_header.dims[0] : kept.size();
  const double bytes = double(kept_rows) * double(image_header.elements / image_header.dims[0] + 1) * sizeof(float);
  const double memory = detail::memory_limit_bytes();
  if (memory > 0 && bytes > 0.8 * memory)
    fail(images_path, 4,
         fmt::format("the header declares {} images of {} pixels, {:.1f} GiB as float32: more than this process "
                     "may hold ({:.1f} GiB)",
                     image_header.dims[0], image_header.elements / image_header.dims[0], bytes / double(1ull << 30),
                     memory / double(1ull << 30)));

  Dataset d;
  d.rows = keep == nullptr ? rows : static_cast<Index>(kept.size());
  d.features = static_cast<Index>(image_header.elements / image_header.dims[0]);
  d.targets = 1;
  d.source = images_path;

  std::array<float, 256> pixel{}, label{};
  for (int b = 0; b < 256; ++b) {
    pixel[static_cast<std::size_t>(b)] = options.scale ? float(b) / 255.0f : float(b);
    label[static_cast<std::size_t>(b)] = float(b);
  }
  read_body(images, images_path, image_header, "pixels", pixel, keep, d.x);
  read_body(labels, labels_path, label_header, "labels", label, keep, d.y);
  d.validate();
  return d;
}

}  // namespace descent::data
