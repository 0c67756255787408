// Data-parallel training over MPI, checked against one process computed in
// the same program: run by mpirun on 2 ranks (any P works).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "descent/dist/communicator.hpp"
#include "descent/dist/shard.hpp"
#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"
#include "descent/train/trainer.hpp"
#include "world.hpp"

namespace descent::train {
namespace {

using testing::world;

// Two Gaussian blobs, labels 0 and 1.
data::Dataset blobs(Index n, std::uint64_t seed) {
  Rng rng(seed);
  data::Dataset d;
  d.rows = n;
  d.features = 2;
  for (Index i = 0; i < n; ++i) {
    const int label = int(i % 2);
    d.x.push_back(float((label ? 1.5 : -1.5) + rng.normal()));
    d.x.push_back(float((label ? -1 : 1) + rng.normal()));
    d.y.push_back(float(label));
  }
  return d;
}

template <class T>
struct Setup {
  nn::Model<T> model;
  Vector<T> x;
  std::unique_ptr<optim::Stepper<T>> stepper;
};

template <class T = float>
Setup<T> setup(const std::string& spec, const std::string& method, std::uint64_t seed,
               const optim::Regularization& regularization = {}) {
  Setup<T> s{nn::make_model<T>(spec), {}, nullptr};
  s.x.resize(s.model.num_parameters());
  s.model.initialize(s.x, seed);
  if (!method.empty()) s.stepper = optim::make_stepper<T>(method, s.model.layout(), s.x, {}, regularization);
  return s;
}

// Whether every rank holds exactly rank 0's values (rank 0's broadcast).
template <class T>
bool same_as_rank0(const Vector<T>& x) {
  Vector<T> zero = x;
  world().broadcast_values(std::span<T>(zero.data(), static_cast<std::size_t>(zero.size())), 0);
  std::int64_t differ = std::memcmp(zero.data(), x.data(), sizeof(T) * std::size_t(x.size())) != 0;
  world().allreduce_sum(std::span<std::int64_t>(&differ, 1));
  return differ == 0;
}

template <class T>
double max_relative_difference(const Vector<T>& a, const Vector<T>& b) {
  double worst = 0;
  for (Index j = 0; j < a.size(); ++j)
    worst = std::max(worst, std::abs(double(a[j]) - double(b[j])) / std::max(1.0, std::abs(double(a[j]))));
  return worst;
}

TEST(Shard, TheRanksShardsAreDisjointAndCoverEveryRow) {
  const Index n = 1001;
  std::vector<int> owners(static_cast<std::size_t>(n), 0);
  for (int r = 0; r < 3; ++r)
    for (Index row : dist::make_shard(n, r, 3, 7).rows) ++owners[static_cast<std::size_t>(row)];
  for (int count : owners) EXPECT_EQ(count, 1);
  EXPECT_EQ(dist::make_shard(n, 1, 3, 7).rows, dist::make_shard(n, 1, 3, 7).rows);  // seeded
  EXPECT_NE(dist::make_shard(n, 1, 3, 7).rows, dist::make_shard(n, 1, 3, 8).rows);
  EXPECT_THROW(dist::make_shard(2, 0, 3, 1), invalid_argument);
}

TEST(Shard, StandardizingOverTheShardsFitsTheWholeSetsStatistics) {
  dist::Communicator& comm = world();
  auto all = blobs(301, 5);
  for (Index i = 0; i < all.rows; ++i) all.x[std::size_t(2 * i)] = 3.25f;  // a constant feature
  const auto whole = data::Standardizer::fit(all);
  const auto shard = dist::make_shard(all.rows, comm.rank(), comm.size(), 6);
  const auto pieces = data::Standardizer::fit(dist::take_shard(all, shard),
                                              [&](std::span<double> v) { comm.allreduce_sum(v); });
  ASSERT_EQ(pieces.mean.size(), 2u);
  EXPECT_EQ(pieces.mean[0], 3.25f);  // constant: exactly its value, scale 1
  EXPECT_EQ(pieces.scale[0], 1.0f);
  for (std::size_t j = 0; j < 2; ++j) {
    EXPECT_NEAR(pieces.mean[j], whole.mean[j], 1e-6);
    EXPECT_NEAR(pieces.scale[j], whole.scale[j], 1e-6 * whole.scale[j]);
  }
  // Every rank got the same bits.
  Vector<float> stats(4);
  stats << pieces.mean[0], pieces.mean[1], pieces.scale[0], pieces.scale[1];
  EXPECT_TRUE(same_as_rank0(stats));
}

TEST(DataParallel, RanksTrainToTheWeightsOfOneProcessAndStayBitIdentical) {
  dist::Communicator& comm = world();
  const auto all = blobs(203, 1);  // an odd count: shards of unequal size, a short last batch
  const TrainOptions base{.epochs = 3, .batch_size = 10, .lr = 0.01, .l2 = 1e-3, .seed = 4};
  auto one = setup("mlp:2-8-2", "adam", 3);
  const auto r1 = fit(one.model, one.x, all, nullptr, *one.stepper, base);

  const auto shard = dist::make_shard(all.rows, comm.rank(), comm.size(), 4);
  const auto mine = dist::take_shard(all, shard);
  auto many = setup("mlp:2-8-2", "adam", 3);
  TrainOptions o = base;
  o.communicator = &comm;
  o.shard = &shard;
  const auto rp = fit(many.model, many.x, mine, nullptr, *many.stepper, o);

  EXPECT_EQ(rp.status, r1.status) << rp.message;
  EXPECT_EQ(rp.steps, r1.steps);
  EXPECT_EQ(rp.ranks, comm.size());
  EXPECT_NEAR(rp.train_loss, r1.train_loss, 1e-5 * std::abs(r1.train_loss));
  EXPECT_LT(max_relative_difference(one.x, many.x), 1e-4);
  EXPECT_TRUE(same_as_rank0(many.x));
  EXPECT_TRUE(dist::replicas_identical(comm, std::span<const float>(many.x.data(), std::size_t(many.x.size()))));
}

TEST(DataParallel, ARankOwningNoRowOfABatchContributesNothing) {
  // Batches of one row: on every step all ranks but one own none of it.
  dist::Communicator& comm = world();
  const auto all = blobs(24, 2);
  const TrainOptions base{.epochs = 2, .batch_size = 1, .lr = 0.05, .seed = 1};
  auto one = setup("logistic:2", "sgd", 1), many = setup("logistic:2", "sgd", 1);
  fit(one.model, one.x, all, nullptr, *one.stepper, base);
  const auto shard = dist::make_shard(all.rows, comm.rank(), comm.size(), 1);
  TrainOptions o = base;
  o.communicator = &comm;
  o.shard = &shard;
  fit(many.model, many.x, dist::take_shard(all, shard), nullptr, *many.stepper, o);
  EXPECT_LT(max_relative_difference(one.x, many.x), 1e-5);
  EXPECT_TRUE(same_as_rank0(many.x));
}

TEST(DataParallel, ValidationAndEarlyStoppingAgreeOnEveryRank) {
  dist::Communicator& comm = world();
  const auto all = blobs(120, 3), validation = blobs(40, 4);
  const TrainOptions base{.epochs = 30, .batch_size = 8, .lr = 0.5, .patience = 2, .seed = 2};
  auto one = setup("mlp:2-6-2", "sgd", 2), many = setup("mlp:2-6-2", "sgd", 2);
  const auto r1 = fit(one.model, one.x, all, &validation, *one.stepper, base);
  const auto shard = dist::make_shard(all.rows, comm.rank(), comm.size(), 2);
  TrainOptions o = base;
  o.communicator = &comm;
  o.shard = &shard;
  // Rank 0 alone evaluates: the others pass a validation set without rows.
  data::Dataset none;
  none.features = validation.features;
  const auto rp = fit(many.model, many.x, dist::take_shard(all, shard), comm.rank() == 0 ? &validation : &none,
                      *many.stepper, o);
  EXPECT_EQ(rp.status, r1.status);
  EXPECT_EQ(rp.epochs, r1.epochs);
  EXPECT_EQ(rp.best_epoch, r1.best_epoch);
  ASSERT_EQ(rp.history.size(), r1.history.size());
  EXPECT_NEAR(rp.history.back().validation_loss, r1.history.back().validation_loss, 1e-4);
  EXPECT_TRUE(same_as_rank0(many.x));
}

TEST(DataParallel, DistributedLbfgsMatchesOneProcess) {
  dist::Communicator& comm = world();
  const auto all = blobs(301, 5);
  MinimizeOptions options;
  options.stop.gradient_tolerance = 1e-9;
  auto one = setup<double>("logistic:2", "", 1), many = setup<double>("logistic:2", "", 1);
  const auto r1 = fit_full_batch(one.model, one.x, all, Method::lbfgs, options, 1e-2);
  const auto shard = dist::make_shard(all.rows, comm.rank(), comm.size(), 9);
  const auto rp = fit_full_batch(many.model, many.x, dist::take_shard(all, shard), Method::lbfgs, options, 1e-2,
                                 static_cast<Callback<double>*>(nullptr), &comm);
  EXPECT_EQ(rp.status, Status::converged_gradient) << rp.message;
  EXPECT_EQ(rp.status, r1.status);
  EXPECT_NEAR(double(rp.value), double(r1.value), 1e-12);
  EXPECT_LT(max_relative_difference(one.x, many.x), 1e-7);
  EXPECT_TRUE(same_as_rank0(many.x));
}

TEST(DataParallel, FederatedAveragingConvergesOnALogisticRegression) {
  dist::Communicator& comm = world();
  const auto all = blobs(400, 6), test = blobs(200, 7);
  for (const bool state : {false, true}) {
    auto s = setup("logistic:2", "adam", 1);
    const auto shard = dist::make_shard(all.rows, comm.rank(), comm.size(), 3);
    const auto before = evaluate(s.model, s.x, test);
    const auto r = fit(s.model, s.x, dist::take_shard(all, shard), nullptr, *s.stepper,
                       {.epochs = 8, .batch_size = 8, .lr = 0.05, .seed = 3, .communicator = &comm,
                        .shard = &shard, .sync_every = 4, .sync_state = state});
    EXPECT_EQ(r.status, Status::max_iterations) << r.message;
    EXPECT_EQ(r.steps, 8 * ((all.rows / comm.size() + 7) / 8));
    const auto after = evaluate(s.model, s.x, test);
    EXPECT_LT(after.loss, 0.5 * before.loss) << "sync_state " << state;
    EXPECT_GE(after.accuracy, 0.9) << "sync_state " << state;
    EXPECT_LT(r.history.back().train_loss, r.history.front().train_loss);
    EXPECT_TRUE(same_as_rank0(s.x)) << "sync_state " << state;
  }
}

TEST(Communicator, ChunksAreCacheLineAlignedAndCoverTheVector) {
  for (const Index n : {Index(0), Index(5), Index(100), Index(235148)})
    for (const int p : {1, 2, 3, 8}) {
      Index next = 0;
      for (int r = 0; r < p; ++r) {
        const dist::Chunk c = dist::Communicator::chunk(n, r, p);
        EXPECT_EQ(c.first, next) << n << " values, rank " << r << " of " << p;
        EXPECT_LE(c.first, c.last);
        if (r > 0) {
          EXPECT_EQ(c.first % 16, 0);
        }
        next = c.last;
      }
      EXPECT_EQ(next, n);
    }
  // Nearly equal: 235,148 values over 8 ranks differ by at most a line.
  EXPECT_LE(dist::Communicator::chunk(235148, 0, 8).size() - dist::Communicator::chunk(235148, 7, 8).size(), 16);
}

// Whole numbers, so that every order of the sums gives the same bits.
template <class T>
void check_reduce_scatter_and_allgather(Index n) {
  dist::Communicator& comm = world();
  const auto value = [](int rank, Index j) { return T(double((j * 7 + rank * 3) % 101) - 50); };
  std::vector<T> data(static_cast<std::size_t>(n));
  for (Index j = 0; j < n; ++j) data[std::size_t(j)] = value(comm.rank(), j);
  std::vector<T> reduced = data;
  comm.allreduce_sum(std::span<T>(reduced));
  comm.reduce_scatter_sum(std::span<T>(data));
  const dist::Chunk mine = comm.my_chunk(n);
  for (Index j = 0; j < n; ++j) {
    T expected = 0;
    for (int r = 0; r < comm.size(); ++r) expected += value(r, j);
    ASSERT_EQ(reduced[std::size_t(j)], expected) << "allreduce_sum of " << n << " values, at " << j;
    if (j >= mine.first && j < mine.last) {
      ASSERT_EQ(data[std::size_t(j)], expected) << n << " values, at " << j;
    }
  }
  // Garbage outside this rank's chunk must not survive the allgather.
  for (Index j = 0; j < n; ++j)
    if (j < mine.first || j >= mine.last) data[std::size_t(j)] = T(-1e30);
  comm.allgather_chunks(std::span<T>(data));
  EXPECT_EQ(data, reduced) << n << " values";
}

TEST(Communicator, AReduceScatterThenAnAllgatherIsTheAllreduce) {
  for (const Index n : {Index(0), Index(3), Index(50), Index(8191), Index(8192), Index(100003)}) {
    check_reduce_scatter_and_allgather<float>(n);
    check_reduce_scatter_and_allgather<double>(n);
  }
}

// Whole-state comparison of two steppers of the same method.
struct StateList final : optim::StateVisitor<float> {
  void vector(std::string_view, Vector<float>& v) override { vectors.push_back(v); }
  void scalar(std::string_view, double& s) override { scalars.push_back(s); }
  void counter(std::string_view, std::int64_t& c) override { counters.push_back(c); }
  std::vector<Vector<float>> vectors;
  std::vector<double> scalars;
  std::vector<std::int64_t> counters;
};

TEST(DataParallel, AShardedUpdateTrainsAsEveryRankTakingTheWholeStep) {
  dist::Communicator& comm = world();
  const auto all = blobs(203, 11);
  const auto shard = dist::make_shard(all.rows, comm.rank(), comm.size(), 4);
  const auto mine = dist::take_shard(all, shard);
  for (const std::string method : {"adam", "nesterov", "rmsprop-centered", "lion"}) {
    TrainOptions o{.epochs = 3, .batch_size = 10, .lr = 0.01, .l2 = 1e-3, .seed = 4, .communicator = &comm,
                   .shard = &shard};
    auto whole = setup("mlp:2-16-8-2", method, 3);
    o.shard_optimizer = false;
    const auto rw = fit(whole.model, whole.x, mine, nullptr, *whole.stepper, o);
    auto sharded = setup("mlp:2-16-8-2", method, 3);
    o.shard_optimizer = true;
    const auto rs = fit(sharded.model, sharded.x, mine, nullptr, *sharded.stepper, o);
    EXPECT_FALSE(rw.optimizer_sharded);
    EXPECT_EQ(rs.optimizer_sharded, comm.size() > 1) << method;
    EXPECT_EQ(rs.steps, rw.steps);
    EXPECT_NEAR(rs.train_loss, rw.train_loss, 1e-5 * std::abs(rw.train_loss)) << method;
    EXPECT_LT(max_relative_difference(whole.x, sharded.x), 1e-4) << method;
    EXPECT_TRUE(same_as_rank0(sharded.x)) << method;
    // The caller's stepper ends with the whole state, on every rank.
    StateList a, b;
    whole.stepper->visit_state(a);
    sharded.stepper->visit_state(b);
    EXPECT_EQ(a.counters, b.counters) << method;
    ASSERT_EQ(a.vectors.size(), b.vectors.size());
    for (std::size_t i = 0; i < a.vectors.size(); ++i) {
      EXPECT_LT(max_relative_difference(a.vectors[i], b.vectors[i]), 1e-4) << method << " state " << i;
      EXPECT_TRUE(same_as_rank0(b.vectors[i])) << method << " state " << i;
    }
  }
}

TEST(DataParallel, AShardedRunResumesFromItsCheckpointBitForBit) {
  dist::Communicator& comm = world();
  const auto all = blobs(160, 12);
  const auto shard = dist::make_shard(all.rows, comm.rank(), comm.size(), 5);
  const auto mine = dist::take_shard(all, shard);
  // A path every rank agrees on (rank 0 writes, every rank reads).
  const std::string path = ::testing::TempDir() + "descent_sharded_resume.ckpt";
  TrainOptions o{.epochs = 4, .batch_size = 8, .lr = 0.01, .seed = 5, .communicator = &comm, .shard = &shard};
  const optim::Regularization clipped{.clip_norm = 0.5, .decoupled_weight_decay = 0.01};
  auto straight = setup("mlp:2-8-2", "adam", 2, clipped);
  fit(straight.model, straight.x, mine, nullptr, *straight.stepper, o);

  auto first = setup("mlp:2-8-2", "adam", 2, clipped);
  o.epochs = 2;
  o.checkpoint = path;
  fit(first.model, first.x, mine, nullptr, *first.stepper, o);
  comm.barrier();  // rank 0 has written it
  auto resumed = setup("mlp:2-8-2", "adam", 2, clipped);
  o.epochs = 4;
  o.checkpoint.clear();
  o.resume = path;
  const auto r = fit(resumed.model, resumed.x, mine, nullptr, *resumed.stepper, o);
  EXPECT_EQ(r.steps, 4 * 20) << r.message;
  EXPECT_EQ(resumed.x, straight.x);
  EXPECT_TRUE(same_as_rank0(resumed.x));
  comm.barrier();
  if (comm.rank() == 0) std::remove(path.c_str());
}

// Local SGD checkpoints where the weights were just averaged, with each
// rank's own order, generator and optimizer state: an epoch's end, and an
// interrupt on one rank (acted on at the next averaging step) both resume
// to the uninterrupted run's bits. Any other run refuses the file.
TEST(DataParallel, ALocalSgdRunResumesFromItsCheckpointBitForBit) {
  dist::Communicator& comm = world();
  const auto all = blobs(161, 14);  // shards of unequal size
  const auto shard = dist::make_shard(all.rows, comm.rank(), comm.size(), 6);
  const auto mine = dist::take_shard(all, shard);
  const std::string path = ::testing::TempDir() + "descent_local_sgd_resume.ckpt";
  TrainOptions o{.epochs = 4, .batch_size = 8, .lr = 0.01, .seed = 6, .communicator = &comm, .shard = &shard,
                 .sync_every = 3};
  auto straight = setup("mlp:2-8-2", "adam", 4);
  const auto rs = fit(straight.model, straight.x, mine, nullptr, *straight.stepper, o);
  ASSERT_EQ(rs.status, Status::max_iterations) << rs.message;

  // An interrupt reaching the last rank alone at step 1 stops every rank at
  // step 3, the next averaging step (still in the first epoch on 2 to 4 ranks).
  struct InterruptAt final : TrainCallback {
    std::atomic<bool>& flag;
    bool signalled;
    InterruptAt(std::atomic<bool>& f, bool s) : flag(f), signalled(s) {}
    bool on_step(const StepRecord& s) override {
      if (signalled && s.step == 1) flag = true;
      return true;
    }
  };
  std::atomic<bool> flag(false);
  InterruptAt at1(flag, comm.rank() == comm.size() - 1);
  auto first = setup("mlp:2-8-2", "adam", 4);
  o.checkpoint = path;
  o.interrupt = &flag;
  const auto ri = fit(first.model, first.x, mine, nullptr, *first.stepper, o, &at1);
  EXPECT_EQ(ri.status, Status::interrupted) << ri.message;
  EXPECT_EQ(ri.steps, 3);
  EXPECT_EQ(ri.checkpoint_written, path);
  comm.barrier();
  o.interrupt = nullptr;
  o.resume = path;
  o.checkpoint = path + ".2";  // and every epoch's end from here on
  o.epochs = 2;
  auto resumed = setup("mlp:2-8-2", "adam", 4);
  ASSERT_EQ(fit(resumed.model, resumed.x, mine, nullptr, *resumed.stepper, o).status, Status::max_iterations);
  comm.barrier();
  o.resume = path + ".2";
  o.checkpoint.clear();
  o.epochs = 4;
  auto last = setup("mlp:2-8-2", "adam", 4);
  const auto r = fit(last.model, last.x, mine, nullptr, *last.stepper, o);
  EXPECT_EQ(r.steps, rs.steps) << r.message;
  EXPECT_EQ(last.x, straight.x);
  EXPECT_TRUE(same_as_rank0(last.x));

  // One process, or a synchronous run, refuses it with a message.
  auto other = setup("mlp:2-8-2", "adam", 4);
  TrainOptions one{.epochs = 4, .batch_size = 8, .lr = 0.01, .seed = 6, .resume = path};
  EXPECT_THROW(fit(other.model, other.x, all, nullptr, *other.stepper, one), parse_error);
  o.sync_every = 0;
  EXPECT_THROW(fit(other.model, other.x, mine, nullptr, *other.stepper, o), parse_error);
  comm.barrier();
  if (comm.rank() == 0) std::remove(path.c_str()), std::remove((path + ".2").c_str());
}

// Every rank sees the same reduced loss, so the guard rolls back at the
// same steps on every rank, with the update sharded or not, as one process does.
TEST(DataParallel, TheDivergenceGuardRollsBackAlikeOnEveryRank) {
  dist::Communicator& comm = world();
  const auto all = blobs(160, 13);
  const TrainOptions base{.epochs = 4, .batch_size = 16, .lr = 1e3, .seed = 6,
                          .on_divergence = TrainOptions::OnDivergence::rollback, .divergence_factor = 10,
                          .max_rollbacks = 20, .snapshot_every = 1};
  auto one = setup("mlp:2-8-2", "adam", 4);
  const auto r1 = fit(one.model, one.x, all, nullptr, *one.stepper, base);
  ASSERT_GT(r1.rollbacks, 0) << r1.message;
  const auto shard = dist::make_shard(all.rows, comm.rank(), comm.size(), 6);
  const auto mine = dist::take_shard(all, shard);
  for (const bool sharded : {true, false}) {
    auto many = setup("mlp:2-8-2", "adam", 4);
    TrainOptions o = base;
    o.communicator = &comm;
    o.shard = &shard;
    o.shard_optimizer = sharded;
    const auto rp = fit(many.model, many.x, mine, nullptr, *many.stepper, o);
    EXPECT_EQ(rp.status, r1.status) << rp.message;
    EXPECT_EQ(rp.rollbacks, r1.rollbacks) << "sharded " << sharded;
    EXPECT_EQ(rp.steps, r1.steps) << "sharded " << sharded;
    EXPECT_TRUE(many.x.allFinite());
    EXPECT_LT(max_relative_difference(one.x, many.x), 1e-3) << "sharded " << sharded;
    EXPECT_TRUE(same_as_rank0(many.x)) << "sharded " << sharded;
  }
}

TEST(DataParallel, RanksThatDisagreeOnTheBatchSizeAllStopWithAMessage) {
  dist::Communicator& comm = world();
  if (comm.size() < 2) GTEST_SKIP() << "needs two ranks";
  const auto all = blobs(40, 8);
  auto s = setup("logistic:2", "sgd", 1);
  const auto shard = dist::make_shard(all.rows, comm.rank(), comm.size(), 1);
  const TrainOptions o{.epochs = 1, .batch_size = comm.rank() == 1 ? 4 : 8, .seed = 1, .communicator = &comm,
                       .shard = &shard};
  try {
    fit(s.model, s.x, dist::take_shard(all, shard), nullptr, *s.stepper, o);
    ADD_FAILURE() << "no error";
  } catch (const dist::communication_error& e) {
    EXPECT_NE(std::string(e.what()).find("ranks disagree on the batch size: rank 0 has 8, rank 1 has 4"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace descent::train
