#include "descent/io/svg.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <numbers>

#include "descent/core/error.hpp"
#include "io/well_formed_xml.hpp"

namespace descent::io {
namespace {

using testing::count_of;
using testing::xml_problem;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

void expect_svg_document(const std::string& svg) {
  EXPECT_EQ(svg.rfind("<svg", 0), 0u) << svg.substr(0, 80);
  EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(svg.find("nan"), std::string::npos) << "a non-finite number leaked into the output";
  EXPECT_EQ(svg.find("inf"), std::string::npos) << "a non-finite number leaked into the output";
}

Eigen::MatrixXd sample(double (*f)(double, double), int n, double lo, double hi) {
  Eigen::MatrixXd v(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      v(i, j) = f(lo + (hi - lo) * i / (n - 1), lo + (hi - lo) * j / (n - 1));
  return v;
}

double paraboloid(double x, double y) { return x * x + y * y; }
double rosenbrock(double x, double y) { return 100 * (y - x * x) * (y - x * x) + (1 - x) * (1 - x); }

// ---------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------

TEST(XmlEscape, ReplacesTheFiveSpecialCharacters) {
  EXPECT_EQ(xml_escape("a<b & \"c\" > 'd'"), "a&lt;b &amp; &quot;c&quot; &gt; &apos;d&apos;");
  EXPECT_EQ(xml_escape("plain \xcf\x84"), "plain \xcf\x84");
}

TEST(Ticks, LinearTicksStepByOneTwoOrFiveTimesAPowerOfTen) {
  EXPECT_EQ(linear_ticks(0.0, 1.0, 5), (std::vector<double>{0.0, 0.2, 0.4, 0.6, 0.8, 1.0}));
  EXPECT_EQ(linear_ticks(-2.0, 2.0, 4), (std::vector<double>{-2.0, -1.0, 0.0, 1.0, 2.0}));
  const std::vector<double> t = linear_ticks(0.013, 0.087, 6);
  ASSERT_GE(t.size(), 3u);
  for (std::size_t k = 0; k + 1 < t.size(); ++k) EXPECT_NEAR(t[k + 1] - t[k], 0.01, 1e-15);
  EXPECT_TRUE(linear_ticks(1.0, 1.0).empty());
}

TEST(Ticks, LogTicksFallOnPowersOfTheBase) {
  EXPECT_EQ(log_ticks(1.0, 1000.0, 10), (std::vector<double>{1.0, 10.0, 100.0, 1000.0}));
  EXPECT_EQ(log_ticks(1.0, 64.0, 2), (std::vector<double>{1, 2, 4, 8, 16, 32, 64}));
  // Thirty decades are thinned to every third power, keeping 10^0.
  const std::vector<double> wide = log_ticks(1e-15, 1e15, 10);
  EXPECT_LE(wide.size(), 12u);
  EXPECT_NE(std::find(wide.begin(), wide.end(), 1.0), wide.end());
  // Less than a decade: 1-2-5 multiples.
  EXPECT_EQ(log_ticks(1.5, 9.0, 10), (std::vector<double>{2.0, 5.0}));
}

TEST(Ticks, LabelsAreShortAndDropExponentPadding) {
  EXPECT_EQ(format_tick(0.0), "0");
  EXPECT_EQ(format_tick(0.25), "0.25");
  EXPECT_EQ(format_tick(0.1 + 0.2), "0.3");
  EXPECT_EQ(format_tick(1000.0), "1000");
  EXPECT_EQ(format_tick(-2.5), "-2.5");
  EXPECT_EQ(format_tick(1e-6), "1e-6");
  EXPECT_EQ(format_tick(2.5e7), "2.5e7");
  EXPECT_EQ(format_tick(1e10), "1e10");
}

// ---------------------------------------------------------------------------
// Marching squares
// ---------------------------------------------------------------------------

TEST(ContourSegments, LevelSetsOfAParaboloidAreCirclesOfTheRightRadius) {
  const int n = 101;  // spacing h = 0.02
  const Eigen::MatrixXd v = sample(paraboloid, n, -1.0, 1.0);
  // Radii whose circles miss every grid node, so each crossing is interior
  // to an edge (0.5 passes through nodes such as (0.48, 0.14); see below).
  for (double radius : {0.31, 0.55, 0.87}) {
    const auto segments = contour_segments(v, radius * radius, -1.0, 1.0, -1.0, 1.0);
    ASSERT_FALSE(segments.empty());
    double length = 0.0;
    std::map<std::pair<double, double>, int> ends;
    for (const auto& s : segments) {
      // Linear interpolation of a quadratic along an edge errs by O(h^2).
      EXPECT_NEAR(std::hypot(s[0], s[1]), radius, 1e-3);
      EXPECT_NEAR(std::hypot(s[2], s[3]), radius, 1e-3);
      length += std::hypot(s[2] - s[0], s[3] - s[1]);
      ++ends[{s[0], s[1]}];
      ++ends[{s[2], s[3]}];
    }
    EXPECT_NEAR(length, 2 * std::numbers::pi * radius, 0.01 * radius);
    // A closed curve: every end point is shared by exactly two segments.
    for (const auto& [point, count] : ends) EXPECT_EQ(count, 2) << point.first << ", " << point.second;
  }
}

TEST(ContourSegments, LevelsThroughGridNodesStillLieOnTheCircle) {
  const Eigen::MatrixXd v = sample(paraboloid, 101, -1.0, 1.0);
  const auto segments = contour_segments(v, 0.25, -1.0, 1.0, -1.0, 1.0);
  double length = 0.0;
  for (const auto& s : segments) {
    EXPECT_NEAR(std::hypot(s[0], s[1]), 0.5, 1e-3);
    EXPECT_NEAR(std::hypot(s[2], s[3]), 0.5, 1e-3);
    length += std::hypot(s[2] - s[0], s[3] - s[1]);
  }
  EXPECT_NEAR(length, std::numbers::pi, 0.01);
}

TEST(ContourSegments, UsesTheGivenRectangleAndRowsAlongX) {
  // f = x on [2, 4] x [10, 20]: the level 3 is the vertical line x = 3.
  Eigen::MatrixXd v(5, 3);
  for (int i = 0; i < 5; ++i) v.row(i).setConstant(2.0 + 0.5 * i);
  const auto segments = contour_segments(v, 3.1, 2.0, 4.0, 10.0, 20.0);
  ASSERT_EQ(segments.size(), 2u);
  for (const auto& s : segments) {
    EXPECT_DOUBLE_EQ(s[0], 3.1);
    EXPECT_DOUBLE_EQ(s[2], 3.1);
    EXPECT_GE(std::min(s[1], s[3]), 10.0);
    EXPECT_LE(std::max(s[1], s[3]), 20.0);
  }
}

TEST(ContourSegments, SkipsCellsWithNonFiniteCorners) {
  Eigen::MatrixXd v = sample(paraboloid, 41, -1.0, 1.0);
  v(20, 20) = kNaN;  // the centre
  v(10, 30) = kInf;
  v.row(0).setConstant(kNaN);
  const auto segments = contour_segments(v, 0.25, -1.0, 1.0, -1.0, 1.0);
  EXPECT_FALSE(segments.empty());
  for (const auto& s : segments)
    for (double c : s) EXPECT_TRUE(std::isfinite(c));

  Eigen::MatrixXd all_nan = Eigen::MatrixXd::Constant(10, 10, kNaN);
  EXPECT_TRUE(contour_segments(all_nan, 1.0, 0, 1, 0, 1).empty());
  EXPECT_THROW(contour_segments(Eigen::MatrixXd::Zero(1, 5), 0.0, 0, 1, 0, 1), invalid_argument);
}

TEST(ContourSegments, ResolvesSaddlesWithoutCrossingSegments) {
  // f = x * y has a saddle at the origin; the level 0.01 lies in quadrants
  // one and three, never crossing the axes.
  Eigen::MatrixXd v(2, 2);
  v << 1.0, -1.0, -1.0, 1.0;  // corners (-1,-1)=1, (-1,1)=-1, (1,-1)=-1, (1,1)=1
  for (double level : {0.5, -0.5}) {
    const auto segments = contour_segments(v, level, -1, 1, -1, 1);
    ASSERT_EQ(segments.size(), 2u) << level;
    for (const auto& s : segments) {
      // Each segment cuts off one corner: both ends near the same corner.
      EXPECT_GT(s[0] * s[2] + s[1] * s[3], 0.0);
    }
  }
}

TEST(ContourLevels, LogLevelsSpanTheDynamicRangeOfRosenbrock) {
  const Eigen::MatrixXd v = sample(rosenbrock, 200, -2.0, 2.0);
  const double f_min = v.minCoeff(), f_max = v.maxCoeff();
  const std::vector<double> levels = contour_levels(v, 24, true);
  ASSERT_EQ(levels.size(), 24u);
  for (std::size_t k = 0; k < levels.size(); ++k) {
    EXPECT_GT(levels[k], f_min);
    EXPECT_LT(levels[k], f_max);
    if (k > 0) {
      EXPECT_GT(levels[k], levels[k - 1]);
      // Equal ratios of f - f_min between neighbours.
      if (k > 1) {
        EXPECT_NEAR((levels[k] - f_min) / (levels[k - 1] - f_min),
                    (levels[k - 1] - f_min) / (levels[k - 2] - f_min), 1e-9);
      }
    }
  }
  EXPECT_LT(levels.front() - f_min, 10.0) << "the valley floor should get contours";
  EXPECT_GT(levels.back() - f_min, 1000.0);

  const std::vector<double> linear = contour_levels(v, 4, false);
  ASSERT_EQ(linear.size(), 4u);
  EXPECT_NEAR(linear[1] - linear[0], (f_max - f_min) / 5, 1e-9 * f_max);
  EXPECT_TRUE(contour_levels(Eigen::MatrixXd::Ones(3, 3), 10, true).empty());
}

// ---------------------------------------------------------------------------
// Contour plot
// ---------------------------------------------------------------------------

std::vector<PlotPath> two_paths() {
  return {
      {"L-BFGS <m=5> & co", {{-1.2, 1.0}, {-0.9, 0.8}, {-0.2, 0.0}, {0.5, 0.25}, {1.0, 1.0}}},
      {"gd", {{-1.2, 1.0}, {-1.0, 1.05}, {-0.95, 0.9}}},
  };
}

TEST(FitBox, ContainsEveryPointWithMargin) {
  const auto paths = two_paths();
  const ContourPlotOptions box = fit_box(paths, 0.1);
  EXPECT_DOUBLE_EQ(box.x_min, -1.2 - 0.22);
  EXPECT_DOUBLE_EQ(box.x_max, 1.0 + 0.22);
  EXPECT_DOUBLE_EQ(box.y_min, 0.0 - 0.105);
  EXPECT_DOUBLE_EQ(box.y_max, 1.05 + 0.105);
  EXPECT_NO_THROW(box.validate());
}

TEST(FitBox, IsNeverDegenerate) {
  const std::vector<PlotPath> one_point = {{"a", {{3.0, 3.0}, {3.0, 3.0}}}, {"b", {{kNaN, 1.0}}}};
  const ContourPlotOptions box = fit_box(one_point, 0.0);
  EXPECT_LT(box.x_min, 3.0);
  EXPECT_GT(box.x_max, 3.0);
  EXPECT_LT(box.y_min, 3.0);
  EXPECT_GT(box.y_max, 3.0);
  EXPECT_NO_THROW(box.validate());

  const std::vector<PlotPath> huge = {{"a", {{1e12, -5.0}}}};
  EXPECT_NO_THROW(fit_box(huge, 0.1).validate());
  EXPECT_NO_THROW(fit_box({}, 0.1).validate());
  EXPECT_THROW(fit_box(one_point, -1.0), invalid_argument);
}

TEST(ContourPlot, IsWellFormedWithOnePathPerMethodAndEscapedLabels) {
  const auto paths = two_paths();
  ContourPlotOptions options = fit_box(paths, 0.1);
  options.grid = 60;
  options.title = "Rosenbrock <2-D> & friends";
  const std::string svg = contour_plot_svg(rosenbrock, paths, options);
  expect_svg_document(svg);
  EXPECT_EQ(count_of(svg, "class=\"method-path\""), 2);
  EXPECT_EQ(count_of(svg, "class=\"start\""), 2);
  EXPECT_EQ(count_of(svg, "class=\"end\""), 2);
  EXPECT_GE(count_of(svg, "class=\"contour\""), 10);
  EXPECT_NE(svg.find("L-BFGS &lt;m=5&gt; &amp; co"), std::string::npos);
  EXPECT_NE(svg.find("Rosenbrock &lt;2-D&gt; &amp; friends"), std::string::npos);
  EXPECT_EQ(svg.find("<m=5>"), std::string::npos);
}

TEST(ContourPlot, SurvivesNonFiniteSamplesAndPoints) {
  std::vector<PlotPath> paths = two_paths();
  paths[0].points.insert(paths[0].points.begin() + 2, {kNaN, kInf});
  paths.push_back({"nothing finite", {{kNaN, kNaN}}});
  paths.push_back({"empty", {}});
  ContourPlotOptions options = fit_box(paths, 0.1);
  options.grid = 50;

  // NaN on half the plane, +inf on a disc.
  auto half = [](double x, double y) {
    if (x < 0) return kNaN;
    if (x * x + y * y < 0.04) return kInf;
    return rosenbrock(x, y);
  };
  expect_svg_document(contour_plot_svg(half, paths, options));

  // Nothing finite at all: no contours, still a picture.
  auto nowhere = [](double, double) { return kNaN; };
  const std::string blank = contour_plot_svg(nowhere, paths, options);
  expect_svg_document(blank);
  EXPECT_EQ(count_of(blank, "class=\"contour\""), 0);

  options.log_levels = false;
  expect_svg_document(contour_plot_svg(half, {}, options));
}

TEST(ContourPlot, RejectsABadRectangleOrGrid) {
  ContourPlotOptions options;
  options.x_min = 1.0;
  options.x_max = 1.0;
  EXPECT_THROW(contour_plot_svg(paraboloid, {}, options), invalid_argument);
  options = {};
  options.grid = 1;
  EXPECT_THROW(contour_plot_svg(paraboloid, {}, options), invalid_argument);
  options = {};
  options.y_max = kNaN;
  EXPECT_THROW(options.validate(), invalid_argument);
}

// ---------------------------------------------------------------------------
// Line chart
// ---------------------------------------------------------------------------

TEST(LineChart, IsWellFormedWithOnePathPerSeriesAndEscapedLabels) {
  std::vector<Series> series = {
      {"adam <lr=1e-3>", {0, 1, 2, 3}, {1.0, 0.5, 0.25, 0.125}},
      {"sgd & momentum", {0, 1, 2, 3}, {1.0, 0.8, 0.6, 0.4}},
      {"\"quoted\"", {0, 3}, {0.9, 0.9}},
  };
  LineChartOptions options{.title = "loss < 1", .x_label = "iteration", .y_label = "f(x) & more"};
  const std::string svg = line_chart_svg(series, options);
  expect_svg_document(svg);
  EXPECT_EQ(count_of(svg, "class=\"series\" stroke="), 3);
  EXPECT_NE(svg.find("adam &lt;lr=1e-3&gt;"), std::string::npos);
  EXPECT_NE(svg.find("sgd &amp; momentum"), std::string::npos);
  EXPECT_NE(svg.find("&quot;quoted&quot;"), std::string::npos);
  EXPECT_NE(svg.find("loss &lt; 1"), std::string::npos);
  // Three distinct colours.
  EXPECT_NE(svg.find("#0072B2"), std::string::npos);
  EXPECT_NE(svg.find("#D55E00"), std::string::npos);
  EXPECT_NE(svg.find("#009E73"), std::string::npos);
}

TEST(LineChart, LogAxesDropNonPositiveAndNonFinitePoints) {
  std::vector<Series> series = {
      {"loss", {0, 1, 2, 3, 4, 5}, {10.0, 1.0, 0.0, -1.0, kNaN, 1e-8}},
      {"all bad", {1, 2}, {kNaN, -3.0}},
  };
  LineChartOptions options{.log_x = true, .log_y = true};
  const std::string svg = line_chart_svg(series, options);
  expect_svg_document(svg);
  EXPECT_EQ(count_of(svg, "class=\"series\" stroke="), 2);
  EXPECT_NE(svg.find(">1e-8<"), std::string::npos) << "a power-of-ten tick label";
}

TEST(LineChart, HandlesEmptyAndConstantData) {
  expect_svg_document(line_chart_svg({}, {}));
  const std::vector<Series> flat = {{"flat", {2, 2, 2}, {5, 5, 5}}};
  expect_svg_document(line_chart_svg(flat, {}));
  expect_svg_document(line_chart_svg(flat, {.log_x = true, .log_y = true, .steps = true}));
  // More series than colours: the ninth repeats the first colour, dashed.
  std::vector<Series> many;
  for (int s = 0; s < 9; ++s) many.push_back({"s" + std::to_string(s), {0, 1}, {0.0 + s, 1.0 + s}});
  const std::string svg = line_chart_svg(many, {});
  expect_svg_document(svg);
  EXPECT_EQ(count_of(svg, "class=\"series\" stroke="), 9);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
}

TEST(LineChart, StepsHoldEachValueUntilTheNextX) {
  const std::vector<Series> series = {{"step", {0, 1, 2}, {0.0, 1.0, 0.5}}};
  LineChartOptions options{.steps = true, .x_min = 0.0, .x_max = 2.0, .y_min = 0.0, .y_max = 1.0};
  options.width = 300;
  options.height = 300;
  const std::string svg = line_chart_svg(series, options);
  expect_svg_document(svg);
  // Three data points become five vertices: a horizontal then a vertical move
  // between each pair.
  const std::size_t d = svg.find("d=\"", svg.find("class=\"series\" stroke="));
  const std::string path = svg.substr(d + 3, svg.find('"', d + 3) - d - 3);
  EXPECT_EQ(count_of(path, "M"), 1);
  EXPECT_EQ(count_of(path, "L"), 4) << path;
}

TEST(LineChart, RejectsMismatchedSeriesAndBadLimits) {
  const std::vector<Series> bad = {{"bad", {1, 2, 3}, {1, 2}}};
  EXPECT_THROW(line_chart_svg(bad, {}), invalid_argument);
  EXPECT_THROW(line_chart_svg({}, {.log_y = true, .y_min = 0.0}), invalid_argument);
  EXPECT_THROW(line_chart_svg({}, {.x_min = 2.0, .x_max = 1.0}), invalid_argument);
  EXPECT_THROW(line_chart_svg({}, {.log_x_base = 3}), invalid_argument);
  EXPECT_THROW(line_chart_svg({}, {.width = 10}), invalid_argument);
}

}  // namespace
}  // namespace descent::io
