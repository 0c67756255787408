#include "descent/io/safetensors.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

#include "descent/core/error.hpp"
#include "descent/io/file.hpp"

namespace descent::io {
namespace {

using Json = nlohmann::json;

// The header length field, bytes [0, 8) of the file.
constexpr std::size_t kLengthBytes = 8;
// Longer headers are refused before anything is allocated for them (Python's
// safetensors draws the line at the same place).
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  std::size_t size;
};

// Indexed by the enumerator's value.
constexpr std::array kDTypes{
    DTypeInfo{DType::boolean, "BOOL", 1},    DTypeInfo{DType::u8, "U8", 1},
    DTypeInfo{DType::i8, "I8", 1},           DTypeInfo{DType::u16, "U16", 2},
    DTypeInfo{DType::i16, "I16", 2},         DTypeInfo{DType::u32, "U32", 4},
    DTypeInfo{DType::i32, "I32", 4},         DTypeInfo{DType::u64, "U64", 8},
    DTypeInfo{DType::i64, "I64", 8},         DTypeInfo{DType::f16, "F16", 2},
    DTypeInfo{DType::bf16, "BF16", 2},       DTypeInfo{DType::f32, "F32", 4},
    DTypeInfo{DType::f64, "F64", 8},         DTypeInfo{DType::f8_e4m3, "F8_E4M3", 1},
    DTypeInfo{DType::f8_e5m2, "F8_E5M2", 1},
};

constexpr bool table_follows_enum() {
  for (std::size_t k = 0; k < kDTypes.size(); ++k)
    if (static_cast<std::size_t>(kDTypes[k].dtype) != k) return false;
  return true;
}
static_assert(table_follows_enum());

const DTypeInfo& info(DType dtype) {
  const auto k = static_cast<std::size_t>(dtype);
  DESCENT_REQUIRE(k < kDTypes.size(), fmt::format("dtype: expected a DType enumerator, found the value {}", k));
  return kDTypes[k];
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const DTypeInfo& d : kDTypes)
    if (d.name == name) return d.dtype;
  return std::nullopt;
}

std::string all_dtype_names() {
  std::string names;
  for (const DTypeInfo& d : kDTypes) {
    if (!names.empty()) names += ", ";
    names += d.name;
  }
  return names;
}

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::f32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::f64;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return DType::i64;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return DType::i32;
  else {
    static_assert(std::is_same_v<T, std::uint8_t>);
    return DType::u8;
  }
}

// ---------------------------------------------------------------------------
// Byte order
// ---------------------------------------------------------------------------

// Reverses the bytes of each `element_size`-byte element in place when this
// machine is big-endian, turning native order into little-endian and back.
void swap_to_or_from_little_endian(void* data, std::size_t bytes, std::size_t element_size) {
  if constexpr (std::endian::native == std::endian::big) {
    auto* p = static_cast<unsigned char*>(data);
    for (std::size_t k = 0; k + element_size <= bytes; k += element_size)
      std::reverse(p + k, p + k + element_size);
  } else {
    (void)data, (void)bytes, (void)element_size;
  }
}

std::uint64_t read_u64_le(const char* p) {
  std::uint64_t value = 0;
  for (int k = 7; k >= 0; --k) value = (value << 8) | static_cast<unsigned char>(p[k]);
  return value;
}

void append_u64_le(std::string& out, std::uint64_t value) {
  for (int k = 0; k < 8; ++k) out.push_back(static_cast<char>((value >> (8 * k)) & 0xff));
}

// ---------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------

// Elements in a tensor of `shape` (dimensions >= 0), or nullopt when its size
// in bytes, at `element_size` bytes each, would not fit in an int64.
std::optional<std::int64_t> element_count_of(std::span<const std::int64_t> shape, std::size_t element_size) {
  // A zero dimension empties the tensor whatever the others are.
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  const std::int64_t limit = kInt64Max / static_cast<std::int64_t>(element_size);
  std::int64_t count = 1;
  for (const std::int64_t dim : shape) {
    if (dim < 0 || dim > limit / count) return std::nullopt;
    count *= dim;
  }
  return count;
}

// "[2, 3]"; long shapes are cut after eight dimensions.
std::string format_shape(std::span<const std::int64_t> shape) {
  constexpr std::size_t kShown = 8;
  std::string s = "[";
  for (std::size_t k = 0; k < shape.size() && k < kShown; ++k)
    s += (k > 0 ? ", " : "") + std::to_string(shape[k]);
  if (shape.size() > kShown) s += fmt::format(", ... ({} dimensions)", shape.size());
  return s + "]";
}

// ---------------------------------------------------------------------------
// Text for messages
// ---------------------------------------------------------------------------

// `s` cut to at most about `limit` bytes, never inside a UTF-8 sequence.
std::string shorten(std::string s, std::size_t limit = 60) {
  if (s.size() <= limit) return s;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

// A name as a JSON string literal, so that quotes and control characters in
// it stay readable; invalid UTF-8 is shown as U+FFFD.
std::string show_name(std::string_view name) {
  return shorten(Json(std::string(name)).dump(-1, ' ', false, Json::error_handler_t::replace), 80);
}

// What a JSON value is, for "found ..." in messages. Containers are not
// printed: they may be large or deeply nested.
std::string describe(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object:
      return fmt::format("an object of {} members", v.size());
    case Json::value_t::array:
      return fmt::format("an array of {} elements", v.size());
    case Json::value_t::string:
      return "the string " + shorten(v.dump());
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    default:
      return "the number " + shorten(v.dump());
  }
}

bool is_utf8(const std::string& s) {
  try {
    (void)Json(s).dump();
    return true;
  } catch (const Json::exception&) {
    return false;
  }
}

// A scalar as written in JSON; a container by its kind and size.
std::string brief(const Json& v) { return v.is_primitive() ? shorten(v.dump()) : describe(v); }

// nlohmann's message without its "[json.exception...] parse error at line
// 1, column 7: " prefix: positions are given as byte offsets instead.
std::string json_problem(const Json::exception& e) {
  std::string_view s = e.what();
  if (const auto bracket = s.find("] "); s.starts_with("[json.exception") && bracket != s.npos)
    s.remove_prefix(bracket + 2);
  if (s.starts_with("parse error")) {
    if (const auto colon = s.find(": "); colon != s.npos) s.remove_prefix(colon + 2);
  }
  // The text nlohmann quotes from the header may be invalid UTF-8.
  std::string problem = shorten(std::string(s), 200);
  if (!is_utf8(problem))
    for (char& c : problem)
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  return problem;
}

[[noreturn]] void fail(const std::string& path, std::uint64_t offset, const std::string& message) {
  throw parse_error(path, static_cast<std::int64_t>(offset),
                    fmt::format("byte offset {}: {}", offset, message));
}

// ---------------------------------------------------------------------------
// Positions of object members in the header text
// ---------------------------------------------------------------------------
//
// nlohmann::json keeps no source positions, so the header text, once
// nlohmann has accepted it as JSON, is walked again to find where each member
// of an object begins. The walk is iterative and bounds-checked, so it cannot
// overflow the stack on deep nesting or read past the text.

struct Member {
  std::string key;
  std::size_t index = 0;     // position among the object's members
  std::size_t key_at = 0;    // position of the key's opening quote
  std::size_t value_at = 0;  // position of the value's first character
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_space(std::string_view t, std::size_t i) {
  while (i < t.size() && is_space(t[i])) ++i;
  return i;
}

// `i` at an opening quote; returns the position after the closing one.
std::size_t skip_string(std::string_view t, std::size_t i) {
  for (++i; i < t.size() && t[i] != '"'; ++i)
    if (t[i] == '\\') ++i;
  return std::min(i + 1, t.size());
}

std::size_t skip_value(std::string_view t, std::size_t i) {
  if (i >= t.size()) return i;
  if (t[i] == '"') return skip_string(t, i);
  if (t[i] == '{' || t[i] == '[') {
    std::size_t depth = 0;
    while (i < t.size()) {
      const char c = t[i];
      if (c == '"') {
        i = skip_string(t, i);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') --depth;
      ++i;
      if (depth == 0) break;
    }
    return i;
  }
  while (i < t.size() && !is_space(t[i]) && t[i] != ',' && t[i] != '}' && t[i] != ']') ++i;
  return i;
}

// The members of the object whose '{' is at t[i], in text order.
std::vector<Member> members_of(std::string_view t, std::size_t i) {
  std::vector<Member> members;
  if (i >= t.size() || t[i] != '{') return members;
  i = skip_space(t, i + 1);
  while (i < t.size() && t[i] == '"') {
    Member m;
    m.index = members.size();
    m.key_at = i;
    const std::size_t key_end = skip_string(t, i);
    try {
      m.key = Json::parse(t.substr(i, key_end - i)).get<std::string>();
    } catch (const Json::exception&) {
      return members;  // not reached for text nlohmann accepted
    }
    i = skip_space(t, key_end);
    if (i >= t.size() || t[i] != ':') return members;
    m.value_at = skip_space(t, i + 1);
    i = skip_space(t, skip_value(t, m.value_at));
    members.push_back(std::move(m));
    if (i >= t.size() || t[i] != ',') break;
    i = skip_space(t, i + 1);
  }
  return members;
}

// ---------------------------------------------------------------------------
// Header validation
// ---------------------------------------------------------------------------

// Validates the header of one file; every position it reports is a byte
// offset in the file.
class HeaderChecker {
 public:
  HeaderChecker(const std::string& path, std::string_view text, std::size_t data_length)
      : path_(path), text_(text), data_length_(data_length) {}

  [[noreturn]] void fail_at(std::size_t text_position, const std::string& message) const {
    fail(path_, kLengthBytes + text_position, message);
  }

  // The members of the object at text position `at`, each key required once.
  std::map<std::string, Member, std::less<>> members(std::size_t at, std::string_view what) const {
    std::map<std::string, Member, std::less<>> by_key;
    for (Member& m : members_of(text_, at)) {
      const auto [it, inserted] = by_key.try_emplace(m.key, m);
      if (!inserted)
        fail_at(m.key_at,
                fmt::format("expected each key of {} once, found {} again (first at byte offset {})", what,
                            show_name(m.key), kLengthBytes + it->second.key_at));
    }
    return by_key;
  }

  // A non-negative JSON integer, or nullopt.
  static std::optional<std::uint64_t> non_negative(const Json& v) {
    if (v.is_number_unsigned()) return v.get<std::uint64_t>();
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0)
      return static_cast<std::uint64_t>(v.get<std::int64_t>());
    return std::nullopt;
  }

  void metadata(const Json& value, const Member& where, std::map<std::string, std::string>& out) const {
    if (!value.is_object())
      fail_at(where.value_at,
              "expected \"__metadata__\" to be an object of strings, found " + describe(value));
    const auto positions = members(where.value_at, "\"__metadata__\"");
    for (const auto& [key, v] : value.items()) {
      if (!v.is_string()) {
        const auto p = positions.find(key);
        fail_at(p != positions.end() ? p->second.value_at : where.value_at,
                fmt::format("expected the \"__metadata__\" value of {} to be a string, found {}",
                            show_name(key), describe(v)));
      }
      out.emplace(key, v.get<std::string>());
    }
  }

  // One tensor entry; `begin` and `end` of the result are data offsets.
  struct Entry {
    std::string name;
    DType dtype = DType::u8;
    std::vector<std::int64_t> shape;
    std::int64_t element_count = 0;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    std::size_t key_at = 0;
    std::size_t order = 0;  // position among the header's members
  };

  Entry tensor(const std::string& name, const Json& value, const Member& where) const {
    Entry e;
    e.name = name;
    e.key_at = where.key_at;
    const std::string who = "tensor " + show_name(name);
    if (!value.is_object())
      fail_at(where.value_at, fmt::format("{}: expected an object with \"dtype\", \"shape\" and "
                                          "\"data_offsets\", found {}",
                                          who, describe(value)));
    const auto positions = members(where.value_at, who);
    auto field = [&](std::string_view key) -> std::pair<const Json&, std::size_t> {
      const auto it = value.find(key);
      if (it == value.end())
        fail_at(where.value_at, fmt::format("{}: expected a field \"{}\", found none", who, key));
      const auto p = positions.find(key);
      return {*it, p != positions.end() ? p->second.value_at : where.value_at};
    };

    // dtype
    const auto [dtype, dtype_at] = field("dtype");
    const std::optional<DType> known =
        dtype.is_string() ? dtype_from_name(dtype.get_ref<const std::string&>()) : std::nullopt;
    if (!known)
      fail_at(dtype_at, fmt::format("{}: expected \"dtype\" to be one of {}, found {}", who,
                                    all_dtype_names(), describe(dtype)));
    e.dtype = *known;
    const std::size_t element_size = info(e.dtype).size;

    // shape
    const auto [shape, shape_at] = field("shape");
    if (!shape.is_array())
      fail_at(shape_at,
              fmt::format("{}: expected \"shape\" to be an array of non-negative integers, found {}", who,
                          describe(shape)));
    e.shape.reserve(shape.size());
    for (std::size_t k = 0; k < shape.size(); ++k) {
      const Json& dim = shape[k];
      const std::optional<std::uint64_t> d = non_negative(dim);
      if (!d) {
        const bool negative = dim.is_number_integer();
        fail_at(shape_at, fmt::format("{}: expected dimension {} of \"shape\" to be a non-negative integer, "
                                      "found {}{}",
                                      who, k, negative ? "the negative dimension " : "",
                                      negative ? dim.dump() : describe(dim)));
      }
      if (*d > static_cast<std::uint64_t>(kInt64Max))
        fail_at(shape_at, fmt::format("{}: expected dimension {} of \"shape\" to be at most {}, found {}",
                                      who, k, kInt64Max, *d));
      e.shape.push_back(static_cast<std::int64_t>(*d));
    }
    const std::optional<std::int64_t> count = element_count_of(e.shape, element_size);
    if (!count)
      fail_at(shape_at, fmt::format("{}: shape {} of dtype {} holds more bytes than a 64-bit size can count",
                                    who, format_shape(e.shape), info(e.dtype).name));
    e.element_count = *count;

    // data_offsets
    const auto [offsets, offsets_at] = field("data_offsets");
    std::optional<std::uint64_t> begin, end;
    if (offsets.is_array() && offsets.size() == 2) {
      begin = non_negative(offsets[0]);
      end = non_negative(offsets[1]);
    }
    if (!begin || !end)
      fail_at(offsets_at, fmt::format("{}: expected \"data_offsets\" to be an array of two non-negative "
                                      "integers [begin, end], found {}",
                                      who,
                                      offsets.is_array() && offsets.size() == 2
                                          ? "[" + brief(offsets[0]) + ", " + brief(offsets[1]) + "]"
                                          : describe(offsets)));
    e.begin = *begin;
    e.end = *end;
    const std::string range = fmt::format("[{}, {}]", e.begin, e.end);
    if (e.end < e.begin)
      fail_at(
          offsets_at,
          fmt::format("{}: expected \"data_offsets\" [begin, end] with begin <= end, found {}", who, range));
    const auto needed = static_cast<std::uint64_t>(e.element_count) * element_size;
    if (e.end - e.begin != needed)
      fail_at(offsets_at,
              fmt::format("{}: expected \"data_offsets\" to span {} bytes ({} elements of {}, shape "
                          "{}), found {} spanning {} bytes",
                          who, needed, e.element_count, info(e.dtype).name, format_shape(e.shape), range,
                          e.end - e.begin));
    if (e.end > data_length_)
      fail_at(offsets_at, fmt::format("{}: expected \"data_offsets\" within the data section of {} bytes, "
                                      "found {} (is the file truncated?)",
                                      who, data_length_, range));
    return e;
  }

 private:
  const std::string& path_;
  std::string_view text_;
  std::size_t data_length_;
};

}  // namespace

std::string_view dtype_name(DType dtype) { return info(dtype).name; }

std::size_t dtype_size(DType dtype) { return info(dtype).size; }

// ---------------------------------------------------------------------------
// SafetensorsWriter
// ---------------------------------------------------------------------------

void SafetensorsWriter::add_tensor(std::string name, DType dtype, std::span<const std::uint8_t> bytes,
                                   bool native_order, std::vector<std::int64_t> shape) {
  const DTypeInfo& d = info(dtype);
  require(!name.empty(), "SafetensorsWriter::add: expected a non-empty tensor name, found \"\"");
  require(name != "__metadata__",
          "SafetensorsWriter::add: the tensor name \"__metadata__\" is reserved for the metadata");
  DESCENT_REQUIRE(is_utf8(name),
          fmt::format("SafetensorsWriter::add: tensor name {} is not valid UTF-8", show_name(name)));
  DESCENT_REQUIRE(!names_.contains(name),
          fmt::format("SafetensorsWriter::add: a tensor named {} was already added", show_name(name)));
  for (std::size_t k = 0; k < shape.size(); ++k)
    DESCENT_REQUIRE(shape[k] >= 0, fmt::format("SafetensorsWriter::add: tensor {}: dimension {} of shape {} is "
                                       "negative; dimensions must be >= 0",
                                       show_name(name), k, format_shape(shape)));
  const std::optional<std::int64_t> count = element_count_of(shape, d.size);
  DESCENT_REQUIRE(count.has_value(), fmt::format("SafetensorsWriter::add: tensor {}: shape {} of dtype {} is too "
                                         "large to count in bytes",
                                         show_name(name), format_shape(shape), d.name));
  const auto needed = static_cast<std::uint64_t>(*count) * d.size;
  if (bytes.size() != needed) {
    const std::string given = bytes.size() % d.size == 0
                                  ? fmt::format("{} elements ({} bytes)", bytes.size() / d.size, bytes.size())
                                  : fmt::format("{} bytes", bytes.size());
    throw invalid_argument(
        fmt::format("SafetensorsWriter::add: tensor {}: shape {} of dtype {} needs {} "
                    "elements ({} bytes), found {}",
                    show_name(name), format_shape(shape), d.name, *count, needed, given));
  }

  Tensor t{std::move(name), dtype, std::move(shape), std::string(bytes.begin(), bytes.end())};
  if (native_order) swap_to_or_from_little_endian(t.bytes.data(), t.bytes.size(), d.size);
  names_.insert(t.name);
  tensors_.push_back(std::move(t));
}

namespace {
template <class T>
std::span<const std::uint8_t> as_bytes(std::span<const T> data) {
  return {reinterpret_cast<const std::uint8_t*>(data.data()), data.size_bytes()};
}
}  // namespace

void SafetensorsWriter::add(std::string name, std::span<const float> data, std::vector<std::int64_t> shape) {
  add_tensor(std::move(name), DType::f32, as_bytes(data), true, std::move(shape));
}
void SafetensorsWriter::add(std::string name, std::span<const double> data, std::vector<std::int64_t> shape) {
  add_tensor(std::move(name), DType::f64, as_bytes(data), true, std::move(shape));
}
void SafetensorsWriter::add(std::string name, std::span<const std::int64_t> data,
                            std::vector<std::int64_t> shape) {
  add_tensor(std::move(name), DType::i64, as_bytes(data), true, std::move(shape));
}
void SafetensorsWriter::add(std::string name, std::span<const std::int32_t> data,
                            std::vector<std::int64_t> shape) {
  add_tensor(std::move(name), DType::i32, as_bytes(data), true, std::move(shape));
}
void SafetensorsWriter::add(std::string name, std::span<const std::uint8_t> data,
                            std::vector<std::int64_t> shape) {
  add_tensor(std::move(name), DType::u8, data, true, std::move(shape));
}
void SafetensorsWriter::add_raw(std::string name, DType dtype, std::span<const std::uint8_t> bytes,
                                std::vector<std::int64_t> shape) {
  add_tensor(std::move(name), dtype, bytes, false, std::move(shape));
}

void SafetensorsWriter::set_metadata(std::string key, std::string value) {
  DESCENT_REQUIRE(is_utf8(key),
          fmt::format("SafetensorsWriter::set_metadata: key {} is not valid UTF-8", show_name(key)));
  DESCENT_REQUIRE(is_utf8(value),
          fmt::format("SafetensorsWriter::set_metadata: the value of {} is not valid UTF-8", show_name(key)));
  metadata_.insert_or_assign(std::move(key), std::move(value));
}

std::string SafetensorsWriter::serialize() const {
  // The header: metadata first, then the tensors in insertion order, each
  // taking the next bytes of the data section.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata_.empty()) {
    auto& m = header["__metadata__"];
    m = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata_) m[key] = value;
  }
  std::uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    auto& entry = header[t.name];
    entry = nlohmann::ordered_json::object();
    entry["dtype"] = std::string(dtype_name(t.dtype));
    entry["shape"] = t.shape;
    entry["data_offsets"] = nlohmann::ordered_json::array({offset, offset + t.bytes.size()});
    offset += t.bytes.size();
  }

  // Spaces after the JSON make the data section start 8-byte aligned.
  std::string text = header.dump();
  text.append((kLengthBytes - text.size() % kLengthBytes) % kLengthBytes, ' ');

  std::string out;
  out.reserve(kLengthBytes + text.size() + offset);
  append_u64_le(out, text.size());
  out += text;
  for (const Tensor& t : tensors_) out += t.bytes;
  return out;
}

void SafetensorsWriter::write(const std::string& path) const { write_file_atomically(path, serialize()); }

// ---------------------------------------------------------------------------
// SafetensorsFile
// ---------------------------------------------------------------------------

SafetensorsFile SafetensorsFile::read(const std::string& path) {
  auto os_failure = [&](const char* step, int error) {
    return std::runtime_error(fmt::format("cannot read '{}': {}: {}", path, step, std::strerror(error)));
  };
  // O_NONBLOCK keeps open() from waiting on a FIFO; such files are refused
  // below anyway, as reading them could block or never end.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw os_failure("opening it", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    throw os_failure("querying its size", error);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    require_regular_input(path);  // says what it is
    throw parse_error(path, 0, "cannot read it: not a regular file");
  }

  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t got = ::read(fd, bytes.data() + filled, bytes.size() - filled);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      throw os_failure("reading it", error);
    }
    if (got == 0) break;  // the file shrank while being read
    filled += static_cast<std::size_t>(got);
  }
  ::close(fd);
  bytes.resize(filled);
  return parse(std::move(bytes), path);
}

SafetensorsFile SafetensorsFile::parse(std::string bytes, std::string name_for_errors) {
  SafetensorsFile file;
  file.path_ = std::move(name_for_errors);
  file.bytes_ = std::move(bytes);
  const std::string& path = file.path_;
  const std::string_view all = file.bytes_;

  // The header length, checked against the file before anything is
  // allocated for the header.
  if (all.size() < kLengthBytes)
    fail(path, all.size(),
         fmt::format("expected an 8-byte little-endian header length, found the end of the "
                     "file after {} bytes",
                     all.size()));
  const std::uint64_t header_length = read_u64_le(all.data());
  if (header_length > kMaxHeaderBytes)
    fail(path, 0,
         fmt::format("expected a header length of at most {} bytes, found {}", kMaxHeaderBytes,
                     header_length));
  if (header_length > all.size() - kLengthBytes)
    fail(path, 0,
         fmt::format("expected a header length of at most {} bytes, the rest of the file, found {} "
                     "(is the file truncated?)",
                     all.size() - kLengthBytes, header_length));
  const std::string_view text = all.substr(kLengthBytes, header_length);
  const std::size_t data_start = kLengthBytes + header_length;
  const std::size_t data_length = all.size() - data_start;

  // The header as JSON: an object. nlohmann stops reading at a NUL byte as
  // if the text ended there, so NULs (never valid in JSON text) are refused
  // first.
  if (const std::size_t nul = text.find('\0'); nul != text.npos)
    fail(path, kLengthBytes + nul, "expected the header to be JSON, found a NUL byte");
  Json header;
  try {
    header = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    const std::size_t at = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    fail(path, kLengthBytes + at, "expected the header to be JSON: " + json_problem(e));
  } catch (const Json::exception& e) {
    fail(path, kLengthBytes, "expected the header to be JSON: " + json_problem(e));
  }
  const std::size_t object_at = skip_space(text, 0);
  const HeaderChecker check(path, text, data_length);
  if (!header.is_object())
    check.fail_at(object_at, "expected the header to be a JSON object, found " + describe(header));
  // Python's safetensors refuses leading whitespace and byte order marks,
  // both of which nlohmann skips.
  if (object_at != 0 || text[0] != '{')
    check.fail_at(0, fmt::format("expected the header to start with '{{', found the byte 0x{:02x}",
                                 static_cast<unsigned char>(text[0])));

  // Each member: the metadata or one tensor.
  const auto positions = check.members(object_at, "the header");
  std::vector<HeaderChecker::Entry> entries;
  entries.reserve(header.size());
  for (const auto& [key, value] : header.items()) {
    const auto p = positions.find(key);
    const Member where =
        p != positions.end() ? p->second : Member{key, positions.size(), object_at, object_at};
    if (key == "__metadata__") {
      check.metadata(value, where, file.metadata_);
      continue;
    }
    entries.push_back(check.tensor(key, value, where));
    entries.back().order = where.index;
  }

  // The tensors must tile the data section: sorted by offsets, each begins
  // where the previous one ends, and the last ends where the file does.
  // Ties (empty tensors) keep the header's order.
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return std::tie(a.begin, a.end, a.order) < std::tie(b.begin, b.end, b.order);
  });
  std::uint64_t covered = 0;
  const HeaderChecker::Entry* previous = nullptr;
  for (const auto& e : entries) {
    if (e.begin > covered)
      fail(
          path, data_start + covered,
          fmt::format("expected tensor {} to start at data offset {}, where {}, found data_offsets [{}, {}]: "
                      "bytes [{}, {}) of the data section belong to no tensor",
                      show_name(e.name), covered,
                      previous ? "tensor " + show_name(previous->name) + " ends"
                               : std::string("the data section starts"),
                      e.begin, e.end, covered, e.begin));
    if (e.begin < covered)
      fail(path, data_start + e.begin,
           fmt::format(
               "expected tensor {} to start at data offset {}, where tensor {} ends, found data_offsets "
               "[{}, {}], which overlap tensor {}'s [{}, {}]",
               show_name(e.name), covered, show_name(previous->name), e.begin, e.end,
               show_name(previous->name), previous->begin, previous->end));
    covered = e.end;
    previous = &e;
  }
  if (covered != data_length)
    fail(path, data_start + covered,
         fmt::format(
             "expected a data section of {} bytes, as far as the tensors reach, found {} bytes: the last "
             "{} belong to no tensor",
             covered, data_length, data_length - covered));

  // The validated table, in data order, with offsets in the file.
  file.tensors_.reserve(entries.size());
  for (auto& e : entries) {
    file.index_.emplace(e.name, file.tensors_.size());
    file.tensors_.push_back(Tensor{std::move(e.name), e.dtype, std::move(e.shape), e.element_count,
                                   data_start + e.begin, data_start + e.end, kLengthBytes + e.key_at});
  }
  return file;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const Tensor& t : tensors_) names.push_back(t.name);
  return names;
}

bool SafetensorsFile::contains(std::string_view name) const { return index_.find(name) != index_.end(); }

DType SafetensorsFile::dtype(std::string_view name) const { return find(name).dtype; }

std::vector<std::int64_t> SafetensorsFile::shape(std::string_view name) const { return find(name).shape; }

std::int64_t SafetensorsFile::element_count(std::string_view name) const { return find(name).element_count; }

std::span<const std::uint8_t> SafetensorsFile::raw(std::string_view name) const {
  const Tensor& t = find(name);
  return {reinterpret_cast<const std::uint8_t*>(bytes_.data()) + t.begin, t.end - t.begin};
}

const SafetensorsFile::Tensor& SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) {
    std::string held;
    for (std::size_t k = 0; k < tensors_.size() && k < 5; ++k)
      held += (k > 0 ? ", " : "") + show_name(tensors_[k].name);
    if (tensors_.size() > 5) held += ", ...";
    fail(path_, kLengthBytes,
         fmt::format("expected a tensor named {} in the header, found none (the file holds "
                     "{} tensors{}{})",
                     show_name(name), tensors_.size(), tensors_.empty() ? "" : ": ", held));
  }
  return tensors_[it->second];
}

const SafetensorsFile::Tensor& SafetensorsFile::find(std::string_view name, DType expected) const {
  const Tensor& t = find(name);
  if (t.dtype != expected)
    fail(path_, t.entry_offset,
         fmt::format("expected tensor {} to have dtype {}, found {}", show_name(name), dtype_name(expected),
                     dtype_name(t.dtype)));
  return t;
}

template <class T>
void SafetensorsFile::copy_out(const Tensor& t, std::span<T> out) const {
  if (out.size() != static_cast<std::uint64_t>(t.element_count))
    fail(path_, t.entry_offset,
         fmt::format("expected a destination of {} elements for tensor {} (shape {}), "
                     "found one of {} elements",
                     t.element_count, show_name(t.name), format_shape(t.shape), out.size()));
  if (out.empty()) return;
  std::memcpy(out.data(), bytes_.data() + t.begin, out.size_bytes());
  swap_to_or_from_little_endian(out.data(), out.size_bytes(), sizeof(T));
}

template <class T>
std::vector<T> SafetensorsFile::values(std::string_view name) const {
  // The dtype is checked before allocating, so the vector's size is bounded
  // by the file's.
  const Tensor& t = find(name, dtype_of<T>());
  std::vector<T> out(static_cast<std::size_t>(t.element_count));
  copy_out(t, std::span<T>(out));
  return out;
}

void SafetensorsFile::read_into(std::string_view name, std::span<float> out) const {
  copy_out(find(name, dtype_of<float>()), out);
}
void SafetensorsFile::read_into(std::string_view name, std::span<double> out) const {
  copy_out(find(name, dtype_of<double>()), out);
}
void SafetensorsFile::read_into(std::string_view name, std::span<std::int64_t> out) const {
  copy_out(find(name, dtype_of<std::int64_t>()), out);
}
void SafetensorsFile::read_into(std::string_view name, std::span<std::int32_t> out) const {
  copy_out(find(name, dtype_of<std::int32_t>()), out);
}
void SafetensorsFile::read_into(std::string_view name, std::span<std::uint8_t> out) const {
  copy_out(find(name, dtype_of<std::uint8_t>()), out);
}

std::vector<float> SafetensorsFile::floats(std::string_view name) const { return values<float>(name); }
std::vector<double> SafetensorsFile::doubles(std::string_view name) const { return values<double>(name); }
std::vector<std::int64_t> SafetensorsFile::int64s(std::string_view name) const {
  return values<std::int64_t>(name);
}
std::vector<std::int32_t> SafetensorsFile::int32s(std::string_view name) const {
  return values<std::int32_t>(name);
}
std::vector<std::uint8_t> SafetensorsFile::uint8s(std::string_view name) const {
  return values<std::uint8_t>(name);
}

}  // namespace descent::io
