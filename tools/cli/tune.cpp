// descent tune: hyper-parameter search (train/tune.hpp) over the flags of
// descent train, each trial trained on the same data with the same
// initialization and batch order, scored by its validation loss.
//
//   descent tune --data fashion-mnist --model mlp:784-128-10 --optimizer adam --val-fraction 0.1
//                --space lr=log:1e-4..1e-1 --space optimizer=choice:adam,sgd,lion --space batch-size=choice:32,64,128
//                [--scheduler asha|random] [--trials 27] [--max-epochs 9 --min-epochs 1 --eta 3] [--budget E]
//                [--workers W] [--log trials.jsonl] [--plot trials.svg] [--json]
//
// A space's names are train's: lr, optimizer, batch-size, l2, model, or
// any hyper-parameter of the stepper (momentum, beta2, weight-decay, ...;
// one the trial's stepper does not take is left out of that trial).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "descent/data/named.hpp"
#include "descent/io/file.hpp"
#include "descent/io/svg.hpp"
#include "descent/optim/factory.hpp"
#include "descent/solvers/minimize.hpp"
#include "descent/train/report.hpp"
#include "descent/train/trainer.hpp"
#include "descent/train/tune.hpp"
#include "paths.hpp"
#include "ranges.hpp"
#include "train_flags.hpp"

namespace descent::cli {
namespace {

struct TuneFlags {
  std::vector<std::string> space;
  std::string scheduler = "asha", sampler = "random", log, plot;
  Index trials = 27, max_epochs = 9, min_epochs = 1, budget = 0;
  double eta = 3;
  int workers = 1;
  bool json = false;
};

// The names a space may give that are flags of train rather than
// hyper-parameters of the stepper.
bool is_train_setting(const std::string& name) {
  return name == "lr" || name == "optimizer" || name == "batch-size" || name == "l2" || name == "model";
}

std::string hyperparameter_key(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

// One trial's flags: the command line's, with the configuration's values.
Flags trial_flags(const Flags& base, const train::Configuration& config) {
  Flags f = base;
  for (const auto& [name, value] : config) {
    if (name == "lr") f.lr = std::stod(value);
    else if (name == "optimizer") f.optimizer = value;
    else if (name == "batch-size") f.batch_size = std::stoll(value);
    else if (name == "l2") f.l2 = std::stod(value);
    else if (name == "model") f.model = value;
  }
  return f;
}

// Trains the trials in memory: each keeps its model, weights and stepper
// between rungs, so a promotion continues where the trial stopped.
class Runner final : public train::TrialRunner {
 public:
  Runner(const Flags& base, train::TrainingData& sets, int threads_per_trial)
      : base_(base), sets_(sets), threads_(threads_per_trial) {}

  std::vector<double> advance(Index id, const train::Configuration& config, Index from, Index to) override {
    omp_set_num_threads(threads_);
    State& s = state(id, config);
    const Flags f = trial_flags(base_, config);
    const train::TrainOptions o{.epochs = to - from, .batch_size = f.batch_size, .lr = f.lr, .l2 = f.l2,
                                .seed = f.seed + std::uint64_t(from), .plateau_epochs = 0};
    const auto r = train::fit(*s.model, s.x, sets_.train, &sets_.validation, *s.stepper, o);
    std::vector<double> losses;
    for (const auto& e : r.history) losses.push_back(e.validation_loss);
    if (r.status == Status::diverged) losses.push_back(std::numeric_limits<double>::infinity());
    return losses;
  }

  void release(Index id) override {
    std::lock_guard lock(mutex_);
    states_.erase(id);
  }

 private:
  struct State {
    std::unique_ptr<nn::Model<float>> model;
    Vector<float> x;
    std::unique_ptr<optim::Stepper<float>> stepper;
  };

  State& state(Index id, const train::Configuration& config) {
    std::lock_guard lock(mutex_);  // building a model may rewrite the labels (one-hot), once for every trial
    auto it = states_.find(id);
    if (it != states_.end()) return it->second;
    const Flags f = trial_flags(base_, config);
    State s;
    const std::string spec = train::model_spec(f.model, sets_);
    s.model = std::make_unique<nn::Model<float>>(train::build_model<float>(spec, f.loss, sets_, classifier(f)));
    s.x.resize(s.model->num_parameters());
    s.model->initialize(s.x, f.seed);
    optim::Hyperparameters hp = f.stepper.hyperparameters_map(), takes;
    optim::make_stepper<float>(f.optimizer, s.model->layout(), s.x, {}, {}, &takes);
    for (const auto& [name, value] : config)
      if (!is_train_setting(name) && takes.count(hyperparameter_key(name))) hp[hyperparameter_key(name)] = std::stod(value);
    s.stepper = optim::make_stepper<float>(f.optimizer, s.model->layout(), s.x, hp, f.stepper.regularization());
    return states_.emplace(id, std::move(s)).first->second;
  }

  const Flags& base_;
  train::TrainingData& sets_;
  int threads_;
  std::mutex mutex_;
  std::map<Index, State> states_;
};

std::string config_text(const train::Configuration& c) {
  std::string out;
  for (const auto& [name, value] : c) out += (out.empty() ? "" : " ") + name + "=" + value;
  return out;
}

// The descent train command that repeats a trial: this command line
// without tune's own flags and the flags the configuration sets, then the
// configuration's values and the trial's epochs.
std::string train_command(const train::Configuration& config, Index epochs) {
  static const std::vector<std::string> own = {"--space", "--scheduler", "--sampler", "--trials", "--max-epochs", "--min-epochs",
                                               "--eta", "--budget", "--workers", "--log", "--plot", "--epochs"};
  std::vector<std::string> dropped = own;
  for (const auto& [name, value] : config) dropped.push_back("--" + name);
  std::string out = as_train_command(dropped);
  static const std::vector<std::string> stepper_flags = {"momentum", "beta1", "beta2", "eps", "weight-decay"};
  for (const auto& [name, value] : config) {
    const bool flag = is_train_setting(name) || std::find(stepper_flags.begin(), stepper_flags.end(), name) != stepper_flags.end();
    out += flag ? fmt::format(" --{} {}", name, shell_word(value)) : fmt::format(" --hp {}={}", hyperparameter_key(name), value);
  }
  return out + fmt::format(" --epochs {}", epochs);
}

nlohmann::json trial_json(const train::TrialRecord& t) {
  return {{"trial", t.id},
          {"config", t.config},
          {"epochs", t.epochs},
          {"rung", t.rung},
          {"loss", std::isfinite(t.loss) ? nlohmann::json(t.loss) : nlohmann::json(nullptr)},
          {"losses", t.losses},
          {"completed", t.completed},
          {"failed", t.failed},
          {"seconds", t.seconds}};
}

// Prints each job and logs it.
class Report final : public train::TuneCallback {
 public:
  Report(bool quiet, train::JsonlLog& log) : quiet_(quiet), log_(log) {}
  void on_job(const train::TuneEvent& e, const train::TrialRecord& t) override {
    if (!quiet_)
      fmt::print("trial {:>3}  epochs {:>3} -> {:<3}  val loss {:<10.5g}  {}{}\n", e.trial, e.from, e.to, e.loss,
                 config_text(t.config), e.promoted ? "  (promoted)" : "");
    std::fflush(stdout);
    nlohmann::json j = trial_json(t);
    j["from"] = e.from;
    j["to"] = e.to;
    j["promoted"] = e.promoted;
    log_.write(j.dump());
  }

 private:
  bool quiet_;
  train::JsonlLog& log_;
};

std::string trials_svg(const train::TuneResult& r) {
  std::vector<const train::TrialRecord*> order;
  for (const auto& t : r.trials)
    if (!t.losses.empty()) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->loss < b->loss; });
  std::vector<io::Series> series;
  for (std::size_t i = 0; i < order.size() && i < 8; ++i) {
    io::Series s{.label = fmt::format("trial {}: {}", order[i]->id, config_text(order[i]->config))};
    for (std::size_t e = 0; e < order[i]->losses.size(); ++e)
      if (std::isfinite(order[i]->losses[e])) {
        s.x.push_back(double(e + 1));
        s.y.push_back(order[i]->losses[e]);
      }
    series.push_back(std::move(s));
  }
  return io::line_chart_svg(series, {.title = fmt::format("the best {} of {} trials", series.size(), r.trials.size()),
                                     .x_label = "epoch",
                                     .y_label = "validation loss",
                                     .log_y = true});
}

int run_tune(Flags f, const TuneFlags& tf) {
  check_setup_flags(f);
  if (tf.space.empty()) throw usage_error("--space is required: e.g. --space lr=log:1e-4..1e-1");
  train::SearchSpace space;
  try {
    space = train::SearchSpace::parse(tf.space);
  } catch (const invalid_argument& e) {
    throw usage_error(fmt::format("--space: {}", e.what()));
  }
  for (const auto& d : space.dimensions) {
    if (d.name == "optimizer")
      for (const auto& c : d.choices)
        if (!optim::is_stepper_name(c))
          throw usage_error(fmt::format("--space {}: '{}' is not a stepper; tune trains steppers", d.describe(), c));
    if (d.name == "epochs") throw usage_error("--space epochs: the epochs are the search's budget (--max-epochs)");
  }
  if (parse_method(f.optimizer)) throw usage_error("tune trains steppers; a full-batch solver has no rate to tune");
  if (tf.min_epochs > tf.max_epochs)
    throw usage_error(fmt::format("--min-epochs {} must not exceed --max-epochs {}", tf.min_epochs, tf.max_epochs));
  if (f.val_fraction == 0) f.val_fraction = 0.1;  // trials are scored on held-out rows
  check_paths(data_inputs(f), {{"--log", tf.log}, {"--plot", tf.plot}});
  if (f.threads > 0) omp_set_num_threads(f.threads);
  const int threads = omp_get_max_threads();
  train::TrainingData sets = train::load_training_data(data_options(f));
  if (sets.validation.rows == 0) throw usage_error("tune needs validation rows: raise --val-fraction");
  train::JsonlLog log = tf.log.empty() ? train::JsonlLog() : train::JsonlLog(tf.log, warn);
  log.write_configuration(nlohmann::json{{"command", "tune"}, {"space", tf.space}, {"scheduler", tf.scheduler}, {"sampler", tf.sampler},
                                         {"trials", tf.trials}, {"max_epochs", tf.max_epochs},
                                         {"min_epochs", tf.min_epochs}, {"eta", tf.eta}, {"budget", tf.budget},
                                         {"workers", tf.workers}, {"seed", f.seed}}
                              .dump());
  const train::TuneOptions o{.scheduler = tf.scheduler == "random" ? train::TuneOptions::Scheduler::random
                                                                   : train::TuneOptions::Scheduler::asha,
                             .sampler = tf.sampler == "tpe" ? train::TuneOptions::Sampler::tpe
                                                            : train::TuneOptions::Sampler::random,
                             .trials = tf.trials,
                             .max_epochs = tf.max_epochs,
                             .min_epochs = tf.min_epochs,
                             .eta = tf.eta,
                             .budget_epochs = tf.budget,
                             .workers = tf.workers,
                             .seed = f.seed};
  Runner runner(f, sets, std::max(1, threads / tf.workers));
  Report report(tf.json, log);
  if (!tf.json)
    fmt::print("{} over {} ({} training, {} validation rows); rungs at {} epochs\n", tf.scheduler, f.data,
               sets.train.rows, sets.validation.rows, fmt::join(train::rung_epochs(o), ", "));
  const auto r = train::tune(space, runner, o, &report);
  if (!tf.plot.empty()) io::write_file_atomically(tf.plot, trials_svg(r));
  const train::TrialRecord* best = r.best >= 0 ? &r.trials[static_cast<std::size_t>(r.best)] : nullptr;
  nlohmann::json summary{{"message", r.message},      {"trials", r.trials.size()}, {"epochs", r.epochs},
                         {"promotions", r.promotions}, {"rung_epochs", r.rung_epochs}, {"rung_sizes", r.rung_sizes},
                         {"seconds", r.seconds}};
  if (best) {
    summary["best"] = trial_json(*best);
    summary["command"] = train_command(best->config, best->epochs);
  }
  log.write(summary.dump());
  if (tf.json) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& t : r.trials) all.push_back(trial_json(t));
    summary["all"] = all;
    fmt::print("{}\n", summary.dump(2));
    return best ? 0 : 1;
  }
  std::vector<const train::TrialRecord*> order;
  for (const auto& t : r.trials) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->loss < b->loss; });
  fmt::print("\n{:>5}  {:>6}  {:>10}  {}\n", "trial", "epochs", "val loss", "configuration");
  for (std::size_t i = 0; i < order.size() && i < 10; ++i)
    fmt::print("{:>5}  {:>6}  {:>10.5g}  {}\n", order[i]->id, order[i]->epochs, order[i]->loss,
               config_text(order[i]->config));
  fmt::print("{} in {:.1f} s\n", r.message, r.seconds);
  if (best) fmt::print("train with: {}\n", train_command(best->config, best->epochs));
  return best ? 0 : 1;
}

}  // namespace

void add_tune(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  auto tf = std::make_shared<TuneFlags>();
  CLI::App* cmd = app.add_subcommand("tune", "Search hyper-parameters: random search or ASHA over epochs");
  add_setup_flags(cmd, *f);
  cmd->add_option("--lr", f->lr, "The learning rate of trials whose space does not set it")->capture_default_str()
      ->check(number_in(0, infinity));
  cmd->add_option("--space", tf->space,
                  "A hyper-parameter to search, repeatable: NAME=log:LO..HI, NAME=uniform:LO..HI, NAME=int:LO..HI or "
                  "NAME=choice:A,B,...; NAME is lr, optimizer, batch-size, l2, model or a stepper's hyper-parameter");
  cmd->add_option("--scheduler", tf->scheduler, "asha: successive halving, asynchronous; random: every trial to the end")
      ->check(CLI::IsMember({"asha", "random"}))
      ->capture_default_str();
  cmd->add_option("--sampler", tf->sampler,
                  "random: new trials drawn from the space; tpe: near the best trials so far (a Parzen estimator)")
      ->check(CLI::IsMember({"random", "tpe"}))
      ->capture_default_str();
  cmd->add_option("--trials", tf->trials, "Trials started, at most")->capture_default_str()
      ->transform(integer_in<Index>(1, 1'000'000));
  cmd->add_option("--max-epochs", tf->max_epochs, "Epochs of a trial trained to the end")->capture_default_str()
      ->transform(integer_in<Index>(1, 1'000'000));
  cmd->add_option("--min-epochs", tf->min_epochs, "ASHA: epochs of the first rung")->capture_default_str()
      ->transform(integer_in<Index>(1, 1'000'000));
  cmd->add_option("--eta", tf->eta, "ASHA: the best 1/eta of a rung go on, for eta times the epochs")
      ->capture_default_str()
      ->check(number_in(2, 1000));
  cmd->add_option("--budget", tf->budget, "Epochs over all trials, at most (0: no limit)")
      ->transform(integer_in<Index>(0, Index(1) << 40));
  cmd->add_option("--workers", tf->workers, "Trials trained at once, sharing the threads")->capture_default_str()
      ->transform(integer_in<int>(1, max_threads));
  cmd->add_option("--log", tf->log, "Write a JSON Lines log: a line per job, then the summary");
  cmd->add_option("--plot", tf->plot, "Draw the best trials' validation loss against epochs as SVG");
  cmd->add_flag("--json", tf->json, "Print every trial and the summary as JSON");
  cmd->callback([f, tf] {
    const int status = run_tune(*f, *tf);
    if (status != 0) throw exit_status{status};
  });
}

}  // namespace descent::cli
