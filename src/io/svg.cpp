#include "descent/io/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "descent/core/error.hpp"
#include "descent/core/types.hpp"

namespace descent::io {
namespace {

// Okabe & Ito, "Color Universal Design" (2008): distinguishable under the
// common colour-vision deficiencies. Yellow comes last: it is faint on white.
constexpr std::array<const char*, 8> kPalette = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                 "#E69F00", "#56B4E9", "#000000", "#F0E442"};
// After the palette runs out the colours repeat with these dash patterns.
constexpr std::array<const char*, 3> kDashes = {"", "7,4", "2,3"};

const char* colour_of(std::size_t i) { return kPalette[i % kPalette.size()]; }
const char* dash_of(std::size_t i) { return kDashes[(i / kPalette.size()) % kDashes.size()]; }

std::string dash_attribute(std::size_t i) {
  const char* dash = dash_of(i);
  return *dash ? fmt::format(" stroke-dasharray=\"{}\"", dash) : std::string();
}

constexpr double kTickFont = 11.0;
constexpr double kLabelFont = 13.0;
constexpr double kTitleFont = 15.0;
constexpr double kLegendFont = 12.0;

// Rough advance of a sans-serif glyph, enough to size boxes and margins.
double text_width(std::string_view text, double font_size) {
  std::size_t code_points = 0;
  for (unsigned char c : text) code_points += (c & 0xC0) != 0x80;
  return 0.62 * font_size * static_cast<double>(code_points);
}

// Three significant digits, for numbers quoted in captions.
std::string short_number(double value) {
  return format_tick(std::stod(fmt::format("{:.3g}", value)));
}

// Maps one data axis onto a pixel interval, linearly or by log10.
struct Axis {
  double lo = 0.0, hi = 1.0;
  bool log = false;
  double pixel_lo = 0.0, pixel_hi = 1.0;  // pixel_hi < pixel_lo for a y axis

  bool admits(double v) const { return std::isfinite(v) && (!log || v > 0.0); }
  double fraction(double v) const {
    return log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
               : (v - lo) / (hi - lo);
  }
  double pixel(double v) const { return pixel_lo + fraction(v) * (pixel_hi - pixel_lo); }
};

struct Frame {
  double left, top, width, height;
  double right() const { return left + width; }
  double bottom() const { return top + height; }
};

struct Pixel {
  double x, y;
};

void open_svg(std::string& out, int width, int height) {
  out += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
      width, height);
  out += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", width,
                     height);
}

void clip_path(std::string& out, const Frame& frame) {
  out += fmt::format(
      "<defs><clipPath id=\"plot-area\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
      "height=\"{:.1f}\"/></clipPath></defs>\n",
      frame.left, frame.top, frame.width, frame.height);
}

void title_text(std::string& out, const std::string& title, const Frame& frame, double y) {
  if (title.empty()) return;
  out += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{}\" font-weight=\"bold\" "
      "text-anchor=\"middle\" fill=\"#222222\">{}</text>\n",
      frame.left + frame.width / 2, y, kTitleFont, xml_escape(title));
}

// The frame, ticks with labels on the left and bottom, optional grid lines,
// and the axis labels.
void draw_axes(std::string& out, const Frame& frame, const Axis& x, const Axis& y,
               const std::vector<double>& x_ticks, const std::vector<double>& y_ticks,
               const std::string& x_label, const std::string& y_label, bool grid_lines,
               double y_label_x) {
  out += "<g class=\"axes\" stroke=\"#444444\" stroke-width=\"1\" fill=\"none\">\n";
  for (double t : x_ticks) {
    const double px = x.pixel(t);
    if (grid_lines)
      out += fmt::format(
          "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e4e4e4\"/>\n",
          px, frame.top, frame.bottom());
    out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>\n", px,
                       frame.bottom(), frame.bottom() + 5);
  }
  for (double t : y_ticks) {
    const double py = y.pixel(t);
    if (grid_lines)
      out += fmt::format(
          "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e4e4e4\"/>\n",
          frame.left, py, frame.right());
    out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\"/>\n",
                       frame.left - 5, py, frame.left);
  }
  out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/>\n",
                     frame.left, frame.top, frame.width, frame.height);
  out += "</g>\n";

  out += fmt::format("<g class=\"tick-labels\" font-size=\"{}\" fill=\"#333333\">\n", kTickFont);
  for (double t : x_ticks)
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                       x.pixel(t), frame.bottom() + 8 + kTickFont, xml_escape(format_tick(t)));
  for (double t : y_ticks)
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
                       frame.left - 8, y.pixel(t) + kTickFont * 0.35, xml_escape(format_tick(t)));
  out += "</g>\n";

  if (!x_label.empty())
    out += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{}\" text-anchor=\"middle\" "
        "fill=\"#222222\">{}</text>\n",
        frame.left + frame.width / 2, frame.bottom() + 20 + kTickFont + kLabelFont, kLabelFont,
        xml_escape(x_label));
  if (!y_label.empty()) {
    const double cy = frame.top + frame.height / 2;
    out += fmt::format(
        "<text x=\"{0:.1f}\" y=\"{1:.1f}\" font-size=\"{2}\" text-anchor=\"middle\" "
        "fill=\"#222222\" transform=\"rotate(-90 {0:.1f} {1:.1f})\">{3}</text>\n",
        y_label_x, cy, kLabelFont, xml_escape(y_label));
  }
}

// Width of the widest tick label.
double tick_label_width(const std::vector<double>& ticks) {
  double w = 0.0;
  for (double t : ticks) w = std::max(w, text_width(format_tick(t), kTickFont));
  return w;
}

// One legend row: a sample of the line, optionally with a marker, and text.
struct LegendEntry {
  std::string label;
  std::string colour;
  std::string dash;
  enum class Sample { line, line_with_dot, start_marker, end_marker } sample = Sample::line;
};

constexpr double kLegendRow = 18.0;
constexpr double kLegendSample = 26.0;

Pixel legend_size(const std::vector<LegendEntry>& entries) {
  double w = 0.0;
  for (const auto& e : entries) w = std::max(w, text_width(e.label, kLegendFont));
  return {w + kLegendSample + 26.0, kLegendRow * static_cast<double>(entries.size()) + 8.0};
}

// The inner corner of the frame whose legend box covers the fewest of
// `occupied`; ties go to top right, top left, bottom right, bottom left.
Pixel place_legend(const Frame& frame, Pixel size, const std::vector<Pixel>& occupied) {
  const double pad = 8.0;
  const std::array<Pixel, 4> corners = {
      Pixel{frame.right() - pad - size.x, frame.top + pad},
      Pixel{frame.left + pad, frame.top + pad},
      Pixel{frame.right() - pad - size.x, frame.bottom() - pad - size.y},
      Pixel{frame.left + pad, frame.bottom() - pad - size.y},
  };
  Pixel best = corners[0];
  std::size_t best_count = std::numeric_limits<std::size_t>::max();
  for (const Pixel& c : corners) {
    std::size_t count = 0;
    for (const Pixel& p : occupied)
      count += p.x >= c.x - 4 && p.x <= c.x + size.x + 4 && p.y >= c.y - 4 && p.y <= c.y + size.y + 4;
    if (count < best_count) {
      best_count = count;
      best = c;
    }
  }
  return best;
}

void draw_legend(std::string& out, const std::vector<LegendEntry>& entries, Pixel at, Pixel size) {
  if (entries.empty()) return;
  out += fmt::format(
      "<g class=\"legend\" font-size=\"{}\">\n<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
      "height=\"{:.1f}\" fill=\"#ffffff\" fill-opacity=\"0.88\" stroke=\"#bbbbbb\" rx=\"3\"/>\n",
      kLegendFont, at.x, at.y, size.x, size.y);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    const double cy = at.y + 4.0 + kLegendRow * (static_cast<double>(i) + 0.5);
    const double x0 = at.x + 8.0, x1 = x0 + kLegendSample, xm = (x0 + x1) / 2;
    using Sample = LegendEntry::Sample;
    if (e.sample == Sample::line || e.sample == Sample::line_with_dot) {
      out += fmt::format(
          "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
          "stroke-width=\"2.2\"{}/>\n",
          x0, cy, x1, cy, e.colour,
          e.dash.empty() ? std::string() : fmt::format(" stroke-dasharray=\"{}\"", e.dash));
    }
    if (e.sample == Sample::line_with_dot)
      out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.6\" fill=\"{}\"/>\n", xm, cy,
                         e.colour);
    if (e.sample == Sample::start_marker)
      out += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"#ffffff\" stroke=\"{}\" "
          "stroke-width=\"2\"/>\n",
          xm, cy, e.colour);
    if (e.sample == Sample::end_marker)
      out += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"9\" height=\"9\" fill=\"{}\" stroke=\"#000000\" "
          "stroke-width=\"1\"/>\n",
          xm - 4.5, cy - 4.5, e.colour);
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#222222\">{}</text>\n", x1 + 8.0,
                       cy + kLegendFont * 0.35, xml_escape(e.label));
  }
  out += "</g>\n";
}

// Pixel polylines of data, broken where a point cannot be shown, with points
// closer than half a pixel to the previous kept one dropped (the last point
// of each run is always kept).
using Run = std::vector<Pixel>;

void append_path_data(std::string& d, const std::vector<Run>& runs) {
  for (const Run& run : runs) {
    if (run.empty()) continue;
    for (std::size_t k = 0; k < run.size(); ++k)
      d += fmt::format("{}{:.1f} {:.1f}", k == 0 ? (d.empty() ? "M" : " M") : " L", run[k].x,
                       run[k].y);
    if (run.size() == 1) d += fmt::format(" l 0.01 0");  // a lone point still shows its cap
  }
}

std::vector<Run> thin_runs(std::vector<Run> runs) {
  for (Run& run : runs) {
    if (run.size() <= 2) continue;
    Run kept{run.front()};
    for (std::size_t k = 1; k + 1 < run.size(); ++k) {
      const double dx = run[k].x - kept.back().x, dy = run[k].y - kept.back().y;
      if (dx * dx + dy * dy >= 0.25) kept.push_back(run[k]);
    }
    kept.push_back(run.back());
    run = std::move(kept);
  }
  return runs;
}

// Samples along every segment of the runs, every few pixels, for legend
// placement.
void add_occupied(std::vector<Pixel>& occupied, const std::vector<Run>& runs) {
  for (const Run& run : runs) {
    if (run.size() == 1) occupied.push_back(run[0]);
    for (std::size_t k = 0; k + 1 < run.size(); ++k) {
      const double dx = run[k + 1].x - run[k].x, dy = run[k + 1].y - run[k].y;
      const int n = std::min(200, 1 + static_cast<int>(std::hypot(dx, dy) / 4.0));
      for (int i = 0; i <= n; ++i)
        occupied.push_back({run[k].x + dx * i / n, run[k].y + dy * i / n});
    }
  }
}

void check_size(int width, int height, const char* type) {
  DESCENT_REQUIRE(width >= 200 && width <= 10000,
          fmt::format("{}::width must be in [200, 10000]; got {}", type, width));
  DESCENT_REQUIRE(height >= 200 && height <= 10000,
          fmt::format("{}::height must be in [200, 10000]; got {}", type, height));
}

// ---------------------------------------------------------------------------
// Marching squares
// ---------------------------------------------------------------------------

struct Lattice {
  const Eigen::MatrixXd& v;
  double x_min, x_max, y_min, y_max;
  double x(Index i) const {
    return i == v.rows() - 1 ? x_max
                             : x_min + (x_max - x_min) * static_cast<double>(i) /
                                           static_cast<double>(v.rows() - 1);
  }
  double y(Index j) const {
    return j == v.cols() - 1 ? y_max
                             : y_min + (y_max - y_min) * static_cast<double>(j) /
                                           static_cast<double>(v.cols() - 1);
  }
};

// Where the contour crosses the edge from (i0, j0) to (i1, j1), the second
// corner one step right or up from the first. The same edge seen from the two
// cells that share it gives the same bits, so segments chain exactly.
std::array<double, 2> edge_point(const Lattice& g, double level, Index i0, Index j0, Index i1,
                                 Index j1) {
  const double a = g.v(i0, j0), b = g.v(i1, j1);
  const double t = (level - a) / (b - a);
  if (i0 == i1) return {g.x(i0), g.y(j0) + t * (g.y(j1) - g.y(j0))};
  return {g.x(i0) + t * (g.x(i1) - g.x(i0)), g.y(j0)};
}

}  // namespace

std::vector<std::array<double, 4>> contour_segments(const Eigen::MatrixXd& grid_values,
                                                    double level, double x_min, double x_max,
                                                    double y_min, double y_max) {
  DESCENT_REQUIRE(grid_values.rows() >= 2 && grid_values.cols() >= 2,
          fmt::format("contour_segments: grid_values must be at least 2 x 2; got {} x {}",
                      grid_values.rows(), grid_values.cols()));
  std::vector<std::array<double, 4>> segments;
  if (!std::isfinite(level)) return segments;
  const Lattice g{grid_values, x_min, x_max, y_min, y_max};

  // Corners a = (i, j), b = (i+1, j), c = (i+1, j+1), d = (i, j+1); edges
  // 0 = ab (bottom), 1 = bc (right), 2 = dc (top), 3 = ad (left). The case is
  // the set of corners at or above the level; each entry lists edge pairs.
  constexpr int kNone = -1;
  constexpr std::array<std::array<int, 4>, 16> kCases = {{
      {kNone, kNone, kNone, kNone},  // 0
      {3, 0, kNone, kNone},          // a
      {0, 1, kNone, kNone},          // b
      {3, 1, kNone, kNone},          // a b
      {1, 2, kNone, kNone},          // c
      {kNone, kNone, kNone, kNone},  // a c: saddle, below
      {0, 2, kNone, kNone},          // b c
      {2, 3, kNone, kNone},          // a b c
      {2, 3, kNone, kNone},          // d
      {0, 2, kNone, kNone},          // a d
      {kNone, kNone, kNone, kNone},  // b d: saddle, below
      {1, 2, kNone, kNone},          // a b d
      {3, 1, kNone, kNone},          // c d
      {0, 1, kNone, kNone},          // a c d
      {3, 0, kNone, kNone},          // b c d
      {kNone, kNone, kNone, kNone},  // 15
  }};

  for (Index i = 0; i + 1 < grid_values.rows(); ++i) {
    for (Index j = 0; j + 1 < grid_values.cols(); ++j) {
      const double a = grid_values(i, j), b = grid_values(i + 1, j);
      const double c = grid_values(i + 1, j + 1), d = grid_values(i, j + 1);
      if (!std::isfinite(a) || !std::isfinite(b) || !std::isfinite(c) || !std::isfinite(d))
        continue;
      const int index = (a >= level) | (b >= level) << 1 | (c >= level) << 2 | (d >= level) << 3;
      std::array<int, 4> edges = kCases[static_cast<std::size_t>(index)];

      // Saddles: the mean of the corners decides which pair is joined
      // through the middle of the cell.
      if (index == 5 || index == 10) {
        const bool centre_above = (a + b + c + d) / 4.0 >= level;
        const bool cut_a_c = (index == 5) != centre_above;  // a and c isolated
        edges = cut_a_c ? std::array<int, 4>{3, 0, 1, 2} : std::array<int, 4>{0, 1, 2, 3};
      }
      auto point = [&](int edge) {
        switch (edge) {
          case 0: return edge_point(g, level, i, j, i + 1, j);
          case 1: return edge_point(g, level, i + 1, j, i + 1, j + 1);
          case 2: return edge_point(g, level, i, j + 1, i + 1, j + 1);
          default: return edge_point(g, level, i, j, i, j + 1);
        }
      };
      for (std::size_t k = 0; k < 4 && edges[k] != kNone; k += 2) {
        const auto p = point(edges[k]), q = point(edges[k + 1]);
        if (p != q) segments.push_back({p[0], p[1], q[0], q[1]});  // not through a corner only
      }
    }
  }
  return segments;
}

namespace {

// Joins segments that share end points into polylines, so each contour is
// one stroke with proper joins and the file stays small.
std::vector<std::vector<std::array<double, 2>>> chain_segments(
    const std::vector<std::array<double, 4>>& segments) {
  using Point = std::pair<double, double>;
  std::multimap<Point, std::size_t> at;  // end point -> segment
  for (std::size_t s = 0; s < segments.size(); ++s) {
    at.emplace(Point{segments[s][0], segments[s][1]}, s);
    at.emplace(Point{segments[s][2], segments[s][3]}, s);
  }
  std::vector<bool> used(segments.size(), false);

  // From end point p, an unused segment touching p, and its other end.
  auto next = [&](Point p) -> std::optional<Point> {
    auto [first, last] = at.equal_range(p);
    for (auto it = first; it != last; ++it) {
      const std::size_t s = it->second;
      if (used[s]) continue;
      used[s] = true;
      const Point a{segments[s][0], segments[s][1]}, b{segments[s][2], segments[s][3]};
      return a == p ? b : a;
    }
    return std::nullopt;
  };

  std::vector<std::vector<std::array<double, 2>>> lines;
  for (std::size_t s = 0; s < segments.size(); ++s) {
    if (used[s]) continue;
    used[s] = true;
    std::vector<Point> forward{{segments[s][0], segments[s][1]}, {segments[s][2], segments[s][3]}};
    while (auto p = next(forward.back())) forward.push_back(*p);
    std::vector<Point> backward;
    Point tail = forward.front();
    while (auto p = next(tail)) {
      backward.push_back(*p);
      tail = *p;
    }
    std::vector<std::array<double, 2>> line;
    line.reserve(backward.size() + forward.size());
    for (auto it = backward.rbegin(); it != backward.rend(); ++it) line.push_back({it->first, it->second});
    for (const Point& p : forward) line.push_back({p.first, p.second});
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace

std::vector<double> contour_levels(const Eigen::MatrixXd& grid_values, int count, bool log_levels) {
  std::vector<double> finite;
  finite.reserve(static_cast<std::size_t>(grid_values.size()));
  for (Index k = 0; k < grid_values.size(); ++k)
    if (std::isfinite(grid_values.data()[k])) finite.push_back(grid_values.data()[k]);
  std::vector<double> levels;
  if (count < 1 || finite.empty()) return levels;
  const auto [min_it, max_it] = std::minmax_element(finite.begin(), finite.end());
  const double f_min = *min_it, f_max = *max_it;
  if (!(f_max > f_min)) return levels;

  if (!log_levels) {
    for (int k = 1; k <= count; ++k) levels.push_back(f_min + (f_max - f_min) * k / (count + 1));
    return levels;
  }

  // Log spacing in d = f - f_min: from a low quantile of the positive gaps
  // (a small contour around the grid minimum) up to just below the largest
  // gap, the same ratio between consecutive levels.
  std::vector<double> gaps;
  gaps.reserve(finite.size());
  for (double v : finite)
    if (v > f_min) gaps.push_back(v - f_min);
  const double hi = f_max - f_min;
  const std::size_t q = gaps.size() / 100;
  std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(q), gaps.end());
  double lo = std::max(gaps[q], hi * 1e-9);
  if (!(lo < hi)) lo = hi * 1e-3;
  const double ratio = std::pow(hi / lo, 1.0 / count);
  for (int k = 0; k < count; ++k) levels.push_back(f_min + lo * std::pow(ratio, k));
  return levels;
}

std::vector<double> linear_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo)) return ticks;
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  const double mantissa = norm < 1.5 ? 1.0 : norm < 3.5 ? 2.0 : norm < 7.5 ? 5.0 : 10.0;
  const double step = mantissa * magnitude;
  // k * mantissa is an exact integer; dividing it by an exact power of ten
  // rounds once, so 3 * 0.2 comes out as the double nearest 0.6.
  const double exponent = std::round(std::log10(magnitude));
  const double scale = std::pow(10.0, std::abs(exponent));
  const double first = std::ceil(lo / step - 1e-9), last = std::floor(hi / step + 1e-9);
  for (double k = first; k <= last; k += 1.0)
    ticks.push_back(exponent < 0 ? (k * mantissa) / scale : (k * mantissa) * scale);
  return ticks;
}

std::vector<double> log_ticks(double lo, double hi, int base) {
  std::vector<double> ticks;
  if (!(lo > 0.0) || !std::isfinite(hi) || !(hi > lo)) return ticks;
  const double log_base = std::log(static_cast<double>(base));
  const int e_lo = static_cast<int>(std::ceil(std::log(lo) / log_base - 1e-9));
  const int e_hi = static_cast<int>(std::floor(std::log(hi) / log_base + 1e-9));
  auto power = [&](int e) { return base == 2 ? std::ldexp(1.0, e) : std::pow(10.0, e); };

  const int powers = e_hi - e_lo + 1;
  if (powers >= 2 && !(base == 10 && powers < 3)) {
    const int stride = std::max(1, (powers + 9) / 10);
    // Keep the powers divisible by the stride, so 1 is a tick when it shows.
    int start = e_lo;
    while (((start % stride) + stride) % stride != 0) ++start;
    for (int e = start; e <= e_hi; e += stride) ticks.push_back(power(e));
    if (ticks.size() >= 2) return ticks;
    ticks.clear();
  }
  if (base == 10) {
    const int first = static_cast<int>(std::floor(std::log10(lo)));
    const int last = static_cast<int>(std::floor(std::log10(hi)));
    for (int e = first; e <= last; ++e)
      for (double m : {1.0, 2.0, 5.0}) {
        // Divide by an exact power of ten, so 2e-2 is the double nearest 0.02.
        const double v = e < 0 ? m / std::pow(10.0, -e) : m * std::pow(10.0, e);
        if (v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12)) ticks.push_back(v);
      }
    if (ticks.size() >= 2) return ticks;
  }
  ticks.clear();
  for (double v : linear_ticks(lo, hi, 5))
    if (v > 0.0) ticks.push_back(v);
  return ticks;
}

std::string format_tick(double value) {
  if (value == 0.0) return "0";
  if (!std::isfinite(value)) return fmt::format("{}", value);
  const double a = std::abs(value);
  if (a >= 1e-4 && a < 1e6) return fmt::format("{:.6g}", value);
  // Exponent form without the '+' and the padding zeros: 1e-06 -> 1e-6.
  std::string s = fmt::format("{:.3g}", value);
  const std::size_t e = s.find('e');
  if (e == std::string::npos) return s;
  std::string mantissa = s.substr(0, e), exponent = s.substr(e + 1);
  std::string sign;
  if (!exponent.empty() && (exponent[0] == '+' || exponent[0] == '-')) {
    if (exponent[0] == '-') sign = "-";
    exponent.erase(0, 1);
  }
  exponent.erase(0, std::min(exponent.find_first_not_of('0'), exponent.size() - 1));
  return mantissa + "e" + sign + exponent;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters other than tab and newline are not allowed in
        // XML 1.0 at all; drop them.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') out += c;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Contour plot
// ---------------------------------------------------------------------------

void ContourPlotOptions::validate() const {
  DESCENT_REQUIRE(std::isfinite(x_min) && std::isfinite(x_max) && x_min < x_max,
          fmt::format("ContourPlotOptions: need finite x_min < x_max; got x_min = {}, x_max = {}",
                      x_min, x_max));
  DESCENT_REQUIRE(std::isfinite(y_min) && std::isfinite(y_max) && y_min < y_max,
          fmt::format("ContourPlotOptions: need finite y_min < y_max; got y_min = {}, y_max = {}",
                      y_min, y_max));
  DESCENT_REQUIRE(grid >= 2 && grid <= 2000,
          fmt::format("ContourPlotOptions::grid must be in [2, 2000]; got {}", grid));
  DESCENT_REQUIRE(levels >= 1 && levels <= 200,
          fmt::format("ContourPlotOptions::levels must be in [1, 200]; got {}", levels));
  check_size(width, height, "ContourPlotOptions");
}

ContourPlotOptions fit_box(std::span<const PlotPath> paths, double margin_fraction) {
  DESCENT_REQUIRE(margin_fraction >= 0.0 && std::isfinite(margin_fraction),
          fmt::format("fit_box: margin_fraction must be finite and >= 0; got {}", margin_fraction));
  constexpr double inf = std::numeric_limits<double>::infinity();
  double x_lo = inf, x_hi = -inf, y_lo = inf, y_hi = -inf;
  for (const PlotPath& path : paths)
    for (const auto& p : path.points) {
      if (!std::isfinite(p[0]) || !std::isfinite(p[1])) continue;
      x_lo = std::min(x_lo, p[0]);
      x_hi = std::max(x_hi, p[0]);
      y_lo = std::min(y_lo, p[1]);
      y_hi = std::max(y_hi, p[1]);
    }
  if (x_lo > x_hi) x_lo = x_hi = 0.0;
  if (y_lo > y_hi) y_lo = y_hi = 0.0;

  auto widen = [&](double& lo, double& hi) {
    const double extent = hi - lo;
    const double floor_half = std::max(1.0, std::max(std::abs(lo), std::abs(hi))) *
                              std::max(margin_fraction, 0.1);
    double pad = extent * margin_fraction;
    // A side too thin to show (all points equal, or almost) gets a width
    // proportional to the magnitude of its coordinates instead.
    if (extent + 2 * pad < 2 * floor_half * 1e-6 || extent == 0.0) pad = floor_half;
    lo -= pad;
    hi += pad;
  };
  widen(x_lo, x_hi);
  widen(y_lo, y_hi);

  ContourPlotOptions options;
  options.x_min = x_lo;
  options.x_max = x_hi;
  options.y_min = y_lo;
  options.y_max = y_hi;
  return options;
}

std::string contour_plot_svg(const std::function<double(double, double)>& f,
                             std::span<const PlotPath> paths, const ContourPlotOptions& options) {
  options.validate();
  require(static_cast<bool>(f), "contour_plot_svg: f is empty");

  // Layout: a title line and a caption line on top, tick labels and axis
  // labels on the left and bottom. With equal_aspect the rectangle grows
  // about its centre in one direction until a unit spans as many pixels in
  // x as in y; the y tick labels, and so the frame, may change with it, so
  // the layout is computed twice.
  double x_min = options.x_min, x_max = options.x_max;
  double y_min = options.y_min, y_max = options.y_max;
  const double top = options.title.empty() ? 32.0 : 52.0;
  auto layout = [&] {
    const std::vector<double> y_ticks =
        linear_ticks(y_min, y_max, std::max(3, options.height / 70));
    const double left = 24.0 + kLabelFont + tick_label_width(y_ticks);
    return Frame{left, top, options.width - left - 24.0, options.height - top - 56.0};
  };
  Frame frame = layout();
  for (int pass = 0; pass < 2 && options.equal_aspect; ++pass) {
    x_min = options.x_min, x_max = options.x_max, y_min = options.y_min, y_max = options.y_max;
    const double x_scale = frame.width / (x_max - x_min), y_scale = frame.height / (y_max - y_min);
    auto grow = [](double& lo, double& hi, double span) {
      const double mid = (lo + hi) / 2;
      lo = mid - span / 2;
      hi = mid + span / 2;
    };
    if (x_scale > y_scale) grow(x_min, x_max, frame.width / y_scale);
    else grow(y_min, y_max, frame.height / x_scale);
    frame = layout();
  }
  const std::vector<double> y_ticks = linear_ticks(y_min, y_max, std::max(3, options.height / 70));
  const std::vector<double> x_ticks =
      linear_ticks(x_min, x_max, std::max(3, static_cast<int>(frame.width / 90)));
  const Axis x_axis{x_min, x_max, false, frame.left, frame.right()};
  const Axis y_axis{y_min, y_max, false, frame.bottom(), frame.top};

  // Sample f on the lattice and pick the levels.
  const Index n = options.grid;
  Eigen::MatrixXd values(n, n);
  const Lattice lattice{values, x_min, x_max, y_min, y_max};
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j) values(i, j) = f(lattice.x(i), lattice.y(j));
  const std::vector<double> levels = contour_levels(values, options.levels, options.log_levels);
  double f_min = std::numeric_limits<double>::infinity();
  for (Index k = 0; k < values.size(); ++k)
    if (std::isfinite(values.data()[k])) f_min = std::min(f_min, values.data()[k]);

  std::string out;
  open_svg(out, options.width, options.height);
  clip_path(out, frame);
  title_text(out, options.title, frame, 24.0);
  if (!levels.empty()) {
    const std::string caption =
        options.log_levels
            ? fmt::format("{} contour levels, log-spaced in f \u2212 f_min from {} to {} "
                          "(f_min = {} on the grid)",
                          levels.size(), short_number(levels.front() - f_min),
                          short_number(levels.back() - f_min), short_number(f_min))
            : fmt::format("{} contour levels, evenly spaced from {} to {}", levels.size(),
                          short_number(levels.front()), short_number(levels.back()));
    out += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{}\" text-anchor=\"middle\" "
        "fill=\"#666666\">{}</text>\n",
        frame.left + frame.width / 2, top - 10.0, kTickFont, xml_escape(caption));
  }

  // Contour lines, one path per level, dark near the minimum and fading
  // outwards so the solver paths stay in front.
  out += "<g class=\"contours\" clip-path=\"url(#plot-area)\" fill=\"none\" stroke-width=\"0.8\">\n";
  for (std::size_t l = 0; l < levels.size(); ++l) {
    const auto lines =
        chain_segments(contour_segments(values, levels[l], x_min, x_max, y_min, y_max));
    std::vector<Run> runs;
    for (const auto& line : lines) {
      Run run;
      for (const auto& p : line) run.push_back({x_axis.pixel(p[0]), y_axis.pixel(p[1])});
      runs.push_back(std::move(run));
    }
    std::string d;
    append_path_data(d, thin_runs(std::move(runs)));
    if (d.empty()) continue;
    const double t = levels.size() > 1 ? static_cast<double>(l) / (levels.size() - 1) : 0.0;
    const int grey = static_cast<int>(std::lround(95 + 110 * t));
    out += fmt::format("<path class=\"contour\" stroke=\"#{0:02x}{0:02x}{1:02x}\" d=\"{2}\"/>\n",
                       grey, std::min(255, grey + 12), d);
  }
  out += "</g>\n";

  draw_axes(out, frame, x_axis, y_axis, x_ticks, y_ticks, options.x_label, options.y_label, false,
            14.0);

  // The paths: a line through the iterates, dots at them when there are few
  // enough to tell apart, a hollow circle at the start and a square at the end.
  std::vector<Pixel> occupied;
  std::vector<LegendEntry> legend;
  out += "<g class=\"paths\" clip-path=\"url(#plot-area)\">\n";
  for (std::size_t s = 0; s < paths.size(); ++s) {
    const PlotPath& path = paths[s];
    const char* colour = colour_of(s);
    std::vector<Run> runs(1);
    std::size_t shown = 0;
    for (const auto& p : path.points) {
      if (!std::isfinite(p[0]) || !std::isfinite(p[1])) {
        if (!runs.back().empty()) runs.emplace_back();
        continue;
      }
      runs.back().push_back({x_axis.pixel(p[0]), y_axis.pixel(p[1])});
      ++shown;
    }
    add_occupied(occupied, runs);
    runs = thin_runs(std::move(runs));
    legend.push_back({path.label, colour, dash_of(s),
                      shown <= 300 ? LegendEntry::Sample::line_with_dot : LegendEntry::Sample::line});
    std::string d;
    append_path_data(d, runs);
    if (d.empty()) continue;
    out += fmt::format(
        "<path class=\"method-path\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\" "
        "stroke-linejoin=\"round\" stroke-linecap=\"round\"{} d=\"{}\"/>\n",
        colour, dash_attribute(s), d);
    if (shown <= 300) {
      out += fmt::format("<g fill=\"{}\">", colour);
      for (const Run& run : runs)
        for (const Pixel& p : run)
          out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.2\"/>", p.x, p.y);
      out += "</g>\n";
    }
  }
  // Start and end markers go over every line.
  for (std::size_t s = 0; s < paths.size(); ++s) {
    const auto& points = paths[s].points;
    auto finite = [](const std::array<double, 2>& p) {
      return std::isfinite(p[0]) && std::isfinite(p[1]);
    };
    const auto first = std::find_if(points.begin(), points.end(), finite);
    const auto last = std::find_if(points.rbegin(), points.rend(), finite);
    if (first == points.end()) continue;
    out += fmt::format(
        "<circle class=\"start\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"#ffffff\" "
        "fill-opacity=\"0.6\" stroke=\"{}\" stroke-width=\"2\"/>\n",
        x_axis.pixel((*first)[0]), y_axis.pixel((*first)[1]), colour_of(s));
    out += fmt::format(
        "<rect class=\"end\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"9\" height=\"9\" fill=\"{}\" "
        "stroke=\"#000000\" stroke-width=\"1\"/>\n",
        x_axis.pixel((*last)[0]) - 4.5, y_axis.pixel((*last)[1]) - 4.5, colour_of(s));
  }
  out += "</g>\n";

  if (!paths.empty()) {
    legend.push_back({"start", "#444444", "", LegendEntry::Sample::start_marker});
    legend.push_back({"end", "#444444", "", LegendEntry::Sample::end_marker});
  }
  const Pixel size = legend_size(legend);
  draw_legend(out, legend, place_legend(frame, size, occupied), size);
  out += "</svg>\n";
  return out;
}

// ---------------------------------------------------------------------------
// Line chart
// ---------------------------------------------------------------------------

void LineChartOptions::validate() const {
  check_size(width, height, "LineChartOptions");
  DESCENT_REQUIRE(log_x_base == 2 || log_x_base == 10,
          fmt::format("LineChartOptions::log_x_base must be 2 or 10; got {}", log_x_base));
  auto check_limit = [](const std::optional<double>& v, bool log, const char* field) {
    if (!v) return;
    DESCENT_REQUIRE(std::isfinite(*v) && (!log || *v > 0.0),
            fmt::format("LineChartOptions::{} must be finite{}; got {}", field,
                        log ? " and > 0 on a logarithmic axis" : "", *v));
  };
  check_limit(x_min, log_x, "x_min");
  check_limit(x_max, log_x, "x_max");
  check_limit(y_min, log_y, "y_min");
  check_limit(y_max, log_y, "y_max");
  if (x_min && x_max)
    DESCENT_REQUIRE(*x_min < *x_max, fmt::format("LineChartOptions: need x_min < x_max; got {} and {}",
                                         *x_min, *x_max));
  if (y_min && y_max)
    DESCENT_REQUIRE(*y_min < *y_max, fmt::format("LineChartOptions: need y_min < y_max; got {} and {}",
                                         *y_min, *y_max));
}

namespace {

// The range of one axis: the given limits, else the data's extent, padded by
// `pad` of it (in log10 on a log axis), and never empty.
std::pair<double, double> axis_range(const std::vector<double>& data, bool log,
                                     std::optional<double> given_lo, std::optional<double> given_hi,
                                     double pad) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : data)
    if (std::isfinite(v) && (!log || v > 0.0)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (given_lo) lo = *given_lo;
  if (given_hi) hi = *given_hi;
  if (lo > hi) {  // no data: a unit range next to whichever limit was given
    if (given_lo) hi = log ? lo * 10 : lo + 1;
    else if (given_hi) lo = log ? hi / 10 : hi - 1;
    else { lo = log ? 1.0 : 0.0; hi = log ? 10.0 : 1.0; }
  }
  if (log) {
    double a = std::log10(lo), b = std::log10(hi);
    if (b - a < 1e-12) { a -= given_lo ? 0.0 : 0.5; b += given_hi ? 0.0 : 0.5; if (b - a < 1e-12) b = a + 1; }
    const double p = (b - a) * pad;
    if (!given_lo) a -= p;
    if (!given_hi) b += p;
    return {std::pow(10.0, a), std::pow(10.0, b)};
  }
  if (hi - lo <= std::abs(hi) * 1e-12 || hi == lo) {
    const double half = std::max(1.0, std::abs(hi)) * 0.5;
    if (!given_lo) lo -= half;
    if (!given_hi) hi += half;
    if (!(hi > lo)) hi = lo + 1;
  }
  const double p = (hi - lo) * pad;
  if (!given_lo) lo -= p;
  if (!given_hi) hi += p;
  return {lo, hi};
}

}  // namespace

std::string line_chart_svg(std::span<const Series> series, const LineChartOptions& options) {
  options.validate();
  for (std::size_t s = 0; s < series.size(); ++s)
    DESCENT_REQUIRE(series[s].x.size() == series[s].y.size(),
            fmt::format("line_chart_svg: series {} ('{}') has {} x values and {} y values", s,
                        series[s].label, series[s].x.size(), series[s].y.size()));

  // Ranges from the data where not given: x tight, y padded by 4%.
  std::vector<double> xs, ys;
  for (const Series& s : series) {
    for (std::size_t k = 0; k < s.x.size(); ++k) {
      if (!std::isfinite(s.x[k]) || !std::isfinite(s.y[k])) continue;
      if ((options.log_x && s.x[k] <= 0.0) || (options.log_y && s.y[k] <= 0.0)) continue;
      xs.push_back(s.x[k]);
      ys.push_back(s.y[k]);
    }
  }
  const auto [x_lo, x_hi] = axis_range(xs, options.log_x, options.x_min, options.x_max, 0.0);
  const auto [y_lo, y_hi] = axis_range(ys, options.log_y, options.y_min, options.y_max, 0.04);

  // Layout: the left margin fits the widest y tick label.
  const int y_target = std::max(3, options.height / 70);
  const std::vector<double> y_ticks =
      options.log_y ? log_ticks(y_lo, y_hi, 10) : linear_ticks(y_lo, y_hi, y_target);
  const double left = 24.0 + kLabelFont + tick_label_width(y_ticks);
  const double top = options.title.empty() ? 20.0 : 40.0;
  const double bottom = options.x_label.empty() ? 34.0 : 56.0;
  const Frame frame{left, top, options.width - left - 24.0, options.height - top - bottom};
  const int x_target = std::max(3, static_cast<int>(frame.width / 90));
  const std::vector<double> x_ticks =
      options.log_x ? log_ticks(x_lo, x_hi, options.log_x_base) : linear_ticks(x_lo, x_hi, x_target);
  const Axis x_axis{x_lo, x_hi, options.log_x, frame.left, frame.right()};
  const Axis y_axis{y_lo, y_hi, options.log_y, frame.bottom(), frame.top};

  std::string out;
  open_svg(out, options.width, options.height);
  clip_path(out, frame);
  title_text(out, options.title, frame, 26.0);
  draw_axes(out, frame, x_axis, y_axis, x_ticks, y_ticks, options.x_label, options.y_label, true,
            14.0);

  // Each series as one path; a point that cannot be shown breaks the line.
  // Coordinates are clamped far outside the frame so huge values stay finite.
  auto clamp_px = [](double v, double lo, double hi) {
    const double span = hi - lo;
    return std::clamp(v, lo - 10 * span, hi + 10 * span);
  };
  std::vector<Pixel> occupied;
  std::vector<LegendEntry> legend;
  out += "<g class=\"series\" clip-path=\"url(#plot-area)\" fill=\"none\">\n";
  for (std::size_t s = 0; s < series.size(); ++s) {
    const Series& ser = series[s];
    std::vector<Run> runs(1);
    for (std::size_t k = 0; k < ser.x.size(); ++k) {
      if (!x_axis.admits(ser.x[k]) || !y_axis.admits(ser.y[k])) {
        if (!runs.back().empty()) runs.emplace_back();
        continue;
      }
      const Pixel p{clamp_px(x_axis.pixel(ser.x[k]), frame.left, frame.right()),
                    clamp_px(y_axis.pixel(ser.y[k]), frame.top, frame.bottom())};
      if (options.steps && !runs.back().empty()) runs.back().push_back({p.x, runs.back().back().y});
      runs.back().push_back(p);
    }
    add_occupied(occupied, runs);
    std::size_t points = 0;
    for (const Run& run : runs) points += run.size();
    const bool markers = !options.steps && points <= 40;
    legend.push_back({ser.label, colour_of(s), dash_of(s),
                      markers ? LegendEntry::Sample::line_with_dot : LegendEntry::Sample::line});
    runs = thin_runs(std::move(runs));
    std::string d;
    append_path_data(d, runs);
    // Every series gets its path element, empty or not, so the count matches.
    out += fmt::format(
        "<path class=\"series\" stroke=\"{}\" stroke-width=\"2\" stroke-linejoin=\"round\"{} "
        "d=\"{}\"/>\n",
        colour_of(s), dash_attribute(s), d);
    if (markers) {
      out += fmt::format("<g fill=\"{}\">", colour_of(s));
      for (const Run& run : runs)
        for (const Pixel& p : run)
          out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.6\"/>", p.x, p.y);
      out += "</g>\n";
    }
  }
  out += "</g>\n";

  const Pixel size = legend_size(legend);
  draw_legend(out, legend, place_legend(frame, size, occupied), size);
  out += "</svg>\n";
  return out;
}

}  // namespace descent::io
