// A small XML well-formedness check for the SVG tests: balanced and properly
// nested tags, quoted attributes, no raw '<' in text and no '&' that does not
// start an entity. Not a validating parser; enough to catch broken output.
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace descent::io::testing {

// Empty when `xml` is well-formed; otherwise what is wrong and where.
inline std::string xml_problem(std::string_view xml) {
  std::vector<std::string> open;
  int roots = 0;
  auto at = [](std::size_t i) { return " at byte " + std::to_string(i); };
  auto entity_ok = [&](std::size_t i) {
    const std::size_t semi = xml.find(';', i);
    if (semi == std::string_view::npos || semi - i > 8) return false;
    const std::string_view name = xml.substr(i + 1, semi - i - 1);
    if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos")
      return true;
    return name.size() >= 2 && name[0] == '#';
  };

  std::size_t i = 0;
  while (i < xml.size()) {
    const char c = xml[i];
    if (c == '&') {
      if (!entity_ok(i)) return "bad entity" + at(i);
      ++i;
      continue;
    }
    if (c == '>') return "stray '>' in text" + at(i);
    if (c != '<') {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(c)))
        return "text outside the root element" + at(i);
      ++i;
      continue;
    }
    if (xml.substr(i, 4) == "<!--") {
      const std::size_t end = xml.find("-->", i + 4);
      if (end == std::string_view::npos) return "unterminated comment" + at(i);
      i = end + 3;
      continue;
    }
    if (xml.substr(i, 2) == "<?") {
      const std::size_t end = xml.find("?>", i + 2);
      if (end == std::string_view::npos) return "unterminated declaration" + at(i);
      i = end + 2;
      continue;
    }
    const bool closing = xml.substr(i, 2) == "</";
    std::size_t j = i + (closing ? 2 : 1);
    const std::size_t name_start = j;
    while (j < xml.size() && (std::isalnum(static_cast<unsigned char>(xml[j])) || xml[j] == '-' ||
                              xml[j] == ':' || xml[j] == '_'))
      ++j;
    const std::string name(xml.substr(name_start, j - name_start));
    if (name.empty()) return "tag without a name" + at(i);

    // Attributes: name="value" (or 'value'), values free of '<'.
    bool self_closing = false;
    for (;;) {
      while (j < xml.size() && std::isspace(static_cast<unsigned char>(xml[j]))) ++j;
      if (j >= xml.size()) return "unterminated tag <" + name + at(i);
      if (xml[j] == '>') { ++j; break; }
      if (xml.substr(j, 2) == "/>" && !closing) { self_closing = true; j += 2; break; }
      if (closing) return "junk in closing tag </" + name + at(j);
      const std::size_t attr_start = j;
      while (j < xml.size() && (std::isalnum(static_cast<unsigned char>(xml[j])) ||
                                xml[j] == '-' || xml[j] == ':' || xml[j] == '_'))
        ++j;
      if (j == attr_start) return "bad attribute in <" + name + at(j);
      if (j >= xml.size() || xml[j] != '=') return "attribute without '=' in <" + name + at(j);
      ++j;
      if (j >= xml.size() || (xml[j] != '"' && xml[j] != '\'')) return "unquoted attribute" + at(j);
      const char quote = xml[j];
      const std::size_t value_end = xml.find(quote, j + 1);
      if (value_end == std::string_view::npos) return "unterminated attribute" + at(j);
      for (std::size_t k = j + 1; k < value_end; ++k) {
        if (xml[k] == '<') return "'<' in attribute" + at(k);
        if (xml[k] == '&' && !entity_ok(k)) return "bad entity in attribute" + at(k);
      }
      j = value_end + 1;
    }

    if (closing) {
      if (open.empty() || open.back() != name)
        return "</" + name + "> closes " + (open.empty() ? "nothing" : "<" + open.back() + ">") +
               at(i);
      open.pop_back();
    } else {
      if (open.empty() && ++roots > 1) return "second root element <" + name + ">" + at(i);
      if (!self_closing) open.push_back(name);
    }
    i = j;
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  if (roots != 1) return "no root element";
  return {};
}

// How many times `needle` occurs in `haystack`.
inline int count_of(std::string_view haystack, std::string_view needle) {
  int n = 0;
  for (std::size_t i = haystack.find(needle); i != std::string_view::npos;
       i = haystack.find(needle, i + needle.size()))
    ++n;
  return n;
}

}  // namespace descent::io::testing
