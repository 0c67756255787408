#include "text.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "descent/core/error.hpp"
#include "descent/io/file.hpp"

namespace descent::data::detail {

std::string read_file(const std::string& path) {
  io::require_regular_input(path);  // a device or a FIFO could be read for ever
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw parse_error(path, 0, fmt::format("cannot open the file: {}", std::strerror(errno)));
  std::string content;
  try {
    struct stat info {};
    if (::fstat(fd, &info) != 0)
      throw parse_error(path, 0, fmt::format("cannot read the file: {}", std::strerror(errno)));
    if (S_ISREG(info.st_mode) && info.st_size > 0) content.reserve(static_cast<std::size_t>(info.st_size));
    char buffer[1 << 16];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw parse_error(path, 0, fmt::format("cannot read the file: {}", std::strerror(errno)));
      }
      if (n == 0) break;
      content.append(buffer, static_cast<std::size_t>(n));
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return content;
}

std::string shown(std::string_view text, std::size_t limit) {
  std::string out = "'";
  const bool cut = text.size() > limit;
  if (cut) text = text.substr(0, limit);
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '\\')
      out += fmt::format("\\x{:02x}", u);
    else
      out += c;
  }
  out += cut ? "'..." : "'";
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<float> parse_float(std::string_view text, const char** why) {
  if (why) *why = nullptr;
  std::string_view digits = text;
  if (digits.size() > 1 && digits.front() == '+' && digits[1] != '-' && digits[1] != '+') digits.remove_prefix(1);
  if (digits.empty()) return std::nullopt;
  double value = 0.0;
  const char* end = digits.data() + digits.size();
  const auto [stop, error] = std::from_chars(digits.data(), end, value, std::chars_format::general);
  if (stop != end || (error != std::errc() && error != std::errc::result_out_of_range)) return std::nullopt;
  if (error == std::errc::result_out_of_range) {
    // from_chars reports underflow and overflow alike: strtod tells them
    // apart (an underflow is a tiny or zero value, an overflow is infinite).
    const std::string copy(digits);
    value = std::strtod(copy.c_str(), nullptr);
  }
  if (!std::isfinite(value)) {
    if (why) *why = error == std::errc::result_out_of_range ? "out of float32 range" : "not finite";
    return std::nullopt;
  }
  if (std::fabs(value) > static_cast<double>(std::numeric_limits<float>::max())) {
    if (why) *why = "out of float32 range";
    return std::nullopt;
  }
  return static_cast<float>(value);
}

bool next_line(std::string_view text, std::size_t& pos, std::string_view& line) {
  if (pos >= text.size()) return false;
  // A line ends at "\n", "\r\n" or a lone "\r" (classic Mac OS files).
  const std::size_t end = text.find_first_of("\r\n", pos);
  if (end == std::string_view::npos) {
    line = text.substr(pos);
    pos = text.size();
    return true;
  }
  line = text.substr(pos, end - pos);
  pos = end + (text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n' ? 2 : 1);
  return true;
}

}  // namespace descent::data::detail
