// The MPI tests' main: one communicator over the job for every test, run
// by mpirun (tests/CMakeLists.txt); ranks other than 0 print failures only.
#include <gtest/gtest.h>

#include "world.hpp"

namespace descent::testing {
namespace {
dist::Communicator* the_world = nullptr;
}
dist::Communicator& world() { return *the_world; }
}  // namespace descent::testing

int main(int argc, char** argv) {
  auto comm = descent::dist::open_mpi();
  descent::testing::the_world = comm.get();
  if (comm->rank() != 0) GTEST_FLAG_SET(brief, true);
  ::testing::InitGoogleTest(&argc, argv);
  const int failed = RUN_ALL_TESTS();
  // A rank whose tests failed fails the job; the others wait for it here
  // rather than in MPI_Finalize.
  std::int64_t failures = failed != 0;
  comm->allreduce_sum(std::span<std::int64_t>(&failures, 1));
  return failures > 0 ? 1 : 0;
}
