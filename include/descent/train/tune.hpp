// Hyper-parameter search: random search, and asynchronous successive
// halving (ASHA; Li et al. 2018, "A system for massively parallel
// hyperparameter tuning") with training epochs as the budget.
//
//   auto space = train::SearchSpace::parse({"lr=log:1e-4..1e-1", "optimizer=choice:adam,sgd"});
//   MyRunner runner;  // trains a configuration for more epochs; returns the validation losses
//   auto result = train::tune(space, runner, {.trials = 27, .max_epochs = 9, .seed = 1});
//   // result.trials[result.best]: the configuration with the lowest validation loss
//
// New trials are drawn from the space, or near the best trials so far
// (TuneOptions::sampler). ASHA: rung k holds the trials trained for min_epochs * eta^k epochs
// (the last rung max_epochs). Whenever a worker is free it promotes a
// trial of the highest rung whose loss is in the best 1/eta of that rung
// and that was not promoted yet, training it on to the next rung; if there
// is none, it starts a new trial at rung 0. No trial waits for others, so
// workers never idle; a trial that is not promoted stays where it is.
// Random search trains every trial to max_epochs. Either stops starting
// trials after `trials` of them or once `budget_epochs` would be passed.
//
// With one worker the search is deterministic: the same seed gives the
// same trials, promotions and losses. With more, which trial a free worker
// promotes depends on which finished first, as in every asynchronous
// scheduler; each trial's own training is still deterministic.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "descent/core/random.hpp"
#include "descent/core/types.hpp"

namespace descent::train {

// One hyper-parameter and where to draw it from:
//   NAME=log:LO..HI       log-uniform on [LO, HI], 0 < LO < HI
//   NAME=uniform:LO..HI   uniform on [LO, HI]
//   NAME=int:LO..HI       an integer, uniform on {LO, ..., HI}
//   NAME=choice:A,B,...   one of the words, uniformly
struct Dimension {
  enum class Kind { log_uniform, uniform, integer, choice };
  std::string name;
  Kind kind = Kind::uniform;
  double lo = 0, hi = 0;
  std::vector<std::string> choices;

  // Throws descent::invalid_argument naming the text and what was expected.
  static Dimension parse(const std::string& text);
  // A value, written as text (numbers with 6 significant digits, so a
  // configuration prints as a command line that repeats it).
  std::string sample(Rng& rng) const;
  std::string describe() const;  // the text parse() reads
};

// A configuration: a value per dimension's name, as text.
using Configuration = std::map<std::string, std::string>;

struct SearchSpace {
  std::vector<Dimension> dimensions;
  // Throws descent::invalid_argument for a malformed entry or a name given twice.
  static SearchSpace parse(std::span<const std::string> texts);
  Configuration sample(Rng& rng) const;
};

// Trains the trials. advance() may be called from several threads at once,
// never twice at once for the same trial.
class TrialRunner {
 public:
  virtual ~TrialRunner() = default;
  // Trains trial `id` (with `config`) from `from` epochs (0: a new trial,
  // from its initialization) on to `to`, and returns the validation loss
  // after each of those epochs (to - from of them; fewer if the training
  // stopped, e.g. diverged: the trial then counts as lost, loss +inf).
  virtual std::vector<double> advance(Index id, const Configuration& config, Index from, Index to) = 0;
  // The trial will not be trained again: its state may go.
  virtual void release(Index id) { (void)id; }
};

struct TuneOptions {
  enum class Scheduler { asha, random };
  Scheduler scheduler = Scheduler::asha;
  // How new trials are drawn. random: from the space. tpe: a tree-structured
  // Parzen estimator (Bergstra et al. 2011) over the trials of the highest
  // rung that holds at least max(6, dimensions + 2) of them (as BOHB does,
  // Falkner et al. 2018): of 24 candidates drawn near the best quarter, the
  // one most likely under the best quarter relative to the rest; one new
  // trial in four is still drawn from the whole space. With several workers
  // the draws depend on which trials had finished.
  enum class Sampler { random, tpe };
  Sampler sampler = Sampler::random;
  Index trials = 27;        // trials started, at most; >= 1
  Index max_epochs = 9;     // R: the last rung's epochs; >= 1
  Index min_epochs = 1;     // r: rung 0's epochs (ASHA); in [1, max_epochs]
  double eta = 3;           // the reduction factor (ASHA); >= 2
  Index budget_epochs = 0;  // 0: no limit; else no job starts that would pass this total of epochs trained
  Index workers = 1;        // trials trained at once, each on its own thread; >= 1
  std::uint64_t seed = 0;   // of the configurations drawn
};

struct TrialRecord {
  Index id = 0;  // 0-based, in the order trials were started
  Configuration config;
  std::vector<double> losses;  // validation loss after each epoch trained
  Index epochs = 0;            // trained
  Index rung = 0;              // the highest rung reached (ASHA), -1 if it stopped before rung 0
  double loss = std::numeric_limits<double>::infinity();  // after its last epoch (+inf if it failed)
  bool completed = false;      // trained to max_epochs
  bool failed = false;         // diverged or returned fewer losses than asked
  double seconds = 0;          // spent training it
};

// An event of the search, for logs and progress: a job done.
struct TuneEvent {
  Index trial = 0;
  Index from = 0, to = 0;  // epochs
  double loss = 0;         // after `to`
  bool promoted = false;   // the job was a promotion (not a new trial)
  Index rung = 0;          // the rung it reached
};

class TuneCallback {
 public:
  virtual ~TuneCallback() = default;
  // Called (under the scheduler's lock, one at a time) after each job.
  virtual void on_job(const TuneEvent&, const TrialRecord&) {}
};

struct TuneResult {
  std::vector<TrialRecord> trials;  // in id order
  Index best = -1;                  // the trial with the lowest loss (-1: none succeeded)
  Index epochs = 0;                 // trained over all trials
  Index promotions = 0;
  std::vector<Index> rung_epochs;   // ASHA's rungs: epochs at each
  std::vector<Index> rung_sizes;    // trials that reached each rung
  double seconds = 0;
  std::string message;
};

// The epochs of each rung: min_epochs * eta^k up to max_epochs, the last
// rung max_epochs.
std::vector<Index> rung_epochs(const TuneOptions& o);

// Throws descent::invalid_argument for options out of range. Exceptions
// from the runner end the search and pass through.
TuneResult tune(const SearchSpace& space, TrialRunner& runner, const TuneOptions& options,
                TuneCallback* callback = nullptr);

}  // namespace descent::train
