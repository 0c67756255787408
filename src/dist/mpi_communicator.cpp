// The MPI communicator (compiled only when the build found MPI).
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "descent/dist/communicator.hpp"

namespace descent::dist {

namespace {

// MPI is initialized once per process and finalized with the last
// communicator (MPI cannot be initialized again after MPI_Finalize).
std::mutex lifetime_mutex;
int open_communicators = 0;
bool we_initialized = false;

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  throw communication_error(fmt::format("rank {}: {} failed: {}", rank, what, std::string(text, std::size_t(length))));
}

int as_count(std::size_t n, const char* what) {
  if (n > std::size_t(INT_MAX))
    throw communication_error(fmt::format("{}: {} values, more than one MPI call takes ({})", what, n, INT_MAX));
  return static_cast<int>(n);
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    {
      std::lock_guard lock(lifetime_mutex);
      int initialized = 0, finalized = 0;
      MPI_Initialized(&initialized);
      MPI_Finalized(&finalized);
      if (finalized) throw communication_error("MPI was finalized already; it cannot be started again");
      if (!initialized) {
        int provided = 0;
        MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
        we_initialized = true;
      }
      ++open_communicators;
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    // Failed calls return a code (turned into communication_error) instead
    // of ending the process where the error is no longer explainable.
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiCommunicator() override {
    MPI_Comm_free(&comm_);
    std::lock_guard lock(lifetime_mutex);
    if (--open_communicators == 0 && we_initialized) {
      MPI_Finalize();
      we_initialized = false;
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void allreduce_sum(std::span<float> data) override { sum(data, MPI_FLOAT); }
  void allreduce_sum(std::span<double> data) override { sum(data, MPI_DOUBLE); }
  void reduce_scatter_sum(std::span<float> data) override { reduce_scatter(data, MPI_FLOAT); }
  void reduce_scatter_sum(std::span<double> data) override { reduce_scatter(data, MPI_DOUBLE); }
  void allgather_chunks(std::span<float> data) override { allgather_by_chunks(data, MPI_FLOAT); }
  void allgather_chunks(std::span<double> data) override { allgather_by_chunks(data, MPI_DOUBLE); }
  void allreduce_sum(std::span<std::int64_t> data) override {
    reduce_broadcast(data.data(), data.size(), MPI_INT64_T);
  }

  void broadcast(std::span<std::byte> data, int root) override {
    check(MPI_Bcast(data.data(), as_count(data.size(), "broadcast"), MPI_BYTE, root, comm_), "MPI_Bcast");
  }

  void allgather(std::span<const std::int64_t> mine, std::span<std::int64_t> all) override {
    if (all.size() != mine.size() * std::size_t(size_))
      throw communication_error(fmt::format("allgather: {} values from each of {} ranks need room for {}, not {}",
                                            mine.size(), size_, mine.size() * std::size_t(size_), all.size()));
    const int n = as_count(mine.size(), "allgather");
    check(MPI_Allgather(mine.data(), n, MPI_INT64_T, all.data(), n, MPI_INT64_T, comm_), "MPI_Allgather");
  }

  std::vector<std::string> gather_bytes(std::string_view mine, int root) override {
    const std::int64_t length = static_cast<std::int64_t>(mine.size());
    std::vector<std::int64_t> lengths(static_cast<std::size_t>(size_));
    allgather(std::span<const std::int64_t>(&length, 1), lengths);
    std::vector<int> counts(static_cast<std::size_t>(size_)), offsets(static_cast<std::size_t>(size_));
    std::size_t total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      counts[r] = as_count(static_cast<std::size_t>(lengths[r]), "gather_bytes");
      offsets[r] = as_count(total, "gather_bytes (in all)");
      total += static_cast<std::size_t>(lengths[r]);
    }
    std::string all(rank_ == root ? total : 0, '\0');
    check(MPI_Gatherv(mine.data(), counts[static_cast<std::size_t>(rank_)], MPI_BYTE, all.data(), counts.data(),
                      offsets.data(), MPI_BYTE, root, comm_),
          "MPI_Gatherv");
    std::vector<std::string> out;
    if (rank_ == root)
      for (std::size_t r = 0; r < counts.size(); ++r)
        out.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(counts[r])));
    return out;
  }

  void barrier() override { check(MPI_Barrier(comm_), "MPI_Barrier"); }

  [[noreturn]] void abort(int status) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(comm_, status);
    std::_Exit(status);  // MPI_Abort does not return; this is for the compiler
  }

 private:
  // Spans from this many values on are summed by a reduce-scatter and an
  // allgather: they move 2 (P - 1) / P of the bytes per rank where
  // reduce-then-broadcast moves them all twice through rank 0, but take
  // more latencies (2 log2 P, or 2 (P - 1) on a ring).
  static constexpr std::size_t kRingMinValues = 8192;

  template <class T>
  void sum(std::span<T> data, MPI_Datatype type) {
    if (size_ > 1 && data.size() >= kRingMinValues) {
      reduce_scatter(data, type);
      allgather_by_chunks(data, type);
    } else {
      reduce_broadcast(data.data(), data.size(), type);
    }
  }

  int right() const { return (rank_ + 1) % size_; }
  int left() const { return (rank_ + size_ - 1) % size_; }
  int wrap(int c) const { return ((c % size_) + size_) % size_; }

  // Where P is a power of two, recursive halving and doubling
  // (Rabenseifner): log2(P) exchanges each way instead of P - 1, the same
  // bytes. Otherwise a ring. Either way chunk r ends on rank r, its sum
  // computed there alone.
  bool power_of_two() const { return (size_ & (size_ - 1)) == 0; }

  template <class T>
  void reduce_scatter(std::span<T> data, MPI_Datatype type) {
    if (size_ == 1) return;
    if (power_of_two()) halving_reduce_scatter(data, type); else ring_reduce_scatter(data, type);
  }
  template <class T>
  void allgather_by_chunks(std::span<T> data, MPI_Datatype type) {
    if (size_ == 1) return;
    if (power_of_two()) doubling_allgather(data, type); else ring_allgather(data, type);
  }

  // The elements of chunks [first, last).
  static Chunk chunks(Index n, int first, int last, int size) {
    return {chunk(n, first, size).first, chunk(n, last - 1, size).last};
  }

  template <class T>
  T* scratch(Index values) {
    const std::size_t bytes = static_cast<std::size_t>(values) * sizeof(T);
    if (scratch_.size() < bytes) scratch_.resize(bytes);  // grows once: no allocation per step
    return reinterpret_cast<T*>(scratch_.data());
  }

  // Sends out_count values to `to` while receiving in_count from `from`.
  template <class T>
  void exchange(const T* out, Index out_count, int to, T* in, Index in_count, int from, MPI_Datatype type,
                const char* what) {
    check(MPI_Sendrecv(out, as_count(std::size_t(out_count), what), type, to, kTag, in,
                       as_count(std::size_t(in_count), what), type, from, kTag, comm_, MPI_STATUS_IGNORE),
          "MPI_Sendrecv");
  }

  template <class T>
  static void add(T* __restrict mine, const T* __restrict theirs, Index count) {
    for (Index j = 0; j < count; ++j) mine[j] += theirs[j];
  }

  // Halving: with partner r ^ d for d = P/2, P/4, .., 1, keep the half of
  // the current chunk range that holds chunk r, send the other half, add
  // the partner's copy of ours.
  template <class T>
  void halving_reduce_scatter(std::span<T> data, MPI_Datatype type) {
    const Index n = static_cast<Index>(data.size());
    int lo = 0, hi = size_;
    for (int d = size_ / 2; d >= 1; d /= 2) {
      const int mid = lo + d;
      const bool upper = (rank_ & d) != 0;
      const Chunk keep = upper ? chunks(n, mid, hi, size_) : chunks(n, lo, mid, size_);
      const Chunk give = upper ? chunks(n, lo, mid, size_) : chunks(n, mid, hi, size_);
      T* incoming = scratch<T>(keep.size());
      const int partner = rank_ ^ d;
      exchange(data.data() + give.first, give.size(), partner, incoming, keep.size(), partner, type,
               "reduce_scatter_sum");
      add(data.data() + keep.first, incoming, keep.size());
      if (upper) lo = mid; else hi = mid;
    }
  }

  // Doubling: with partner r ^ d for d = 1, 2, .., P/2, swap the chunk
  // ranges each holds whole, doubling them.
  template <class T>
  void doubling_allgather(std::span<T> data, MPI_Datatype type) {
    const Index n = static_cast<Index>(data.size());
    for (int d = 1; d < size_; d *= 2) {
      const int mine = rank_ & ~(d - 1), theirs = mine ^ d;
      const Chunk out = chunks(n, mine, mine + d, size_), in = chunks(n, theirs, theirs + d, size_);
      const int partner = rank_ ^ d;
      exchange(data.data() + out.first, out.size(), partner, data.data() + in.first, in.size(), partner, type,
               "allgather_chunks");
    }
  }

  // Ring step s of P - 1: send chunk (r - s - 1) to the right, receive
  // chunk (r - s - 2) from the left and add it to ours; after the last
  // step chunk r holds every rank's contribution, summed in a fixed order.
  template <class T>
  void ring_reduce_scatter(std::span<T> data, MPI_Datatype type) {
    const Index n = static_cast<Index>(data.size());
    Index most = 0;
    for (int c = 0; c < size_; ++c) most = std::max(most, chunk(n, c, size_).size());
    T* incoming = scratch<T>(most);
    for (int s = 0; s + 1 < size_; ++s) {
      const Chunk out = chunk(n, wrap(rank_ - s - 1), size_), in = chunk(n, wrap(rank_ - s - 2), size_);
      exchange(data.data() + out.first, out.size(), right(), incoming, in.size(), left(), type, "reduce_scatter_sum");
      add(data.data() + in.first, incoming, in.size());
    }
  }

  // Ring step s of P - 1: send chunk (r - s) to the right, receive chunk
  // (r - s - 1) from the left in its place.
  template <class T>
  void ring_allgather(std::span<T> data, MPI_Datatype type) {
    const Index n = static_cast<Index>(data.size());
    for (int s = 0; s + 1 < size_; ++s) {
      const Chunk out = chunk(n, wrap(rank_ - s), size_), in = chunk(n, wrap(rank_ - s - 1), size_);
      exchange(data.data() + out.first, out.size(), right(), data.data() + in.first, in.size(), left(), type,
               "allgather_chunks");
    }
  }

  // A sum reduced on rank 0 in rank order, then broadcast: the same bits
  // on every rank (MPI_Allreduce does not promise that for every algorithm).
  void reduce_broadcast(void* data, std::size_t n, MPI_Datatype type) {
    const int count = as_count(n, "allreduce_sum");
    if (count == 0) return;
    check(MPI_Reduce(rank_ == 0 ? MPI_IN_PLACE : data, data, count, type, MPI_SUM, 0, comm_), "MPI_Reduce");
    check(MPI_Bcast(data, count, type, 0, comm_), "MPI_Bcast");
  }

  static constexpr int kTag = 7;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::vector<std::byte> scratch_;  // what a reduce-scatter step receives
};

}  // namespace

bool mpi_available() { return true; }

std::unique_ptr<Communicator> open_mpi() { return std::make_unique<MpiCommunicator>(); }

}  // namespace descent::dist
