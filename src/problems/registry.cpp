// The catalogue of test problems and make_problem().
#include <algorithm>
#include <functional>
#include <string>

#include <fmt/format.h>

#include "descent/core/error.hpp"
#include "descent/problems/problem.hpp"
#include "factories.hpp"

namespace descent::problems {
namespace {

using Factory = std::function<std::unique_ptr<Problem>(Index, const ProblemOptions&)>;

struct Entry {
  ProblemInfo info;
  Factory make;
};

template <std::unique_ptr<Problem> (*F)(Index)>
Factory plain() {
  return [](Index n, const ProblemOptions&) { return F(n); };
}

const std::vector<Entry>& entries() {
  using namespace detail;
  static const std::vector<Entry> list = {
      {{"rosenbrock", "(1) Rosenbrock's banana valley", 2, false, true}, plain<make_rosenbrock>()},
      {{"freudenstein_roth", "(2) Freudenstein and Roth", 2, false, true}, plain<make_freudenstein_roth>()},
      {{"powell_badly_scaled", "(3) Powell badly scaled", 2, false, true}, plain<make_powell_badly_scaled>()},
      {{"brown_badly_scaled", "(4) Brown badly scaled", 2, false, true}, plain<make_brown_badly_scaled>()},
      {{"beale", "(5) Beale", 2, false, true}, plain<make_beale>()},
      {{"jennrich_sampson", "(6) Jennrich and Sampson, m = 10", 2, false, true}, plain<make_jennrich_sampson>()},
      {{"helical_valley", "(7) Helical valley", 3, false, true}, plain<make_helical_valley>()},
      {{"bard", "(8) Bard, m = 15", 3, false, true}, plain<make_bard>()},
      {{"gaussian", "(9) Gaussian, m = 15", 3, false, true}, plain<make_gaussian>()},
      {{"meyer", "(10) Meyer, m = 16", 3, false, true}, plain<make_meyer>()},
      {{"gulf", "(11) Gulf research and development, m = 99", 3, false, true}, plain<make_gulf>()},
      {{"box_3d", "(12) Box three-dimensional, m = 10", 3, false, true}, plain<make_box_3d>()},
      {{"powell_singular", "(13) Powell singular", 4, false, true}, plain<make_powell_singular>()},
      {{"wood", "(14) Wood", 4, false, true}, plain<make_wood>()},
      {{"kowalik_osborne", "(15) Kowalik and Osborne, m = 11", 4, false, true}, plain<make_kowalik_osborne>()},
      {{"brown_dennis", "(16) Brown and Dennis, m = 20", 4, false, true}, plain<make_brown_dennis>()},
      {{"osborne1", "(17) Osborne 1, m = 33", 5, false, true}, plain<make_osborne1>()},
      {{"biggs_exp6", "(18) Biggs EXP6, m = 13", 6, false, true}, plain<make_biggs_exp6>()},
      {{"osborne2", "(19) Osborne 2, m = 65", 11, false, true}, plain<make_osborne2>()},
      {{"watson", "(20) Watson, m = 31, 2 <= n <= 31", 6, true, true}, plain<make_watson>()},
      {{"extended_rosenbrock", "(21) Extended Rosenbrock, n even", 10, true, true}, plain<make_extended_rosenbrock>()},
      {{"extended_powell", "(22) Extended Powell singular, n a multiple of 4", 12, true, true}, plain<make_extended_powell>()},
      {{"penalty1", "(23) Penalty I, m = n + 1", 4, true, true}, plain<make_penalty1>()},
      {{"penalty2", "(24) Penalty II, m = 2n", 4, true, true}, plain<make_penalty2>()},
      {{"variably_dimensioned", "(25) Variably dimensioned, m = n + 2", 10, true, true}, plain<make_variably_dimensioned>()},
      {{"trigonometric", "(26) Trigonometric, m = n", 10, true, true}, plain<make_trigonometric>()},
      {{"brown_almost_linear", "(27) Brown almost-linear, m = n", 10, true, true}, plain<make_brown_almost_linear>()},
      {{"discrete_boundary_value", "(28) Discrete boundary value, m = n", 10, true, true}, plain<make_discrete_boundary_value>()},
      {{"discrete_integral_equation", "(29) Discrete integral equation, m = n", 10, true, true}, plain<make_discrete_integral_equation>()},
      {{"broyden_tridiagonal", "(30) Broyden tridiagonal, m = n", 10, true, true}, plain<make_broyden_tridiagonal>()},
      {{"broyden_banded", "(31) Broyden banded, m = n", 10, true, true}, plain<make_broyden_banded>()},
      {{"linear_full_rank", "(32) Linear function, full rank, m = 2n", 10, true, true}, plain<make_linear_full_rank>()},
      {{"linear_rank1", "(33) Linear function, rank 1, m = 2n", 10, true, true}, plain<make_linear_rank1>()},
      {{"linear_rank1_zero", "(34) Linear function, rank 1 with zero columns and rows, m = 2n", 10, true, true}, plain<make_linear_rank1_zero>()},
      {{"chebyquad", "(35) Chebyquad, m = n", 8, true, true}, plain<make_chebyquad>()},
      {{"quadratic", "0.5 * sum i * x_i^2, start x_i = 1", 10, true, false}, plain<make_quadratic>()},
      {{"ill_conditioned_quadratic", "0.5 * sum a_i x_i^2, a_i log-spaced in [1, condition]", 100, true, false},
       [](Index n, const ProblemOptions& o) { return make_ill_conditioned_quadratic(n, o.condition); }},
      // Strict saddles at the start, for the escape tests.
      {{"saddle", "x^2 - y^2 + y^4/4, start at its saddle (0, 0); f* = -1 at (0, +-sqrt 2)", 2, false, false},
       plain<make_saddle>()},
      {{"strict_saddle", "0.5 sum_{i<n} x_i^2 + x_n^4/4 - x_n^2/2, start at its saddle 0; f* = -1/4", 10, true, false},
       plain<make_strict_saddle>()},
      // Multimodal functions of global optimization, with their domains.
      {{"ackley", "Ackley in [-32.768, 32.768]^n; f* = 0 at 0", 2, true, false, false, true}, plain<make_ackley>()},
      {{"rastrigin", "Rastrigin in [-5.12, 5.12]^n; f* = 0 at 0", 2, true, false, false, true},
       plain<make_rastrigin>()},
      {{"schwefel", "Schwefel 2.26 in [-500, 500]^n; f* = 0 at x_i = 420.9687", 2, true, false, false, true},
       plain<make_schwefel>()},
      {{"griewank", "Griewank in [-600, 600]^n; f* = 0 at 0", 2, true, false, false, true}, plain<make_griewank>()},
      {{"levy", "Levy in [-10, 10]^n; f* = 0 at x = 1", 2, true, false, false, true}, plain<make_levy>()},
      {{"eggholder", "Eggholder in [-512, 512]^2; f* = -959.6407 at (512, 404.2319), on the edge", 2, false, false,
        false, true},
       plain<make_eggholder>()},
      {{"holder_table", "Holder table in [-10, 10]^2; f* = -19.2085 at (+-8.0550, +-9.6646)", 2, false, false, false,
        true},
       plain<make_holder_table>()},
      {{"styblinski_tang", "Styblinski-Tang in [-5, 5]^n; f* = -39.16617 n at x_i = -2.903534", 2, true, false, false,
        true},
       plain<make_styblinski_tang>()},
      {{"six_hump_camel", "Six-hump camel in [-3, 3] x [-2, 2]; f* = -1.031628 at (+-0.0898, -+0.7126)", 2, false,
        false, false, true},
       plain<make_six_hump_camel>()},
      {{"shubert", "Shubert in [-10, 10]^2; f* = -186.7309 at 18 points", 2, false, false, false, true},
       plain<make_shubert>()},
      {{"michalewicz", "Michalewicz (m = 10) in [0, pi]^n; f* known for n = 2, 5, 10", 2, true, false, false, true},
       plain<make_michalewicz>()},
      // Bound-constrained: Hock–Schittkowski (1981), then MINPACK-2 (1992).
      {{"hs1", "HS 1: Rosenbrock (MGH 1) with x2 >= -1.5; f* = 0", 2, false, false, true}, plain<make_hs1>()},
      {{"hs2", "HS 2: Rosenbrock (MGH 1) with x2 >= 1.5; f* = 0.0504261879 (from x0 every method ends at the local minimum 4.9412293)", 2, false, false, true}, plain<make_hs2>()},
      {{"hs3", "HS 3: x2 + 1e-5 (x2 - x1)^2, x2 >= 0; f* = 0", 2, false, false, true}, plain<make_hs3>()},
      {{"hs4", "HS 4: (x1 + 1)^3 / 3 + x2, x1 >= 1, x2 >= 0; f* = 8/3", 2, false, false, true}, plain<make_hs4>()},
      {{"hs5", "HS 5: McCormick in [-1.5, 4] x [-3, 3]; f* = -sqrt(3)/2 - pi/3", 2, false, false, true}, plain<make_hs5>()},
      {{"hs25", "HS 25: Gulf (MGH 11) in [0.1, 100] x [0, 25.6] x [0, 5]; f* = 0 (x0 lies on a plateau, |g| = 2e-8)", 3, false, false, true},
       plain<make_hs25>()},
      {{"hs38", "HS 38: Wood (MGH 14) in [-10, 10]^4; f* = 0", 4, false, false, true}, plain<make_hs38>()},
      {{"hs45", "HS 45: 2 - x1 x2 x3 x4 x5 / 120, 0 <= x_i <= i; f* = 1", 5, false, false, true}, plain<make_hs45>()},
      {{"hs110", "HS 110: logarithms and a product in [2.001, 9.999]^10; f* = -45.77846971", 10, false, false, true},
       plain<make_hs110>()},
      {{"torsion", "MINPACK-2 elastic-plastic torsion (DEPT), c = 5, |v| <= distance to the edge; n = k^2", 2500, true,
        false, true},
       plain<make_torsion>()},
      {{"journal_bearing", "MINPACK-2 pressure in a journal bearing (DPJB), ecc = 0.1, b = 10, v >= 0; n = k^2", 2500,
        true, false, true},
       plain<make_journal_bearing>()},
      {{"minimal_surface_obstacle",
        "MINPACK-2 minimal surface (DMSA), Enneper's boundary, between the planes |v| <= 0.2; n = k^2", 2500, true,
        false, true},
       plain<make_minimal_surface_obstacle>()},
  };
  return list;
}

std::string known_names() {
  std::string names;
  for (const auto& e : entries()) {
    if (!names.empty()) names += ", ";
    names += e.info.name;
  }
  return names;
}

}  // namespace

std::span<const ProblemInfo> problem_catalog() {
  static const std::vector<ProblemInfo> infos = [] {
    std::vector<ProblemInfo> v;
    for (const auto& e : entries()) v.push_back(e.info);
    return v;
  }();
  return infos;
}

std::vector<std::string> mgh_problem_names() {
  std::vector<std::string> names;
  for (const auto& e : entries())
    if (e.info.in_mgh_set) names.push_back(e.info.name);
  return names;
}

std::vector<std::string> bounded_problem_names() {
  std::vector<std::string> names;
  for (const auto& e : entries())
    if (e.info.bounded) names.push_back(e.info.name);
  return names;
}

std::vector<std::string> multimodal_problem_names() {
  std::vector<std::string> names;
  for (const auto& e : entries())
    if (e.info.multimodal) names.push_back(e.info.name);
  return names;
}

std::unique_ptr<Problem> make_problem(std::string_view name, const ProblemOptions& options) {
  auto it = std::find_if(entries().begin(), entries().end(),
                         [&](const Entry& e) { return e.info.name == name; });
  if (it == entries().end())
    throw invalid_argument(fmt::format("unknown problem '{}'; known problems: {}", name, known_names()));
  const ProblemInfo& info = it->info;

  Index n = options.dimension.value_or(info.default_dimension);
  if (!info.variable_dimension && n != info.default_dimension)
    throw invalid_argument(fmt::format("problem '{}' has fixed dimension {}; got --dim {}", info.name,
                                       info.default_dimension, n));
  if (n < 1) throw invalid_argument(fmt::format("dimension must be at least 1; got {}", n));
  // A problem needs a few vectors of n doubles, and every solver more: refuse
  // sizes that cannot be held before trying to allocate them.
  constexpr Index kMaxDimension = Index(1) << 30;
  if (n > kMaxDimension)
    throw invalid_argument(fmt::format(
        "dimension {} is too large: one vector of it alone needs {:.1f} GiB; the limit is {}", n,
        double(n) * sizeof(double) / double(1 << 30), kMaxDimension));
  if (options.condition < 1.0 || !(options.condition < 1e300))
    throw invalid_argument(fmt::format("condition must be in [1, 1e300); got {}", options.condition));
  return it->make(n, options);
}

}  // namespace descent::problems
