// Shard: the rows of a training set one rank owns.
//
// The partition is a seeded permutation of the N rows cut into `size`
// contiguous pieces of floor or ceil(N / size) rows; rank r keeps piece r,
// its rows in increasing order. Every rank computes the same partition from
// (N, size, seed) alone, so no rank needs another's rows, and the pieces
// are disjoint and cover every row.
#pragma once

#include <cstdint>
#include <vector>

#include "descent/core/types.hpp"
#include "descent/data/dataset.hpp"

namespace descent::dist {

struct Shard {
  Index total_rows = 0;     // N, the whole training set
  std::vector<Index> rows;  // the global indices this rank owns, increasing
};

// Rank `rank` of `size`'s piece of N rows. Throws descent::invalid_argument
// unless 0 <= rank < size and N >= size.
Shard make_shard(Index total_rows, int rank, int size, std::uint64_t seed);

// The shard's rows of the whole set, in the shard's order (local row i is
// global row shard.rows[i]).
data::Dataset take_shard(const data::Dataset& all, const Shard& shard);

}  // namespace descent::dist
