#include "descent/io/performance_profile.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "descent/core/error.hpp"
#include "descent/core/types.hpp"
#include "descent/io/svg.hpp"

namespace descent::io {

Eigen::MatrixXd performance_ratios(const Eigen::MatrixXd& costs) {
  DESCENT_REQUIRE(costs.rows() >= 1 && costs.cols() >= 1,
          fmt::format("performance_ratios: costs must have at least one problem (row) and one "
                      "solver (column); got {} x {}",
                      costs.rows(), costs.cols()));
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (Index p = 0; p < costs.rows(); ++p)
    for (Index s = 0; s < costs.cols(); ++s) {
      const double t = costs(p, s);
      DESCENT_REQUIRE(std::isnan(t) || t > 0.0,
              fmt::format("performance_ratios: costs({}, {}) must be > 0, or +inf or NaN for a "
                          "failure; got {}",
                          p, s, t));
    }

  // r_{p,s} = t_{p,s} / min_s t_{p,s}, eq. (1); failures get +inf, and so
  // does every solver on a problem that all of them failed.
  Eigen::MatrixXd ratios(costs.rows(), costs.cols());
  for (Index p = 0; p < costs.rows(); ++p) {
    double best = inf;
    for (Index s = 0; s < costs.cols(); ++s)
      if (std::isfinite(costs(p, s))) best = std::min(best, costs(p, s));
    for (Index s = 0; s < costs.cols(); ++s)
      ratios(p, s) = std::isfinite(costs(p, s)) ? costs(p, s) / best : inf;
  }
  return ratios;
}

PerformanceProfile performance_profile(const Eigen::MatrixXd& costs,
                                       std::vector<std::string> solver_names) {
  DESCENT_REQUIRE(static_cast<Index>(solver_names.size()) == costs.cols(),
          fmt::format("performance_profile: solver_names has {} names but costs has {} solver "
                      "columns",
                      solver_names.size(), costs.cols()));
  const Eigen::MatrixXd ratios = performance_ratios(costs);

  // Breakpoints: every distinct finite ratio, and 1 even if nothing reached it.
  PerformanceProfile profile;
  profile.solvers = std::move(solver_names);
  profile.problems = static_cast<int>(costs.rows());
  profile.tau.push_back(1.0);
  for (Index k = 0; k < ratios.size(); ++k)
    if (std::isfinite(ratios.data()[k])) profile.tau.push_back(ratios.data()[k]);
  std::sort(profile.tau.begin(), profile.tau.end());
  profile.tau.erase(std::unique(profile.tau.begin(), profile.tau.end()), profile.tau.end());

  // rho_s(tau) = #{p : r_{p,s} <= tau} / n_p, eq. (2), by binary search in
  // each solver's sorted ratios.
  const double n_p = static_cast<double>(costs.rows());
  for (Index s = 0; s < ratios.cols(); ++s) {
    std::vector<double> r(ratios.col(s).data(), ratios.col(s).data() + ratios.rows());
    std::sort(r.begin(), r.end());
    std::vector<double> rho;
    rho.reserve(profile.tau.size());
    for (double tau : profile.tau)
      rho.push_back(static_cast<double>(std::upper_bound(r.begin(), r.end(), tau) - r.begin()) /
                    n_p);
    profile.rho.push_back(std::move(rho));
  }
  return profile;
}

std::string performance_profile_svg(const PerformanceProfile& profile, const std::string& title,
                                    const std::string& cost_name) {
  DESCENT_REQUIRE(!profile.tau.empty() && profile.rho.size() == profile.solvers.size(),
          fmt::format("performance_profile_svg: profile has {} breakpoints, {} solvers and {} rho "
                      "rows; expected at least one breakpoint and one row per solver",
                      profile.tau.size(), profile.solvers.size(), profile.rho.size()));
  for (std::size_t s = 0; s < profile.rho.size(); ++s)
    DESCENT_REQUIRE(profile.rho[s].size() == profile.tau.size(),
            fmt::format("performance_profile_svg: rho[{}] has {} values for {} breakpoints", s,
                        profile.rho[s].size(), profile.tau.size()));

  // The x axis runs to a power of two past the largest ratio, so the final
  // plateau of every solver (its fraction solved at all) shows.
  const double tau_max = profile.tau.back();
  const double x_max = std::max(2.0, std::exp2(std::ceil(std::log2(tau_max * 1.25))));

  std::vector<Series> series;
  for (std::size_t s = 0; s < profile.solvers.size(); ++s) {
    Series line{profile.solvers[s], profile.tau, profile.rho[s]};
    line.x.push_back(x_max);
    line.y.push_back(profile.rho[s].back());
    series.push_back(std::move(line));
  }
  LineChartOptions options;
  options.title = title.empty() ? "Performance profile" : title;
  options.x_label = fmt::format("\u03c4: {} relative to the best solver (log2 scale)",
                                cost_name.empty() ? "cost" : cost_name);
  options.y_label = "fraction of problems with ratio \u2264 \u03c4";
  options.log_x = true;
  options.log_x_base = 2;
  options.steps = true;
  options.x_min = 1.0;
  options.x_max = x_max;
  options.y_min = -0.03;
  options.y_max = 1.03;
  return line_chart_svg(series, options);
}

}  // namespace descent::io
