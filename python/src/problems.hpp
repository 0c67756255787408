// descent's test problems as a Python class (problems.cpp), shared by
// descent._core and the benchmarks' descent_problems module.
#pragma once

#include <memory>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "descent/problems/problem.hpp"

// Registers the Problem class (module-local), make(), catalog() and the
// name lists in m.
void def_problems(pybind11::module_& m);

namespace descent_python {
using ProblemArray = pybind11::array_t<double, pybind11::array::c_style | pybind11::array::forcecast>;
// a as a vector of p's length, read in place; ValueError naming `what` otherwise.
Eigen::Map<const Eigen::VectorXd> as_vector(const descent::problems::Problem& p, const ProblemArray& a,
                                            const char* what);
}  // namespace descent_python
