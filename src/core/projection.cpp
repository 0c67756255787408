// Building, checking, parsing and describing projections; the arithmetic is
// in the header.
#include "descent/core/projection.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include <fmt/format.h>

#include "descent/core/error.hpp"

namespace descent {
namespace {

Projection::Piece piece(Projection::Kind kind) {
  Projection::Piece p;
  p.kind = kind;
  return p;
}

std::string_view kind_name(Projection::Kind k) {
  switch (k) {
    case Projection::Kind::box: return "box";
    case Projection::Kind::bounds: return "bounds";
    case Projection::Kind::simplex: return "simplex";
    case Projection::Kind::l1_ball: return "l1";
    case Projection::Kind::l2_ball: return "l2";
  }
  return "unknown";
}

constexpr std::string_view kForms = "nonneg, box:LO,HI, simplex, simplex:R, l1:R or l2:R";

// A number as the CLI writes it: decimal, or inf / -inf.
double parse_number(std::string_view text, std::string_view spec) {
  std::string s(text);
  if (s == "inf" || s == "+inf") return Bounds::inf;
  if (s == "-inf") return -Bounds::inf;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  DESCENT_REQUIRE(ec == std::errc() && end == s.data() + s.size() && !s.empty(),
          fmt::format("projection '{}': '{}' is not a number (expected a decimal, inf or -inf)", spec, text));
  return v;
}

}  // namespace

Projection Projection::box(double lower, double upper) {
  Projection p;
  Piece b = piece(Kind::box);
  b.lower = lower;
  b.upper = upper;
  p.pieces_.push_back(b);
  return p;
}

Projection Projection::simplex(double radius) {
  Projection p;
  Piece s = piece(Kind::simplex);
  s.radius = radius;
  p.pieces_.push_back(s);
  return p;
}

Projection Projection::l1_ball(double radius) {
  Projection p;
  Piece s = piece(Kind::l1_ball);
  s.radius = radius;
  p.pieces_.push_back(s);
  return p;
}

Projection Projection::l2_ball(double radius) {
  Projection p;
  Piece s = piece(Kind::l2_ball);
  s.radius = radius;
  p.pieces_.push_back(s);
  return p;
}

Projection Projection::bounds(Bounds b) {
  Projection p;
  Piece s = piece(Kind::bounds);
  s.size = b.size();
  s.bounds = std::make_shared<const Bounds>(std::move(b));
  p.pieces_.push_back(s);
  return p;
}

Projection Projection::parse(std::string_view spec) {
  const auto colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const std::string_view args = colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  const bool has_args = colon != std::string_view::npos;
  if (name == "nonneg" || name == "nonnegative") {
    DESCENT_REQUIRE(!has_args, fmt::format("projection '{}': nonneg takes no argument", spec));
    return nonnegative();
  }
  if (name == "box") {
    const auto comma = args.find(',');
    DESCENT_REQUIRE(has_args && comma != std::string_view::npos,
            fmt::format("projection '{}': expected box:LO,HI, e.g. box:0,1 or box:-inf,5", spec));
    const double lo = parse_number(args.substr(0, comma), spec), hi = parse_number(args.substr(comma + 1), spec);
    DESCENT_REQUIRE(lo <= hi, fmt::format("projection '{}': the box is empty (LO {} > HI {})", spec, lo, hi));
    return box(lo, hi);
  }
  if (name == "simplex" || name == "l1" || name == "l2") {
    const double r = has_args ? parse_number(args, spec) : 1.0;
    DESCENT_REQUIRE(r > 0 && std::isfinite(r), fmt::format("projection '{}': the radius must be > 0 and finite", spec));
    if (name == "simplex") return simplex(r);
    if (name == "l1") return l1_ball(r);
    return l2_ball(r);
  }
  throw invalid_argument(fmt::format("unknown projection '{}'; expected one of {}", spec, kForms));
}

Projection Projection::on(Index begin, Index size) const {
  require(pieces_.size() == 1 && pieces_[0].begin == 0 &&
              (pieces_[0].size < 0 || pieces_[0].kind == Kind::bounds),
          "Projection::on applies to a projection of one piece over the whole vector");
  DESCENT_REQUIRE(begin >= 0 && size >= 0, fmt::format("Projection::on({}, {}): begin and size must be >= 0", begin, size));
  if (pieces_[0].kind == Kind::bounds)
    DESCENT_REQUIRE(pieces_[0].size == size,
            fmt::format("Projection::on: bounds for {} variables placed on {} variables", pieces_[0].size, size));
  Projection p = *this;
  p.pieces_[0].begin = begin;
  p.pieces_[0].size = size;
  return p;
}

namespace {

// Whether `name` matches `pattern`, where '*' matches any run of characters.
bool glob_match(std::string_view pattern, std::string_view name) {
  std::size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

Projection Projection::on_segments(const Layout& layout, std::string_view pattern) const {
  Projection out;
  std::string names;
  for (const Segment& s : layout.segments()) {
    names += (names.empty() ? "" : ", ") + s.name;
    if (glob_match(pattern, s.name)) out.also(on(s.offset, s.length));
  }
  DESCENT_REQUIRE(!out.empty(), fmt::format("no parameter segment matches '{}'; the segments are {}", pattern, names));
  return out;
}

std::optional<Bounds> Projection::as_bounds(Index n) const {
  if (!is_box()) return std::nullopt;
  Bounds b = Bounds::none(n);
  for (const Piece& p : pieces_) {
    const Index first = p.first(), last = std::min(p.last(n), n);
    for (Index i = first; i < last; ++i) {
      b.lower[i] = p.kind == Kind::box ? p.lower : p.bounds->lower[i - first];
      b.upper[i] = p.kind == Kind::box ? p.upper : p.bounds->upper[i - first];
    }
  }
  return b;
}

Projection& Projection::also(const Projection& other) {
  pieces_.insert(pieces_.end(), other.pieces_.begin(), other.pieces_.end());
  return *this;
}

bool Projection::is_box() const {
  for (const Piece& p : pieces_)
    if (p.kind != Kind::box && p.kind != Kind::bounds) return false;
  return true;
}

void Projection::validate(Index n) const {
  std::vector<std::pair<Index, Index>> ranges;
  for (std::size_t k = 0; k < pieces_.size(); ++k) {
    const Piece& p = pieces_[k];
    const Index first = p.first(), last = p.last(n);
    DESCENT_REQUIRE(first >= 0 && first <= last && last <= n,
            fmt::format("projection piece {} ({}) covers [{}, {}), outside the {} variables", k, kind_name(p.kind),
                        first, last, n));
    switch (p.kind) {
      case Kind::box:
        DESCENT_REQUIRE(!std::isnan(p.lower) && !std::isnan(p.upper) && p.lower <= p.upper && p.lower < Bounds::inf &&
                    p.upper > -Bounds::inf,
                fmt::format("projection piece {}: the box [{}, {}] is empty", k, p.lower, p.upper));
        break;
      case Kind::bounds:
        DESCENT_REQUIRE(p.bounds != nullptr, fmt::format("projection piece {}: bounds are missing", k));
        p.bounds->validate(last - first);
        break;
      case Kind::simplex:
      case Kind::l1_ball:
      case Kind::l2_ball:
        DESCENT_REQUIRE(p.radius > 0 && std::isfinite(p.radius),
                fmt::format("projection piece {} ({}): the radius must be > 0 and finite; got {}", k,
                            kind_name(p.kind), p.radius));
        break;
    }
    ranges.emplace_back(first, last);
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t k = 1; k < ranges.size(); ++k)
    DESCENT_REQUIRE(ranges[k].first >= ranges[k - 1].second,
            fmt::format("projection pieces overlap: [{}, {}) and [{}, {})", ranges[k - 1].first, ranges[k - 1].second,
                        ranges[k].first, ranges[k].second));
}

Projection Projection::slice(Index n, Index first, Index last) const {
  DESCENT_REQUIRE(0 <= first && first <= last && last <= n,
          fmt::format("Projection::slice: [{}, {}) is not a slice of {} variables", first, last, n));
  Projection out;
  for (const Piece& p : pieces_) {
    const Index a = std::max(p.first(), first), b = std::min(p.last(n), last);
    if (a >= b) continue;
    Piece cut = p;
    if (p.kind == Kind::box) {
      cut.begin = a - first;
      cut.size = b - a;
    } else if (p.kind == Kind::bounds) {
      const Index from = a - p.first();
      cut.bounds = std::make_shared<const Bounds>(
          Bounds{p.bounds->lower.segment(from, b - a), p.bounds->upper.segment(from, b - a)});
      cut.begin = a - first;
      cut.size = b - a;
    } else {
      DESCENT_REQUIRE(a == p.first() && b == p.last(n),
              fmt::format("a {} projection on [{}, {}) couples its variables and cannot be cut at [{}, {})",
                          kind_name(p.kind), p.first(), p.last(n), first, last));
      cut.begin = a - first;
      cut.size = b - a;
    }
    out.pieces_.push_back(std::move(cut));
  }
  return out;
}

std::string Projection::describe() const {
  if (pieces_.empty()) return "none";
  std::string out;
  for (const Piece& p : pieces_) {
    if (!out.empty()) out += "; ";
    switch (p.kind) {
      case Kind::box: out += fmt::format("box[{}, {}]", p.lower, p.upper); break;
      case Kind::bounds: out += "bounds"; break;
      default: out += fmt::format("{}({})", kind_name(p.kind), p.radius); break;
    }
    if (p.size < 0) out += p.begin == 0 ? "" : fmt::format(" on [{}, end)", p.begin);
    else out += fmt::format(" on [{}, {})", p.begin, p.begin + p.size);
  }
  return out;
}

}  // namespace descent
