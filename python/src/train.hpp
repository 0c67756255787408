// Training from Python (train.cpp): descent._core.train and the Model class.
#pragma once

#include <pybind11/pybind11.h>

void def_train(pybind11::module_& m);
