// Performance profiles of Dolan and More: for each solver s, the fraction
// rho_s(tau) of problems it solves within a factor tau of the best solver.
//
// E. D. Dolan, J. J. More, "Benchmarking optimization software with
// performance profiles", Math. Program. 91 (2002) 201-213.
//
// Glossary (the paper's notation, section 2):
//   t_{p,s}    cost of solver s on problem p (evaluations, seconds...);
//              +infinity or NaN marks a failure
//   r_{p,s}    performance ratio t_{p,s} / min_s t_{p,s}, eq. (1); +infinity
//              for a failure, and for every solver on a problem all failed
//   rho_s(tau) (1/n_p) * #{p : r_{p,s} <= tau}, eq. (2); a right-continuous
//              step function of tau, nondecreasing, constant after the
//              largest finite ratio
#pragma once

#include <string>
#include <vector>

#include <Eigen/Core>

namespace descent::io {

struct PerformanceProfile {
  std::vector<std::string> solvers;
  // Breakpoints of the step functions: the distinct finite ratios, sorted,
  // always starting at 1 (tau = {1} when every solver failed everything).
  std::vector<double> tau;
  // rho[s][k] = rho_s(tau[k]); rho_s is constant between breakpoints.
  std::vector<std::vector<double>> rho;
  int problems = 0;  // n_p, the denominator of rho
};

// The ratios r_{p,s} of a problems x solvers cost matrix. A cost must be
// positive, +infinity or NaN (the last two mark failures); anything else, an
// empty matrix, throws descent::invalid_argument naming the entry.
Eigen::MatrixXd performance_ratios(const Eigen::MatrixXd& costs);

// rho_s at every breakpoint. costs is problems x solvers, validated as in
// performance_ratios; solver_names must have one name per column.
PerformanceProfile performance_profile(const Eigen::MatrixXd& costs,
                                       std::vector<std::string> solver_names);

// The profile as an SVG line chart: tau on a log2 axis from 1 to a power of
// two past the largest ratio, rho in [0, 1], one step function per solver.
// cost_name names what was counted ("function evaluations") in the x label.
std::string performance_profile_svg(const PerformanceProfile& profile, const std::string& title,
                                    const std::string& cost_name);

}  // namespace descent::io
