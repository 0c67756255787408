// The communicator every MPI test shares (tests/dist/main.cpp).
#pragma once

#include "descent/dist/communicator.hpp"

namespace descent::testing {
dist::Communicator& world();
}
