// Internal: what the training loop (trainer.cpp) shares with the concerns
// that decorate it, and the one interface they implement.
//
// The loop is the workflow of gradient descent: for each epoch, shuffle;
// for each batch, forward pass, loss, gradient, update; at the end of the
// epoch, validate; stop when a test says so. Everything else is a Concern
// in a file of its own:
//
//   distributed.hpp       data-parallel steps, synchronous or local SGD
//   divergence_guard.hpp  refuses diverging steps; stops or rolls back
//   checkpointing.hpp     resume, checkpoints, the interrupt's checkpoint
//   learning_rate.hpp     the step's rate: a schedule, or reduce-on-plateau
//   early_stopping.hpp    the best epoch, keep-best, patience
//   observer.hpp          the caller's TrainCallback
//
// The loop calls them in that order at the start of the run and at the end
// of each step, and in the reverse order at the end of each epoch and of
// the run: a step is built up from the data outwards (synchronized, then
// guarded, then checkpointed, then shown to the caller), while the end of
// an epoch is decided from the caller inwards (the caller's callback and
// early stopping may stop the run, the plateau schedule takes the epoch's
// loss, and only then is the epoch's checkpoint written), and the run's
// end unwinds what its start set up (the interrupt's checkpoint is written
// before the ranks gather their shards of the optimizer's state).
#pragma once

#include <chrono>
#include <span>
#include <string>

#include "descent/core/random.hpp"
#include "descent/nn/objective.hpp"
#include "descent/optim/stepper.hpp"
#include "descent/train/checkpoint.hpp"
#include "descent/train/trainer.hpp"
#include "table.hpp"

namespace descent::train::detail {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

template <class T>
class Synchronization;

// The step in progress.
template <class T>
struct Step {
  Index count = 0;  // rows of its batch
  std::span<const Index> rows;
  bool mid_epoch = false;  // another batch of the epoch follows
  T loss = 0;
  double gradient_norm = 0;
  double lr = 0;
  bool finite = true;      // the update left the weights finite
  double update_norm = 0;  // known after the update only where the ranks shared it
};

// What a concern says of a step before it is taken, or of its update.
enum class Verdict {
  take,  // go on
  skip,  // not taken: the run goes on with the next batch (a rollback)
  stop,  // not taken: the run ends (Run::stop was called)
};

// Requests to stop at the end of a step, agreed on by the ranks of a
// distributed run before any is acted on.
struct StopRequests {
  bool callback = false, time = false, interrupt = false;
};

// The state of one call to fit: what the caller passed, what the loop
// built from it, and what the run has done so far.
template <class T>
struct Run {
  Run(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training, const data::Dataset* validation,
      optim::Stepper<T>& stepper, const TrainOptions& options, TrainCallback* callback, bool sum_gradients)
      : model(model), x(x), training(training), validation(validation), stepper(stepper), active(&stepper),
        options(options), callback(callback), table(training),
        objective(model, table.x, table.y, training.rows,
                  {.chunk_rows = options.chunk_rows, .training = true, .seed = options.seed, .l2 = options.l2,
                   .sum = sum_gradients}),
        shuffle(options.seed ^ 0x9e3779b97f4a7c15ULL),  // a stream apart from the dropout masks'
        g(x.size()), previous(x.size()) {}

  nn::Model<T>& model;
  Vector<T>& x;
  const data::Dataset& training;
  const data::Dataset* validation;
  optim::Stepper<T>& stepper;   // the caller's: it ends the run with the whole state
  optim::Stepper<T>* active;    // the one that takes the steps: the caller's, or this rank's shard of it
  const TrainOptions& options;
  TrainCallback* callback;      // may be null
  Table<T> table;
  nn::ModelObjective<T> objective;
  Rng shuffle;
  Vector<T> g, previous;        // the gradient; x before the update
  Vector<T> best;               // early stopping's best weights (empty without it)
  Index epoch_rows = 0;         // rows an epoch walks through
  Index batch = 0;              // rows a step takes (the last of an epoch may take fewer)
  Synchronization<T>* sync = nullptr;  // a distributed run's
  LoopState loop;               // everything a checkpoint keeps of the loop
  TrainResult result;
  StepRecord last;              // the last step taken
  StopRequests requests;        // of this step
  Clock::time_point start, epoch_start;
  bool lead = true;             // rank 0 of a distributed run, or the one process
  bool stopped = false;

  void stop(Status status, std::string message) {
    result.status = status;
    result.message = std::move(message);
    stopped = true;
  }
};

// A concern of the loop. Every hook may stop the run (Run::stop); the
// divergence guard's may also refuse a step and restore an earlier state.
template <class T>
class Concern {
 public:
  virtual ~Concern() = default;
  virtual void on_run_start(Run<T>&) {}
  // After the gradient, before the update; and after the update.
  virtual Verdict on_gradient(Run<T>&, Step<T>&) { return Verdict::take; }
  virtual Verdict on_update(Run<T>&, Step<T>&) { return Verdict::take; }
  virtual void on_step_end(Run<T>&, const Step<T>&) {}
  virtual void on_epoch_end(Run<T>&, const EpochRecord&) {}
  virtual void on_run_end(Run<T>&) {}
};

}  // namespace descent::train::detail
