// descent train: load a data set, train a model on it with a stepper or a
// full-batch solver, report on held-out data.
//
//   descent train --data fashion-mnist|FILE.csv|FILE.svm [--label-column K] [--test FILE]
//                 [--standardize] [--impute] --model linear|logistic|mlp:SPEC|cnn:lenet [--loss NAME]
//                 --optimizer NAME [--lr --momentum --weight-decay ... --schedule SPEC --clip-norm X]
//                 [--l2 LAMBDA] --epochs E --batch-size B [--val-fraction F] [--early-stopping P]
//                 [--gtol G --max-iter N] --seed S [--threads T] [--log FILE.jsonl]
//                 [--save MODEL.safetensors] [--checkpoint FILE [--checkpoint-every N]] [--resume FILE]
//                 [--on-divergence stop|rollback [--divergence-factor F] [--max-rollbacks K]] [--json]
//                 [--distributed [--sync-every K [--sync-state]] [--no-shard-optimizer]]   (under mpirun: docs/distributed.md)
//
// SIGINT or SIGTERM stops a stepper run after its current step, writes a
// checkpoint (to --checkpoint, else descent-interrupted.ckpt), prints the
// command that resumes it and exits with 130 or 143; a full-batch solver
// stops after its current iteration.
//
// This file turns flags into the library's options (train/setup.hpp,
// train/trainer.hpp, train/report.hpp, train/model_file.hpp) and prints
// what came of them; everything else is library code.
#include <omp.h>

#include <csignal>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <type_traits>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "descent/data/named.hpp"
#include "descent/dist/communicator.hpp"
#include "descent/io/file.hpp"
#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"
#include "descent/optim/schedule.hpp"
#include "descent/train/model_file.hpp"
#include "descent/train/report.hpp"
#include "descent/train/setup.hpp"
#include "descent/train/trainer.hpp"
#include "interrupt.hpp"
#include "lr_find.hpp"
#include "paths.hpp"
#include "ranges.hpp"
#include "stepper_flags.hpp"
#include "train_flags.hpp"

namespace descent::cli {
namespace {

// Where an interrupted run without --checkpoint leaves its state.
constexpr const char* interrupt_checkpoint = "descent-interrupted.ckpt";

train::TrainOptions train_options(const Flags& f, dist::Communicator* comm, const train::TrainingData& sets,
                                  const std::atomic<bool>& interrupt) {
  return {.epochs = f.epochs,
          .batch_size = f.batch_size,
          .lr = f.lr,
          .schedule = f.schedule,
          .patience = f.early_stopping,
          .l2 = f.l2,
          .seed = f.seed,
          .time_limit = f.time_limit.value_or(std::numeric_limits<double>::infinity()),
          .checkpoint = f.checkpoint,
          .checkpoint_every = f.checkpoint_every,
          .resume = f.resume,
          .interrupt = &interrupt,
          .interrupt_checkpoint = interrupt_checkpoint,
          .on_divergence = f.on_divergence == "rollback" ? train::TrainOptions::OnDivergence::rollback
                                                         : train::TrainOptions::OnDivergence::stop,
          .divergence_factor = f.divergence_factor,
          .max_rollbacks = f.max_rollbacks,
          .communicator = comm,
          .shard = comm ? &sets.shard : nullptr,
          .sync_every = f.sync_every,
          .sync_state = f.sync_state,
          .shard_optimizer = !f.no_shard_optimizer,
          .plateau_epochs = f.plateau_epochs,
          .plateau_tolerance = f.plateau_tolerance,
          .plateau_gradient_tolerance = std::min(0.5, 100 * f.plateau_tolerance)};
}

// The command line that resumes an interrupted run: the same words, with
// --resume (and its value) replaced.
std::string resume_command(const std::string& checkpoint) {
  const auto& words = command_line();
  std::string out = "descent";
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--resume") {
      ++i;
      continue;
    }
    if (w.rfind("--resume=", 0) == 0) continue;
    out += ' ' + shell_word(w);
  }
  return out + " --resume " + checkpoint;
}

// Every setting of the run, defaults included: the loss the model uses and
// every hyper-parameter of the stepper with the value it took.
nlohmann::json configuration(const Flags& f, int threads, const std::string& loss,
                             const optim::Hyperparameters& hyperparameters) {
  return {{"descent", DESCENT_VERSION},
          {"command", "train"},
          {"data", f.data},
          {"test", f.test},
          {"label_column", f.label_column},
          {"standardize", f.standardize},
          {"impute", f.impute},
          {"model", f.model},
          {"loss", loss},
          {"optimizer", f.optimizer},
          {"lr", f.lr},
          {"lr_auto", f.lr_auto},
          {"hyperparameters", hyperparameters},
          {"schedule", f.schedule},
          {"clip_norm", f.stepper.clip_norm},
          {"l1", f.stepper.l1},
          {"l2", f.l2},
          {"project", f.project},
          {"epochs", f.epochs},
          {"batch_size", f.batch_size},
          {"val_fraction", f.val_fraction},
          {"early_stopping", f.early_stopping},
          {"gtol", f.gtol},
          {"time_limit", f.time_limit ? nlohmann::json(*f.time_limit) : nlohmann::json(nullptr)},
          {"checkpoint", f.checkpoint},
          {"checkpoint_every", f.checkpoint_every},
          {"resume", f.resume},
          {"on_divergence", f.on_divergence},
          {"divergence_factor", f.divergence_factor},
          {"max_rollbacks", f.max_rollbacks},
          {"plateau_epochs", f.plateau_epochs},
          {"plateau_tolerance", f.plateau_tolerance},
          {"max_iter", f.max_iter},
          {"memory", f.memory},
          {"seed", f.seed},
          {"threads", threads},
          {"distributed", f.distributed},
          {"sync_every", f.sync_every},
          {"sync_state", f.sync_state},
          {"shard_optimizer", !f.no_shard_optimizer},
          {"save", f.save}};
}

// Where a model goes when --save cannot be written after the training (the
// disk filled up, the directory went away): the working directory, else
// the temporary directory.
constexpr const char* rescue_name = "descent-unsaved-model.safetensors";

// Saves to `path`; if that fails, says why and saves to a rescue file
// instead, so the trained weights are not lost. Returns where the model
// went ("" if nowhere).
template <class T>
std::string save_or_rescue(const std::string& path, const std::string& spec, const nn::Model<T>& model,
                           const Vector<T>& x, const train::TrainingData& sets) {
  const train::ModelFile about{.spec = spec, .scaler = sets.scaler, .signed_labels = sets.signed_labels};
  try {
    train::save_model(path, model, x, about);
    return path;
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "descent: --save: {}\n", e.what());
  }
  for (const auto& rescue : {std::filesystem::path(rescue_name), std::filesystem::temp_directory_path() / rescue_name}) {
    try {
      if (io::same_file(rescue.string(), path)) continue;
      train::save_model(rescue.string(), model, x, about);
      fmt::print(stderr, "descent: the trained model is saved in {} instead\n", rescue.string());
      return rescue.string();
    } catch (const std::exception&) {
    }
  }
  fmt::print(stderr, "descent: the trained model could not be saved anywhere\n");
  return "";
}

// The weights, initialized, once the machine is known to hold them: the
// parameters, their gradient and the step's copy, up to three vectors of
// optimizer state (or L-BFGS's pairs), the best weights and a rollback
// snapshot; for a stepper also one batch's activations (the tape of a
// forward and backward pass, measured on a few rows).
template <class T>
Vector<T> initial_weights(const Flags& f, nn::Model<T>& model, const train::TrainingData& sets,
                          const std::string& spec, bool solver) {
  const double vectors = solver ? 6.0 + 2.0 * double(f.memory) : 9.0;
  const double fixed = vectors * double(model.num_parameters()) * double(sizeof(T));
  require_memory(fixed, 0.9,
                 fmt::format("model {} ({} parameters, {} bytes each, about {:g} copies)", spec,
                             model.num_parameters(), sizeof(T), vectors));
  Vector<T> x(model.num_parameters());
  model.initialize(x, f.seed);
  if (solver || !std::is_same_v<T, float> || sets.train.rows == 0) return x;  // a solver evaluates in bounded chunks
  const double per_row = train::activation_bytes_per_row(model, x, sets.train);
  const Index batch = std::max(std::min(f.batch_size, sets.train_rows), std::min<Index>(sets.train_rows, 4096));
  require_memory(fixed + per_row * double(batch), 0.9,
                 fmt::format("model {} ({} parameters and their optimizer state, {:.1f} MiB) with batches of {} rows "
                             "({:.1f} KiB of activations a row)",
                             f.model, model.num_parameters(), fixed / double(1 << 20), batch, per_row / 1024));
  return x;
}

// The summary's first fields, and the run's description on stdout.
template <class T>
nlohmann::json describe_run(const Flags& f, const train::TrainingData& sets, const nn::Model<T>& model,
                            const std::string& spec, int threads, dist::Communicator* comm, bool lead) {
  nlohmann::json summary{{"model", spec},
                         {"optimizer", f.optimizer},
                         {"lr", f.lr},
                         {"parameters", model.num_parameters()},
                         {"threads", threads},
                         {"train_rows", sets.train_rows},
                         {"validation_rows", sets.validation.rows},
                         {"test_rows", sets.test.rows}};
  const bool say = !f.json && lead;
  if (say)
    fmt::print("{}: {} training, {} validation and {} test samples of {} features\n{}\n", f.data, sets.train_rows,
               sets.validation.rows, sets.test.rows, sets.train.features, model.summary());
  if (sets.signed_labels) {
    summary["labels"] = {-1, 1};
    if (say) fmt::print("labels -1 and +1 are read as the classes 0 and 1\n");
  }
  summary["ranks"] = comm ? comm->size() : 1;
  if (comm && say)
    fmt::print("distributed over {} ranks, {}\n", comm->size(),
               f.sync_every > 0 ? fmt::format("local SGD averaging every {} steps", f.sync_every)
                                : std::string("synchronous"));
  return summary;
}

// A full-batch solver on the whole training set.
template <class T>
void run_solver(const Flags& f, train::TrainingData& sets, nn::Model<T>& model, Vector<T>& x, Method method,
                const Projection& projection, train::JsonlLog& log, const InterruptGuard& interrupt, dist::Communicator* comm,
                nlohmann::json& summary) {
  const bool lead = comm == nullptr || comm->rank() == 0;
  // A distributed solver ignores signals (one rank stopping alone would
  // leave the others in a collective); mpirun ends the job on SIGINT.
  static const std::atomic<bool> never(false);
  train::SolverReport<T> report(log, comm ? never : interrupt.flag());
  MinimizeOptions options;
  options.stop.gradient_tolerance = f.gtol;
  options.stop.max_iterations = f.max_iter;
  options.memory = f.memory;
  if (f.time_limit) options.stop.time_limit = *f.time_limit;
  if (!projection.empty()) {  // train_projection checked that the method takes it
    if (accepts_projection(method)) options.projection = projection;
    else options.bounds = projection.as_bounds(x.size());
  }
  const auto r = train::fit_full_batch(model, x, sets.train, method, options, f.l2, lead ? &report : nullptr, comm);
  summary["status"] = std::string(to_string(r.status));
  summary["message"] = r.message;
  summary["iterations"] = r.iterations;
  summary["gradient_evaluations"] = r.gradient_evaluations;
  summary["train_loss"] = double(r.value);
  summary["gradient_norm"] = double(r.gradient_norm);
  summary["seconds"] = r.seconds;
  summary["epochs"] = nullptr;
  summary["samples_per_second"] = r.seconds > 0 ? double(sets.train_rows * r.gradient_evaluations) / r.seconds : 0;
  if (!f.json && lead)
    fmt::print("{}: {} after {} iterations, training loss {:.7g}, |g| {:.3g}, {:.2f} s\n", f.optimizer, r.message,
               r.iterations, double(r.value), double(r.gradient_norm), r.seconds);
}

// Epochs of mini-batches with a stepper. Returns the checkpoint an
// interrupted run wrote ("" if none).
template <class T>
std::string run_stepper(const Flags& f, train::TrainingData& sets, nn::Model<T>& model, Vector<T>& x,
                        optim::Stepper<T>& stepper, train::JsonlLog& log, const InterruptGuard& interrupt,
                        dist::Communicator* comm, nlohmann::json& summary) {
  const bool lead = comm == nullptr || comm->rank() == 0;
  const Index epoch_rows = comm && f.sync_every > 0 ? sets.train_rows / comm->size() : sets.train_rows;
  const Index batch = std::min(f.batch_size, epoch_rows);
  train::ProgressReport progress({.epochs = f.epochs, .batch_size = f.batch_size,
                                  .steps_per_epoch = (epoch_rows + batch - 1) / batch,
                                  .max_rollbacks = f.max_rollbacks},
                                 f.json ? stderr : stdout, &log);
  const auto r = train::fit(model, x, sets.train, sets.has_validation ? &sets.validation : nullptr, stepper,
                            train_options(f, comm, sets, interrupt.flag()), lead ? &progress : nullptr);
  summary["status"] = std::string(to_string(r.status));
  summary["message"] = r.message;
  summary["epochs"] = r.epochs;
  summary["steps"] = r.steps;
  summary["train_loss"] = r.train_loss;
  summary["seconds"] = r.seconds;
  summary["samples_per_second"] = r.samples_per_second;
  if (r.best_epoch > 0) summary["best_epoch"] = r.best_epoch;
  if (r.diverged_at_step > 0) summary["diverged_at_step"] = r.diverged_at_step;
  summary["rollbacks"] = r.rollbacks;
  if (r.plateau_since > 0) summary["plateau_since"] = r.plateau_since;
  if (comm) {
    summary["communication_seconds"] = r.communication_seconds;
    summary["sync_every"] = f.sync_every;
    summary["optimizer_sharded"] = r.optimizer_sharded;
    summary["shard_rows"] = sets.train.rows;  // rank 0's
  }
  if (!f.json && lead) fmt::print("{}: {}\n", f.optimizer, r.message);
  return r.checkpoint_written;
}

// Interrupted: no test figures and no --save; says how to go on, and
// returns 128 + the signal's number.
int report_interrupted(const Flags& f, const InterruptGuard& interrupt, const std::string& written,
                       train::JsonlLog& log, nlohmann::json& summary) {
  // A signal to any rank of a distributed run stops every rank; one that
  // was not signalled itself reports it as SIGTERM, what mpirun and batch
  // schedulers send.
  const int signo = interrupt.signal() != 0 ? interrupt.signal() : SIGTERM;
  const std::string by = interrupt.signal() != 0 ? fmt::format("by {}", interrupt.signal_name())
                                                 : std::string("(another rank received a signal)");
  summary["status"] = "interrupted";
  if (!written.empty()) summary["checkpoint"] = written;
  log.write(nlohmann::json{{"interrupted", interrupt.signal() != 0 ? interrupt.signal_name() : "another rank"},
                           {"checkpoint", written}}
                .dump());
  if (f.json) fmt::print("{}\n", summary.dump(2));
  fmt::print(stderr, "descent: interrupted {}", by);
  if (!written.empty()) {
    fmt::print(stderr, "; the run's state is in {}\nresume with: {}\n", written, resume_command(written));
  } else {
    fmt::print(stderr, "; a full-batch solver keeps no checkpoint: run it again to finish\n");
  }
  return 128 + signo;
}

// The test figures, --save, and the exit status of a run that ended.
template <class T>
int report_results(const Flags& f, const train::TrainingData& sets, nn::Model<T>& model, const Vector<T>& x,
                   const std::string& spec, train::JsonlLog& log, nlohmann::json& summary) {
  // A set too small for the held-out split trains on all it has; there are
  // then no test figures, and the run says so.
  std::optional<train::Evaluation> e;
  if (sets.test.rows > 0) {
    e = train::evaluate(model, x, sets.test);
    summary["test_loss"] = e->loss;
    if (e->classes > 0) {
      summary["test_accuracy"] = e->accuracy;
    } else {
      summary["test_mse"] = e->mse;
      summary["test_r2"] = e->r2;
    }
    log.write(nlohmann::json{{"test_loss", e->loss}, {"test_accuracy", summary.value("test_accuracy", nlohmann::json())}}
                  .dump());
  }
  const std::string saved = f.save.empty() ? std::string() : save_or_rescue(f.save, spec, model, x, sets);
  if (!saved.empty() && saved != f.save) summary["saved_to"] = saved;
  if (!log.failure().empty()) summary["log_error"] = log.failure();
  if (f.json) {
    fmt::print("{}\n", summary.dump(2));
  } else if (!e) {
    fmt::print("test: nothing was held out: {} rows are too few for a 20% test split (give --test FILE)\n",
               sets.train_rows + sets.validation.rows);
  } else if (e->classes > 0) {
    fmt::print("test: loss {:.4f}, accuracy {:.4f} on {} samples\n", e->loss, e->accuracy, e->rows);
  } else {
    fmt::print("test: loss {:.4f}, mse {:.6g}, r2 {:.4f} on {} samples\n", e->loss, e->mse, e->r2, e->rows);
  }
  if (!log.failure().empty()) fmt::print(stderr, "descent: the log {} is incomplete: {}\n", f.log, log.failure());
  if (saved != f.save || !log.failure().empty()) return 1;
  return summary["status"] == "diverged" ? 1 : 0;
}

train::JsonlLog open_log(const std::string& path) {
  try {
    return train::JsonlLog(path, [](const std::string& why) {
      fmt::print(stderr, "descent: --log: {}; the run goes on without its log\n", why);
    });
  } catch (const std::runtime_error& e) {
    throw usage_error(fmt::format("--log {}: {}", path, e.what()));
  }
}

// comm: a distributed run (every rank runs this; rank 0 alone prints, logs
// and saves).
// --lr auto: the range test from the initial weights (which it leaves as
// they were), and the rate it suggests.
template <class T>
double find_learning_rate(const Flags& f, nn::Model<T>& model, Vector<T>& x, const train::TrainingData& sets,
                          optim::Stepper<T>& stepper) {
  const auto r = train::lr_range_test(model, x, sets.train, stepper, range_test_options(f, {}));
  if (std::isnan(r.suggestion))
    throw usage_error(fmt::format("--lr auto: the range test found no rate ({}); give --lr", r.message));
  if (!f.json) fmt::print("lr-find: {}\n", r.message);
  return r.suggestion;
}

template <class T>
int run(Flags f, train::TrainingData& sets, const std::string& spec, int threads, dist::Communicator* comm) {
  const bool lead = comm == nullptr || comm->rank() == 0;
  const auto solver = parse_method(f.optimizer);
  nn::Model<T> model = train::build_model<T>(spec, f.loss, sets, classifier(f));
  Vector<T> x = initial_weights(f, model, sets, spec, solver.has_value());
  // The run starts inside the set (a resumed run's weights are inside already).
  const Projection projection = train_projection(f, model.layout());
  projection.apply(x);
  std::unique_ptr<optim::Stepper<T>> stepper;
  optim::Hyperparameters hyperparameters = f.stepper.hyperparameters_map();
  if (!solver) {
    stepper = optim::make_stepper<T>(f.optimizer, model.layout(), x, f.stepper.hyperparameters_map(),
                                     f.stepper.regularization(), &hyperparameters);
    stepper->set_projection(projection);
    if (f.lr_auto) f.lr = find_learning_rate(f, model, x, sets, *stepper);
  }
  train::JsonlLog log = open_log(lead ? f.log : std::string());
  log.write_configuration(configuration(f, threads, model.loss().name(), hyperparameters).dump());
  nlohmann::json summary = describe_run(f, sets, model, spec, threads, comm, lead);
  if (!projection.empty()) {
    summary["projection"] = projection.describe();
    if (!f.json && lead) fmt::print("kept in the set {} after every step\n", fmt::join(f.project, " and "));
  }
  const InterruptGuard interrupt;
  std::string written;  // the checkpoint an interrupted run wrote
  if (solver) {
    run_solver(f, sets, model, x, *solver, projection, log, interrupt, comm, summary);
  } else {
    written = run_stepper(f, sets, model, x, *stepper, log, interrupt, comm, summary);
  }
  if (comm) {  // every rank compares a hash of its parameters with rank 0's
    const bool identical = dist::replicas_identical(*comm, std::span<const T>(x.data(), static_cast<std::size_t>(x.size())));
    summary["replicas_identical"] = identical;
    if (!identical && lead)
      fmt::print(stderr, "descent: warning: the ranks' parameters are not bit-identical{}\n",
                 f.sync_every > 0 ? "" : " (in a synchronous run they should be: please report this)");
  }
  const std::string status = summary["status"];
  const bool interrupted = status == "interrupted" || (interrupt.signal() != 0 && status == "aborted_by_callback");
  if (!lead)  // rank 0 reports
    return status == "diverged" ? 1 : interrupted ? 128 + (interrupt.signal() != 0 ? interrupt.signal() : SIGTERM) : 0;
  if (interrupted) return report_interrupted(f, interrupt, written, log, summary);
  return report_results(f, sets, model, x, spec, log, summary);
}

}  // namespace

int run_train(const Flags& f) {
  check_flags(f);
  const bool solver = parse_method(f.optimizer).has_value();
  if (f.threads > 0) omp_set_num_threads(f.threads);
  const int threads = omp_get_max_threads();

  // Under mpirun every rank runs all of this; without mpirun, one rank.
  std::unique_ptr<dist::Communicator> comm = f.distributed ? dist::open_mpi() : nullptr;
  try {
    train::TrainingData sets = train::load_training_data(data_options(f), comm.get());
    const std::string spec = train::model_spec(f.model, sets);
    // Full-batch solvers work in float64, the steppers in float32.
    return solver ? run<double>(f, sets, spec, threads, comm.get()) : run<float>(f, sets, spec, threads, comm.get());
  } catch (const std::exception& e) {
    if (!comm || comm->size() == 1) throw;
    // One rank's error ends every rank (the others may be waiting in a
    // collective): usage and data errors with status 2, others with 1.
    const bool usage = dynamic_cast<const usage_error*>(&e) || dynamic_cast<const invalid_argument*>(&e) ||
                       dynamic_cast<const parse_error*>(&e) || dynamic_cast<const dist::communication_error*>(&e);
    fmt::print(stderr, "descent: rank {} of {}: {}\n", comm->rank(), comm->size(), e.what());
    comm->abort(usage ? 2 : 1);
    throw;  // not reached: abort ends the process
  }
}


}  // namespace descent::cli
