// Training a model on a data set: epochs of seeded mini-batches with any
// stepper, or the whole training set with a full-batch solver; validation
// each epoch, early stopping, a guard against non-finite losses, and
// evaluation.
//
//   auto model = nn::make_model<float>("mlp:784-256-128-10");
//   Vector<float> x(model.num_parameters());
//   model.initialize(x, seed);
//   auto adam = optim::make_stepper<float>("adam", model.layout(), x);
//   auto result = train::fit(model, x, training, &validation, *adam,
//                            {.epochs = 5, .batch_size = 128, .lr = 1e-3, .seed = 1});
//   auto test = train::evaluate(model, x, test_set);
//
// The same seed and thread count give bit-identical weights: shuffles and
// dropout masks come from descent's Rng, and every reduction splits its
// work the same way for a given thread count.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "descent/core/status.hpp"
#include "descent/data/dataset.hpp"
#include "descent/nn/objective.hpp"
#include "descent/optim/stepper.hpp"
#include "descent/solvers/minimize.hpp"

namespace descent::dist {
class Communicator;
struct Shard;
}  // namespace descent::dist

namespace descent::train {

struct TrainOptions {
  Index epochs = 10;          // passes over the training set; >= 1
  Index batch_size = 32;      // rows per step; 1 is SGD, >= rows is batch descent
  double lr = 1e-3;           // the base learning rate; >= 0
  // An optim::parse_schedule spec ("cosine", "warmup:100+step:10:0.5", ...),
  // or "plateau[:PATIENCE[:FACTOR]]": reduce the rate when the epoch's
  // validation loss (the training loss without a validation set) stops
  // improving. Empty: constant.
  std::string schedule;
  Index patience = 0;         // stop after this many epochs without a better validation loss, restoring the
                              // best weights; 0: no early stopping (needs a validation set otherwise)
  double l2 = 0;              // (l2 / 2) ||W||^2 over weights, not biases; >= 0
  std::uint64_t seed = 0;     // shuffling and dropout
  double time_limit = std::numeric_limits<double>::infinity();  // seconds
  Index chunk_rows = 4096;    // rows per forward pass when evaluating
  // Checkpoints (checkpoint.hpp): written to `checkpoint` at the end of
  // every epoch and every `checkpoint_every` steps (0: epochs only), each
  // atomically. `resume` continues the run a checkpoint was taken from:
  // the result is bit for bit the run that was never interrupted.
  std::string checkpoint;
  Index checkpoint_every = 0;  // >= 0
  std::string resume;

  // Interruption (the CLI's SIGINT and SIGTERM handlers set it): polled after
  // every step. Once it holds true the run stops at that step boundary with
  // Status::interrupted, first writing a checkpoint to `checkpoint`, or to
  // `interrupt_checkpoint` when `checkpoint` is empty (neither: nothing is
  // written). Resuming from it continues the run bit for bit.
  const std::atomic<bool>* interrupt = nullptr;
  std::string interrupt_checkpoint;

  // The divergence guard. A step diverges when its loss or gradient is not
  // finite, when it makes the weights non-finite, or (divergence_factor > 0)
  // when the smoothed loss (an exponential moving average of the mini-batch
  // losses, weight 0.1 on the newest) exceeds divergence_factor times the
  // lowest smoothed loss so far. `stop` ends the run there (Status::diverged,
  // the weights of before that step). `rollback` restores the last good
  // snapshot of the weights, the optimizer state and the model's buffers,
  // halves the learning rate from then on, and continues with the next
  // mini-batch, at most max_rollbacks times; the next divergence stops the
  // run. Snapshots are taken every snapshot_every good steps, at every
  // checkpoint and at the start.
  enum class OnDivergence { stop, rollback };
  OnDivergence on_divergence = OnDivergence::stop;
  double divergence_factor = 0;  // 0: only non-finite values count; else > 1
  Index max_rollbacks = 3;       // >= 0
  Index snapshot_every = 100;    // >= 1

  // Data-parallel training (docs/distributed.md). With a communicator of
  // P ranks every rank calls fit() with its shard of the training set
  // (dist::take_shard: local row i is global row shard->rows[i]) and, on
  // rank 0, the whole validation set: rank 0 alone evaluates it, and the
  // other ranks may pass one without rows. Synchronous (sync_every =
  // 0): the epoch's seeded order of all N rows and its global batches are
  // those of one process; each rank sums the gradient over the batch rows
  // it owns, the sums are added over the ranks, and every rank ends the
  // step with the same bits, so the replicas stay bit-identical and the
  // result depends on P only through the order of the sums. With
  // shard_optimizer and an element-wise method (Stepper::shard), each rank
  // updates only its 1/P of x and keeps its 1/P of the optimizer's state:
  // the gradient is reduce-scattered and the updated slices allgathered
  // (the traffic of one allreduce); otherwise one allreduce, and every
  // rank takes the whole step. Checkpoints are written by rank 0
  // and resume with any P. sync_every = K >= 1: local SGD (federated
  // averaging): each rank takes steps on batches of batch_size rows of its
  // own shard, and the parameters (with sync_state, the optimizer state
  // too) are averaged every K steps and at the end of every epoch.
  // Its checkpoints are written where the weights were just averaged (at
  // the end of an epoch, every checkpoint_every steps, a multiple of K,
  // and on an interrupt at the next averaging step) and hold each rank's
  // own order, shuffle generator and optimizer state: they resume bit for
  // bit on as many ranks with the same K, and are refused by any other run.
  // Both null: one process, as without them.
  dist::Communicator* communicator = nullptr;
  const dist::Shard* shard = nullptr;
  Index sync_every = 0;     // >= 0
  bool sync_state = false;  // local SGD: average the optimizer's state too
  bool shard_optimizer = true;  // synchronous mode: shard the update (above)

  // The plateau report (it changes nothing in the run): an epoch is on a
  // plateau when, over it and the plateau_epochs - 1 epochs before it, the
  // mean training loss varied by at most plateau_tolerance of its mean and
  // the mean gradient norm by at most plateau_gradient_tolerance of its
  // mean (EpochRecord::plateau_epochs, TrainResult::plateau_since).
  // A resumed run starts watching afresh.
  Index plateau_epochs = 3;                 // 0: off; else >= 2
  double plateau_tolerance = 1e-3;          // > 0
  double plateau_gradient_tolerance = 0.1;  // > 0
};

// One optimizer step, for callbacks and logs.
struct StepRecord {
  Index epoch = 0;     // 1-based
  Index step = 0;      // 1-based, counted over the whole run
  double loss = 0;     // mini-batch loss (with the l2 penalty)
  double gradient_norm = 0;
  double update_norm = 0;
  double lr = 0;
  double seconds = 0;  // since the start
};

struct EpochRecord {
  Index epoch = 0;
  Index steps = 0;                   // steps so far
  double train_loss = 0;             // mean of this epoch's mini-batch losses
  double validation_loss = std::numeric_limits<double>::quiet_NaN();
  double validation_accuracy = std::numeric_limits<double>::quiet_NaN();  // classification only
  double gradient_norm = 0;          // of the epoch's last step
  double mean_gradient_norm = 0;     // over the epoch's steps
  Index plateau_epochs = 0;          // epochs on the plateau this one is on, itself included (0: none)
  double update_norm = 0;
  double lr = 0;                     // of the epoch's last step
  double seconds = 0;
  double samples_per_second = 0;     // this epoch's training throughput
};

// A rollback of the divergence guard.
struct RollbackRecord {
  Index rollback = 0;        // 1 for the first
  Index epoch = 0;           // where the divergence happened
  Index step = 0;            // the step that diverged (not taken)
  Index restored_step = 0;   // the step after which the restored snapshot was taken (0: the start)
  double lr_scale = 1;       // the learning-rate multiplier from now on
  std::string reason;
};

// Hooks default to doing nothing; returning false stops the run
// (Status::stopped_by_callback). Called on the training thread.
class TrainCallback {
 public:
  virtual ~TrainCallback() = default;
  virtual bool on_step(const StepRecord&) { return true; }
  virtual bool on_epoch(const EpochRecord&) { return true; }
  virtual void on_rollback(const RollbackRecord&) {}
};

struct TrainResult {
  // max_iterations: every epoch ran (the run's iteration limit is its
  // epochs); converged_value: early stopping; diverged; stopped_by_callback;
  // time_limit; interrupted.
  Status status = Status::max_iterations;
  std::string message;
  Index epochs = 0;
  Index steps = 0;
  double train_loss = std::numeric_limits<double>::quiet_NaN();  // of the last epoch
  Index best_epoch = 0;                                          // by validation loss; 0 without validation
  double best_validation_loss = std::numeric_limits<double>::quiet_NaN();
  Index diverged_at_step = 0;  // the step whose loss or gradient was not finite
  Index rollbacks = 0;         // of the divergence guard
  Index plateau_since = 0;     // the run ended on a plateau that began with this epoch (0: it did not)
  std::string checkpoint_written;  // the checkpoint an interrupted run wrote, if any
  double seconds = 0;
  double samples_per_second = 0;
  std::vector<EpochRecord> history;
  // Data-parallel runs: the ranks, and this rank's seconds in collectives
  // (the gradient allreduce, parameter averaging, agreement on stopping).
  int ranks = 1;
  double communication_seconds = 0;
  bool optimizer_sharded = false;  // each rank updated its slice (TrainOptions::shard_optimizer)
};

// Trains x (model.num_parameters() values, already initialized) with the
// stepper. On a diverging step (see TrainOptions::on_divergence) the step
// is not taken; x keeps the last good weights and the run stops with
// Status::diverged, or rolls back.
template <class T>
TrainResult fit(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training, const data::Dataset* validation,
                optim::Stepper<T>& stepper, const TrainOptions& options, TrainCallback* callback = nullptr);

// Trains x on the whole training set with a full-batch solver until its stop
// tests hold (minimize.hpp). l2 as in TrainOptions.
// With a communicator, every rank passes its shard of the training set:
// values and gradients are summed over the shards (one allreduce per
// evaluation) and divided by the global row count, so the solver takes the
// same steps on every rank. Stop tests on time are not allowed then (the
// ranks' clocks differ).
template <class T>
Result<T> fit_full_batch(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training, Method method,
                         const MinimizeOptions& options, double l2 = 0, Callback<T>* callback = nullptr,
                         dist::Communicator* communicator = nullptr);

struct Evaluation {
  Index rows = 0;
  double loss = 0;  // the model's loss, without penalties, in evaluation mode
  // Classification (the loss takes class labels, or bce on one output):
  Index classes = 0;
  double accuracy = std::numeric_limits<double>::quiet_NaN();
  std::vector<Index> confusion;  // classes x classes, row = true class, column = predicted
  // Regression:
  double mse = std::numeric_limits<double>::quiet_NaN();
  double r2 = std::numeric_limits<double>::quiet_NaN();
};

template <class T>
Evaluation evaluate(nn::Model<T>& model, const Vector<T>& x, const data::Dataset& d, Index chunk_rows = 4096);

}  // namespace descent::train
