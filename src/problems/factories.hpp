// Internal: one factory per problem, defined in mgh_fixed.cpp (problems 1-19
// of the paper, fixed dimension), mgh_variable.cpp (problems 20-35, variably
// sized) and quadratic.cpp. Each factory receives the dimension already
// defaulted by the registry and throws descent::invalid_argument when the
// problem does not accept it (saying which dimensions it accepts).
#pragma once

#include <memory>

#include "descent/problems/problem.hpp"

namespace descent::problems::detail {

// Moré, Garbow, Hillstrom, "Testing unconstrained optimization software",
// ACM TOMS 7(1), 1981: problem numbers as in the paper.
std::unique_ptr<Problem> make_rosenbrock(Index n);                 // (1)
std::unique_ptr<Problem> make_freudenstein_roth(Index n);          // (2)
std::unique_ptr<Problem> make_powell_badly_scaled(Index n);        // (3)
std::unique_ptr<Problem> make_brown_badly_scaled(Index n);         // (4)
std::unique_ptr<Problem> make_beale(Index n);                      // (5)
std::unique_ptr<Problem> make_jennrich_sampson(Index n);           // (6)
std::unique_ptr<Problem> make_helical_valley(Index n);             // (7)
std::unique_ptr<Problem> make_bard(Index n);                       // (8)
std::unique_ptr<Problem> make_gaussian(Index n);                   // (9)
std::unique_ptr<Problem> make_meyer(Index n);                      // (10)
std::unique_ptr<Problem> make_gulf(Index n);                       // (11)
std::unique_ptr<Problem> make_box_3d(Index n);                     // (12)
std::unique_ptr<Problem> make_powell_singular(Index n);            // (13)
std::unique_ptr<Problem> make_wood(Index n);                       // (14)
std::unique_ptr<Problem> make_kowalik_osborne(Index n);            // (15)
std::unique_ptr<Problem> make_brown_dennis(Index n);               // (16)
std::unique_ptr<Problem> make_osborne1(Index n);                   // (17)
std::unique_ptr<Problem> make_biggs_exp6(Index n);                 // (18)
std::unique_ptr<Problem> make_osborne2(Index n);                   // (19)
std::unique_ptr<Problem> make_watson(Index n);                     // (20)
std::unique_ptr<Problem> make_extended_rosenbrock(Index n);        // (21)
std::unique_ptr<Problem> make_extended_powell(Index n);            // (22)
std::unique_ptr<Problem> make_penalty1(Index n);                   // (23)
std::unique_ptr<Problem> make_penalty2(Index n);                   // (24)
std::unique_ptr<Problem> make_variably_dimensioned(Index n);       // (25)
std::unique_ptr<Problem> make_trigonometric(Index n);              // (26)
std::unique_ptr<Problem> make_brown_almost_linear(Index n);        // (27)
std::unique_ptr<Problem> make_discrete_boundary_value(Index n);    // (28)
std::unique_ptr<Problem> make_discrete_integral_equation(Index n); // (29)
std::unique_ptr<Problem> make_broyden_tridiagonal(Index n);        // (30)
std::unique_ptr<Problem> make_broyden_banded(Index n);             // (31)
std::unique_ptr<Problem> make_linear_full_rank(Index n);           // (32)
std::unique_ptr<Problem> make_linear_rank1(Index n);               // (33)
std::unique_ptr<Problem> make_linear_rank1_zero(Index n);          // (34)
std::unique_ptr<Problem> make_chebyquad(Index n);                  // (35)

// f(x) = 0.5 * sum_i i * x_i^2, start x_i = 1, minimum 0 at the origin.
std::unique_ptr<Problem> make_quadratic(Index n);
// f(x) = 0.5 * sum_i a_i x_i^2 with a_i log-spaced from 1 to `condition`,
// start x_i = 1, minimum 0 at the origin.
std::unique_ptr<Problem> make_ill_conditioned_quadratic(Index n, double condition);

// Hock and Schittkowski, "Test Examples for Nonlinear Programming Codes",
// 1981: the problems with only simple bounds (hock_schittkowski.cpp).
std::unique_ptr<Problem> make_hs1(Index n);    // Rosenbrock, x2 >= -1.5
std::unique_ptr<Problem> make_hs2(Index n);    // Rosenbrock, x2 >= 1.5
std::unique_ptr<Problem> make_hs3(Index n);
std::unique_ptr<Problem> make_hs4(Index n);
std::unique_ptr<Problem> make_hs5(Index n);
std::unique_ptr<Problem> make_hs25(Index n);   // Gulf (MGH 11) in a box
std::unique_ptr<Problem> make_hs38(Index n);   // Wood (MGH 14) in [-10, 10]^4
std::unique_ptr<Problem> make_hs45(Index n);
std::unique_ptr<Problem> make_hs110(Index n);

// The MINPACK-2 bound-constrained problems on a k x k grid, n = k^2
// (minpack2.cpp).
std::unique_ptr<Problem> make_torsion(Index n);
std::unique_ptr<Problem> make_journal_bearing(Index n);
std::unique_ptr<Problem> make_minimal_surface_obstacle(Index n);

// Multimodal test functions of global optimization (multimodal.cpp).
std::unique_ptr<Problem> make_ackley(Index n);
std::unique_ptr<Problem> make_rastrigin(Index n);
std::unique_ptr<Problem> make_schwefel(Index n);
std::unique_ptr<Problem> make_griewank(Index n);
std::unique_ptr<Problem> make_levy(Index n);
std::unique_ptr<Problem> make_eggholder(Index n);
std::unique_ptr<Problem> make_holder_table(Index n);
std::unique_ptr<Problem> make_styblinski_tang(Index n);
std::unique_ptr<Problem> make_six_hump_camel(Index n);
std::unique_ptr<Problem> make_shubert(Index n);
std::unique_ptr<Problem> make_michalewicz(Index n);

// saddle.cpp: strict saddles at the origin, the start.
std::unique_ptr<Problem> make_saddle(Index n);
std::unique_ptr<Problem> make_strict_saddle(Index n);

}  // namespace descent::problems::detail
