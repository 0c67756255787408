#include "descent/dist/communicator.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "descent/dist/shard.hpp"

namespace descent::dist {

Chunk Communicator::chunk(Index n, int rank, int size) {
  DESCENT_REQUIRE(size >= 1 && rank >= 0 && rank < size && n >= 0,
          fmt::format("Communicator::chunk: rank {} of {} ranks, {} values", rank, size, n));
  constexpr Index line = 16;
  const auto boundary = [&](int r) {
    if (r == size) return n;
    const Index b = n / size * r + n % size * r / size;  // floor(n r / size), without overflowing n r
    return b - b % line;
  };
  return {boundary(rank), boundary(rank + 1)};
}

void SingleProcess::allgather(std::span<const std::int64_t> mine, std::span<std::int64_t> all) {
  if (all.size() != mine.size())
    throw communication_error(fmt::format("allgather: {} values given, room for {}", mine.size(), all.size()));
  std::copy(mine.begin(), mine.end(), all.begin());
}

void SingleProcess::abort(int status) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(status);
}

#ifndef DESCENT_WITH_MPI
bool mpi_available() { return false; }
std::unique_ptr<Communicator> open_mpi() {
  throw invalid_argument("this descent was built without MPI (DESCENT_WITH_MPI is off): install Open MPI "
                         "(openmpi-bin, libopenmpi-dev) and rebuild for distributed runs");
}
#endif

std::uint64_t hash_bytes(std::span<const std::byte> bytes, std::uint64_t h) {
  for (const std::byte b : bytes) {
    h ^= static_cast<std::uint64_t>(b);
    h *= 0x100000001b3ULL;
  }
  return h;
}

void handshake(Communicator& comm, const std::vector<Agreement>& fields) {
  const std::size_t k = fields.size(), p = static_cast<std::size_t>(comm.size());
  // The field count first, so that ranks built from other code fail here,
  // not in a mismatched gather.
  std::vector<std::int64_t> count{std::int64_t(k)}, counts(p);
  comm.allgather(count, counts);
  for (std::size_t r = 1; r < p; ++r)
    if (counts[r] != counts[0])
      throw communication_error(fmt::format("ranks disagree on the handshake itself: rank 0 sends {} fields, rank {} "
                                            "sends {} (different descent versions?)",
                                            counts[0], r, counts[r]));
  std::vector<std::int64_t> mine(k), all(k * p);
  for (std::size_t i = 0; i < k; ++i) mine[i] = fields[i].value;
  comm.allgather(mine, all);
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t r = 1; r < p; ++r)
      if (all[r * k + i] != all[i])
        throw communication_error(fmt::format("ranks disagree on {}: rank 0 has {}, rank {} has {}; every rank must "
                                              "run the same model on the same data with the same settings",
                                              fields[i].name, all[i], r, all[r * k + i]));
}

bool replicas_identical(Communicator& comm, std::span<const std::byte> values) {
  const std::vector<std::int64_t> mine{static_cast<std::int64_t>(hash_bytes(values)),
                                       static_cast<std::int64_t>(values.size())};
  std::vector<std::int64_t> all(2 * static_cast<std::size_t>(comm.size()));
  comm.allgather(mine, all);
  for (std::size_t r = 1; r < static_cast<std::size_t>(comm.size()); ++r)
    if (all[2 * r] != all[0] || all[2 * r + 1] != all[1]) return false;
  return true;
}

// ---- Shards -------------------------------------------------------------------------

Shard make_shard(Index total_rows, int rank, int size, std::uint64_t seed) {
  DESCENT_REQUIRE(size >= 1 && rank >= 0 && rank < size, fmt::format("make_shard: rank {} of {} ranks", rank, size));
  DESCENT_REQUIRE(total_rows >= size,
          fmt::format("make_shard: {} rows cannot be shared out among {} ranks; every rank needs at least one",
                      total_rows, size));
  Rng rng(seed ^ 0x5ca1ab1e0ddba11ULL);  // a stream apart from the trainer's shuffles
  const std::vector<Index> order = data::shuffled_indices(total_rows, rng);
  const Index first = total_rows * rank / size, last = total_rows * (rank + 1) / size;
  Shard s;
  s.total_rows = total_rows;
  s.rows.assign(order.begin() + first, order.begin() + last);
  std::sort(s.rows.begin(), s.rows.end());
  return s;
}

data::Dataset take_shard(const data::Dataset& all, const Shard& shard) {
  DESCENT_REQUIRE(all.rows == shard.total_rows,
          fmt::format("take_shard: the shard is of {} rows, the data set has {}", shard.total_rows, all.rows));
  return data::subset(all, shard.rows);
}

}  // namespace descent::dist
