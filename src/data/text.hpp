// Helpers shared by the text loaders (csv.cpp, libsvm.cpp): reading a whole
// file, quoting what was found in a message, and parsing numbers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace descent::data::detail {

// The whole file, bytes as they are. Throws descent::parse_error(path, 0, ...)
// naming the OS reason when it cannot be opened or read (or is a directory).
std::string read_file(const std::string& path);

// `text` in single quotes for a message, cut to about `limit` characters and
// with control and non-ASCII bytes written as \xNN.
std::string shown(std::string_view text, std::size_t limit = 40);

// ' ' and '\t' removed from both ends.
std::string_view trim(std::string_view text);

// A float32 value, or nullopt when `text` is not a whole decimal or
// hexadecimal floating-point number (an optional leading '+' or '-' allowed).
// Infinities, NaN and values beyond float32's range are rejected too: `why`
// then says so ("out of float32 range", "not finite").
std::optional<float> parse_float(std::string_view text, const char** why = nullptr);

// The next line of `text` from `pos`, without its "\n", "\r\n" or lone "\r"; advances
// `pos` past the line break. False at the end of the text.
bool next_line(std::string_view text, std::size_t& pos, std::string_view& line);

}  // namespace descent::data::detail
