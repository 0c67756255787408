// Communicator: the few collective operations data-parallel training needs,
// behind an interface, so that train/ never sees MPI.
//
//   auto comm = dist::open_mpi();            // under mpirun: one per process
//   dist::Shard shard = dist::make_shard(training.rows, comm->rank(), comm->size(), seed);
//   auto mine = dist::take_shard(training, shard);
//   train::fit(model, x, mine, nullptr, *adam, {..., .communicator = comm.get(), .shard = &shard});
//
// Two implementations: SingleProcess (size 1, every collective a copy or
// nothing), always there, and the MPI one (open_mpi()), compiled when the
// build found MPI (DESCENT_WITH_MPI; mpi_available() says so at run time).
//
// Every collective is called by every rank in the same order with the
// same sizes, as MPI requires. allreduce_sum gives every rank bitwise the
// same result, which is what keeps replicas bit-identical: the MPI
// implementation reduces a short span to rank 0 and broadcasts it, and
// sums a long one chunk by chunk (reduce_scatter_sum, then
// allgather_chunks: recursive halving and doubling for a power-of-two
// rank count, a ring otherwise), each chunk's sum computed once, by its
// owner, and copied to the others. MPI_Allreduce promises neither for every
// algorithm and rank count. Errors (a size mismatch, a failed
// collective) throw dist::communication_error; abort() ends every rank.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "descent/core/error.hpp"
#include "descent/core/types.hpp"

namespace descent::dist {

// A collective that failed, or ranks that disagree on what they run
// (handshake()). The message names the rank and what differs.
class communication_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A rank's piece [first, last) of a vector (Communicator::chunk).
struct Chunk {
  Index first = 0, last = 0;
  Index size() const { return last - first; }
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  // Rank r's chunk of n values in reduce_scatter_sum and allgather_chunks:
  // the r-th of `size` nearly equal pieces, cut at multiples of 16 values
  // (a 64-byte cache line of floats), in rank order; pieces may be empty
  // when n is small.
  static Chunk chunk(Index n, int rank, int size);
  Chunk my_chunk(Index n) const { return chunk(n, rank(), size()); }

  virtual int rank() const = 0;  // 0 .. size() - 1
  virtual int size() const = 0;  // >= 1

  // data := the sum of every rank's data, the same bits on every rank.
  virtual void allreduce_sum(std::span<float> data) = 0;
  virtual void allreduce_sum(std::span<double> data) = 0;
  virtual void allreduce_sum(std::span<std::int64_t> data) = 0;
  // The first half of an allreduce: this rank's chunk of data := the sum
  // over the ranks of that chunk; the other chunks are left holding
  // partial sums. Each chunk's sum is computed on its owner alone.
  virtual void reduce_scatter_sum(std::span<float> data) = 0;
  virtual void reduce_scatter_sum(std::span<double> data) = 0;
  // The second half: every chunk c of data := rank c's chunk c.
  virtual void allgather_chunks(std::span<float> data) = 0;
  virtual void allgather_chunks(std::span<double> data) = 0;
  // data := root's data.
  virtual void broadcast(std::span<std::byte> data, int root) = 0;
  // all (size() * mine.size() values) := every rank's `mine`, by rank.
  virtual void allgather(std::span<const std::int64_t> mine, std::span<std::int64_t> all) = 0;
  // Every rank's bytes (of any length) on root, by rank; an empty vector on
  // the other ranks.
  virtual std::vector<std::string> gather_bytes(std::string_view mine, int root) = 0;
  virtual void barrier() = 0;
  // Ends every rank of the job with this exit status; does not return.
  [[noreturn]] virtual void abort(int status) = 0;

  // Typed broadcast of a span of trivially copyable values.
  template <class T>
  void broadcast_values(std::span<T> data, int root) {
    broadcast(std::as_writable_bytes(data), root);
  }
};

// One process: rank 0 of 1.
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(std::span<float>) override {}
  void allreduce_sum(std::span<double>) override {}
  void allreduce_sum(std::span<std::int64_t>) override {}
  void reduce_scatter_sum(std::span<float>) override {}
  void reduce_scatter_sum(std::span<double>) override {}
  void allgather_chunks(std::span<float>) override {}
  void allgather_chunks(std::span<double>) override {}
  void broadcast(std::span<std::byte>, int) override {}
  void allgather(std::span<const std::int64_t> mine, std::span<std::int64_t> all) override;
  std::vector<std::string> gather_bytes(std::string_view mine, int) override { return {std::string(mine)}; }
  void barrier() override {}
  [[noreturn]] void abort(int status) override;
};

// Whether this build has the MPI implementation (DESCENT_WITH_MPI).
bool mpi_available();

// The MPI communicator over every process of the job (MPI_COMM_WORLD,
// duplicated, errors returned rather than fatal). Initializes MPI on the
// first call (thread level funneled: only the calling thread communicates)
// and finalizes it when the last communicator is destroyed. Run without
// mpirun, it is a job of one rank (MPI's singleton start). Throws
// descent::invalid_argument when the build has no MPI.
std::unique_ptr<Communicator> open_mpi();

// ---- Helpers over any communicator ----------------------------------------------

// A 64-bit FNV-1a hash of bytes, for handshakes and replica checks.
std::uint64_t hash_bytes(std::span<const std::byte> bytes, std::uint64_t seed = 0xcbf29ce484222325ULL);
inline std::uint64_t hash_string(std::string_view s) {
  return hash_bytes(std::as_bytes(std::span<const char>(s.data(), s.size())));
}

// One value every rank must agree on, named for the message.
struct Agreement {
  std::string name;
  std::int64_t value;
};

// The start-up handshake: gathers every rank's values and compares them
// with rank 0's. On a mismatch every rank throws the same
// communication_error naming the first field that differs and the values
// on each side ("ranks disagree on features: rank 0 has 784, rank 1 has
// 783"), so that every rank ends instead of waiting in a collective.
void handshake(Communicator& comm, const std::vector<Agreement>& fields);

// Whether every rank holds bitwise the same values: a hash of the bytes,
// gathered and compared with rank 0's (one collective).
bool replicas_identical(Communicator& comm, std::span<const std::byte> values);
template <class T>
bool replicas_identical(Communicator& comm, std::span<const T> values) {
  return replicas_identical(comm, std::as_bytes(values));
}

}  // namespace descent::dist
