// Self-contained SVG 1.1 figures: contour plots of a two-dimensional function
// with solver paths drawn on them, and line charts (loss curves, performance
// profiles). The output is one string of UTF-8 text with no external fonts,
// stylesheets or scripts, so a browser or rsvg-convert shows it as it is.
//
// Glossary:
//   grid      the matrix of samples f(x_i, y_j), row i along x, column j along y
//   level     a value c whose contour {f = c} is traced by marching squares
//   segment   one piece of a contour inside one grid cell, {x0, y0, x1, y1}
//   series    one line of a line chart: parallel vectors x and y
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

namespace descent::io {

// ---------------------------------------------------------------------------
// Contour plot with paths
// ---------------------------------------------------------------------------

// The iterates of one method, in order. Non-finite points break the line.
struct PlotPath {
  std::string label{};
  std::vector<std::array<double, 2>> points{};
};

struct ContourPlotOptions {
  // The rectangle shown, in the function's coordinates. Range: x_min < x_max,
  // y_min < y_max, all finite. fit_box() picks one around a set of paths.
  double x_min = -1.0;
  double x_max = 1.0;
  double y_min = -1.0;
  double y_max = 1.0;
  // Samples per axis for marching squares; 200 resolves Rosenbrock's valley
  // at a few hundred kilobytes of SVG. Range: [2, 2000].
  int grid = 200;
  // Number of contour levels. Range: [1, 200].
  int levels = 24;
  // Levels spaced logarithmically in f - min f (min over the finite grid
  // samples), which suits functions of huge dynamic range such as
  // Rosenbrock; false spaces them linearly in f.
  bool log_levels = true;
  // Grow the rectangle about its centre, in x or in y, until one unit spans
  // as many pixels on both axes, so circles look round.
  bool equal_aspect = false;
  std::string title{};
  std::string x_label = "x1";
  std::string y_label = "x2";
  // Size of the figure in pixels. Range: [200, 10000] each.
  int width = 720;
  int height = 600;

  // Throws descent::invalid_argument naming the first field out of range.
  void validate() const;
};

// A rectangle containing every finite point of `paths`, widened on each side
// by margin_fraction times its extent. Never degenerate: when all points
// coincide in a coordinate (or nearly, within a millionth of its magnitude,
// or there are none) that side spans 2 * max(1, |coordinate|) *
// max(margin_fraction, 0.1) instead. The other fields keep their defaults.
// Range: margin_fraction >= 0.
ContourPlotOptions fit_box(std::span<const PlotPath> paths, double margin_fraction = 0.1);

// The contour plot: contour lines of f over the rectangle, one coloured
// polyline per path with markers at the iterates (a hollow circle at the
// start, a filled square at the end), axes, a title and a legend placed in the
// corner of the plot that covers the fewest iterates. f is sampled on a
// options.grid x options.grid lattice; cells with a non-finite sample are
// skipped. Paths are clipped to the rectangle.
std::string contour_plot_svg(const std::function<double(double, double)>& f,
                             std::span<const PlotPath> paths, const ContourPlotOptions& options);

// ---------------------------------------------------------------------------
// Line chart
// ---------------------------------------------------------------------------

struct Series {
  std::string label{};
  std::vector<double> x{};  // same length as y
  std::vector<double> y{};
};

struct LineChartOptions {
  std::string title{};
  std::string x_label{};
  std::string y_label{};
  // Logarithmic axes; points with a non-positive coordinate on such an axis
  // are dropped (they break the line, as non-finite points do).
  bool log_x = false;
  bool log_y = false;
  // Ticks on a logarithmic x axis fall on powers of this base: 10 for loss
  // curves, 2 for performance profiles. Range: 2 or 10.
  int log_x_base = 10;
  // Draw each series as a right-continuous step function: y[k] holds from
  // x[k] up to x[k+1] (the shape of a performance profile).
  bool steps = false;
  // Axis limits; each one left empty is taken from the data with a little
  // padding. Must be finite, and positive on a logarithmic axis.
  std::optional<double> x_min{}, x_max{}, y_min{}, y_max{};
  // Size of the figure in pixels. Range: [200, 10000] each.
  int width = 720;
  int height = 480;

  // Throws descent::invalid_argument naming the first field out of range.
  void validate() const;
};

// One polyline per series, in a fixed colour-blind-friendly palette (Okabe
// and Ito; after eight series the colours repeat with dashes), with 1-2-5
// ticks on linear axes, powers of the base on logarithmic ones, and a legend
// in the corner that covers the fewest data points. Throws
// descent::invalid_argument when a series has x and y of different lengths.
std::string line_chart_svg(std::span<const Series> series, const LineChartOptions& options);

// ---------------------------------------------------------------------------
// Building blocks, exposed for tests and for other figures
// ---------------------------------------------------------------------------

// Marching squares on grid_values(i, j) = f(x_i, y_j), where x_i runs
// linearly from x_min (i = 0) to x_max (i = rows - 1) and y_j from y_min to
// y_max. Returns the segments {x0, y0, x1, y1} of the contour f = level,
// crossing points found by linear interpolation along cell edges; a saddle
// cell is resolved by the mean of its corners. Cells with a non-finite corner
// yield nothing. Needs at least 2 x 2 values.
std::vector<std::array<double, 4>> contour_segments(const Eigen::MatrixXd& grid_values,
                                                    double level, double x_min, double x_max,
                                                    double y_min, double y_max);

// `count` increasing contour levels for the finite values of grid_values,
// spaced as ContourPlotOptions::log_levels describes. Empty when there are
// fewer than two distinct finite values.
std::vector<double> contour_levels(const Eigen::MatrixXd& grid_values, int count, bool log_levels);

// Tick positions in [lo, hi] at multiples of 1, 2 or 5 times a power of ten,
// about `target` of them.
std::vector<double> linear_ticks(double lo, double hi, int target = 6);

// Tick positions in [lo, hi] (0 < lo < hi) at powers of `base`, thinned to at
// most about ten; for base 10 over less than one decade, 1-2-5 multiples.
std::vector<double> log_ticks(double lo, double hi, int base = 10);

// The text of a tick label: short, no trailing zeros, exponent form for very
// large or small magnitudes ("0.25", "1000", "1e-06" becomes "1e-6").
std::string format_tick(double value);

// `text` with &, <, >, " and ' replaced by XML entities.
std::string xml_escape(std::string_view text);

}  // namespace descent::io
