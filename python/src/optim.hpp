// The steppers and schedules of descent._core (optim.cpp).
#pragma once

#include <pybind11/pybind11.h>

void def_optim(pybind11::module_& m);
