// descent train's flags, and the rules that tie them together.
#include "train_flags.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "descent/data/named.hpp"
#include "descent/dist/communicator.hpp"
#include "descent/io/file.hpp"
#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"
#include "descent/solvers/minimize.hpp"
#include "descent/train/setup.hpp"
#include "paths.hpp"
#include "ranges.hpp"

namespace descent::cli {

// The rules that tie a flag's value to others' (the flags' own ranges are
// checked as they are parsed, ranges.hpp), and every file the run reads
// and writes, before any work.
void check_setup_flags(const Flags& f) {
  if (f.data.empty()) throw usage_error("--data is required (fashion-mnist, FILE.csv or FILE.svm)");
  if (f.model.empty()) throw usage_error("--model is required (linear, logistic, mlp:F-H-...-O, cnn:lenet)");
  if (!parse_method(f.optimizer) && !optim::is_stepper_name(f.optimizer))
    throw usage_error(fmt::format("unknown optimizer '{}'; steppers: {}; full-batch solvers: {}", f.optimizer,
                                  fmt::join(optim::stepper_names(), ", "), method_names()));
  if (!f.loss.empty()) {
    try {
      nn::parse_loss(f.loss);
    } catch (const invalid_argument& e) {
      throw usage_error(e.what());
    }
  }
  if (f.val_fraction == 1) throw usage_error("--val-fraction must be in [0, 1); got 1 (nothing would be left to train on)");
}

void check_flags(const Flags& f) {
  check_setup_flags(f);
  // The flags' own ranges are checked as they are parsed (ranges.hpp); these
  // are the rules that tie a value or several flags together.
  if (f.early_stopping > 0 && f.val_fraction == 0)
    throw usage_error("--early-stopping needs a validation set: give --val-fraction too");
  if (f.plateau_epochs == 1)
    throw usage_error("--plateau-epochs must be 0 (off) or >= 2: a plateau is flat over several epochs");
  if (f.checkpoint_every > 0 && f.checkpoint.empty()) throw usage_error("--checkpoint-every needs --checkpoint FILE");
  if (!(f.divergence_factor == 0 || (f.divergence_factor > 1 && std::isfinite(f.divergence_factor))))
    throw usage_error(fmt::format("--divergence-factor must be 0 (off) or > 1; got {}", f.divergence_factor));
  const bool solver = parse_method(f.optimizer).has_value();
  if (solver && f.on_divergence == "rollback")
    throw usage_error("--on-divergence rollback is for the steppers; the full-batch solvers reset their curvature "
                      "memory after a failed line search themselves");
  if (solver && !(f.checkpoint.empty() && f.resume.empty()))
    throw usage_error("--checkpoint and --resume are for the steppers; a full-batch solver runs to the end");
  if (f.lr_auto && solver)
    throw usage_error(fmt::format("--lr auto is for the steppers; the full-batch solver {} finds its own step length",
                                  f.optimizer));
  if (f.lr_auto && f.distributed)
    throw usage_error("--lr auto does not go with --distributed (each rank would find its own rate): run descent "
                      "lr-find once and give its suggestion as --lr");
  if ((f.sync_every > 0 || f.sync_state) && !f.distributed)
    throw usage_error("--sync-every and --sync-state are for distributed runs: give --distributed too");
  if (f.sync_state && f.sync_every == 0) throw usage_error("--sync-state needs --sync-every K (local SGD)");
  if (f.no_shard_optimizer && !f.distributed)
    throw usage_error("--no-shard-optimizer is for distributed runs: give --distributed too");
  if (f.distributed && f.sync_every > 0 && solver)
    throw usage_error("--sync-every is for the steppers; a distributed full-batch solver is always synchronous");
  if (f.distributed && f.sync_every > 0 && f.checkpoint_every % f.sync_every != 0)
    throw usage_error(fmt::format("--checkpoint-every {} with --sync-every {}: local SGD checkpoints where the ranks' "
                                  "weights are averaged, so the interval must be a multiple of {}",
                                  f.checkpoint_every, f.sync_every, f.sync_every));
  if (f.distributed && solver && f.time_limit)
    throw usage_error("--time-limit does not go with a distributed full-batch solver: the ranks' clocks would stop "
                      "them at different iterations");
  if (f.distributed && !dist::mpi_available())
    throw usage_error("--distributed: this descent was built without MPI (DESCENT_WITH_MPI off); install Open MPI "
                      "(openmpi-bin, libopenmpi-dev), rebuild, and run under mpirun");
  // Every file the run reads and writes, before any work: an output that
  // cannot be written is found now, not after the training, and no output
  // may overwrite an input. --resume FILE --checkpoint FILE, going on in
  // the file a run was resumed from, is the usual way to continue.
  std::vector<NamedPath> inputs = data_inputs(f);
  if (f.checkpoint.empty() || f.resume.empty() || !io::same_file(f.resume, f.checkpoint))
    inputs.push_back({"--resume", f.resume});
  check_paths(inputs, {{"--log", f.log}, {"--save", f.save}, {"--checkpoint", f.checkpoint}});
}

Projection train_projection(const Flags& f, const Layout& layout) {
  Projection projection;
  for (const std::string& flag : f.project) {
    const auto equals = flag.find('=');
    const std::string spec = equals == std::string::npos ? flag : flag.substr(equals + 1);
    try {
      const Projection set = Projection::parse(spec);
      if (equals == std::string::npos) {
        projection.also(set);
        continue;
      }
      const std::string segments = flag.substr(0, equals);
      std::size_t start = 0;
      while (start <= segments.size()) {
        const auto comma = std::min(segments.find(',', start), segments.size());
        const std::string pattern = segments.substr(start, comma - start);
        if (pattern.empty()) throw invalid_argument("an empty segment name before '='");
        projection.also(set.on_segments(layout, pattern));
        start = comma + 1;
      }
    } catch (const invalid_argument& e) {
      throw usage_error(fmt::format("--project {}: {}", flag, e.what()));
    }
  }
  try {
    projection.validate(layout.size());
  } catch (const invalid_argument& e) {
    throw usage_error(fmt::format("--project: {}", e.what()));
  }
  if (projection.empty()) return projection;
  if (const auto method = parse_method(f.optimizer)) {
    const bool ok = accepts_projection(*method) || (accepts_bounds(*method) && projection.is_box());
    if (!ok)
      throw usage_error(fmt::format("--project with the full-batch solver {}: use a stepper, projected-gd or spg{}",
                                    f.optimizer, projection.is_box() ? ", or lbfgsb" : ""));
  }
  return projection;
}

bool classifier(const Flags& f) { return train::is_classifier(f.model, f.loss); }

train::DataOptions data_options(const Flags& f) {
  return {.data = f.data,
          .test = f.test,
          .label_column = f.label_column,
          .standardize = f.standardize,
          .impute = f.impute,
          .val_fraction = f.val_fraction,
          .seed = f.seed,
          .classifier = classifier(f),
          .warn = warn};
}

std::vector<NamedPath> data_inputs(const Flags& f) {
  const auto& named = data::named_datasets();
  return {{"--data", std::find(named.begin(), named.end(), f.data) == named.end() ? f.data : std::string()},
          {"--test", f.test}};
}

std::string as_train_command(const std::vector<std::string>& drop) {
  const auto& words = command_line();
  std::string out = "descent train";
  for (std::size_t i = 2; i < words.size(); ++i) {  // words[1] is the subcommand
    const std::string& w = words[i];
    if (w == "--json") continue;
    const auto eq = w.find('=');
    if (std::find(drop.begin(), drop.end(), w.substr(0, eq)) != drop.end()) {
      if (eq == std::string::npos) ++i;  // its value
      continue;
    }
    out += ' ' + shell_word(w);
  }
  return out;
}

void add_setup_flags(CLI::App* cmd, Flags& f) {
  cmd->add_option("--data", f.data, "fashion-mnist, FILE.csv or a LIBSVM file (.svm, .libsvm, .txt)");
  cmd->add_option("--test", f.test, "Test set file (default: the named set's test part, else a seeded 20%)");
  cmd->add_option("--label-column", f.label_column, "CSV: the target column, a 0-based index or a header name "
                                                     "(default: the last)");
  cmd->add_flag("--standardize", f.standardize, "Scale features with statistics of the training data");
  cmd->add_flag("--impute", f.impute, "CSV: replace missing values by their column's mean (default: reject)");
  cmd->add_option("--model", f.model, "linear, logistic, or a spec: " + nn::model_spec_help());
  cmd->add_option("--loss", f.loss, "Override the model's loss: mse, mae, huber, cross_entropy, bce, hinge");
  cmd->add_option("--optimizer", f.optimizer, "A stepper (" + fmt::format("{}", fmt::join(optim::stepper_names(), ", ")) +
                                                  ") or a full-batch solver (" + method_names() + ")")
      ->capture_default_str();
  f.stepper.add_to(cmd);
  cmd->add_option("--l2", f.l2, "Add (L2/2) ||W||^2 over weights, not biases, for any optimizer")
      ->check(number_in(0, infinity));
  cmd->add_option("--batch-size", f.batch_size, "Samples per step (1: SGD; the whole set: batch descent)")
      ->capture_default_str()
      ->transform(integer_in<Index>(1, Index(1) << 31));
  cmd->add_option("--val-fraction", f.val_fraction, "Hold out this fraction of the training set for validation")
      ->check(number_in(0, 1));
  cmd->add_option("--seed", f.seed, "Seed of the initialization, splits, shuffles and dropout")
      ->capture_default_str()
      ->transform(integer_in<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()));
  cmd->add_option("--threads", f.threads, "Threads (default: OMP_NUM_THREADS or all cores)")
      ->transform(thread_count());
}

void add_train(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("train", "Train a model on a data set and report on held-out data");
  add_setup_flags(cmd, *f);
  cmd->add_option_function<std::string>(
         "--lr",
         [f](const std::string& text) {
           f->lr_auto = text == "auto";
           if (!f->lr_auto) f->lr = std::stod(text);
         },
         "Learning rate of the steppers, or auto: the suggestion of the range test (descent lr-find) run first")
      ->type_name("FLOAT|auto")
      ->default_str("0.001")
      ->check(or_word(number_in(0, infinity), "auto"));
  cmd->add_option("--schedule", f->schedule, "Learning-rate schedule over all steps, e.g. cosine, warmup:100+cosine; or plateau[:PATIENCE[:FACTOR]], which cuts the rate when the validation loss stalls");
  cmd->add_option("--epochs", f->epochs, "Passes over the training set")->capture_default_str()
      ->transform(integer_in<Index>(1, 1'000'000'000));
  cmd->add_option("--project", f->project,
                  "Keep parameters in a set after every step: [SEGMENTS=]SPEC, SPEC one of nonneg, box:LO,HI, "
                  "simplex[:R], l1:R, l2:R; SEGMENTS names or '*' patterns, e.g. '*.weight=nonneg' (repeatable)");
  cmd->add_option("--early-stopping", f->early_stopping,
                  "Stop after this many epochs without a better validation loss, restoring the best weights")
      ->transform(integer_in<Index>(0, 1'000'000'000));
  cmd->add_option("--gtol", f->gtol, "Full-batch solvers: stop when |g| <= gtol")->capture_default_str()
      ->check(number_in(0, infinity));
  cmd->add_option("--max-iter", f->max_iter, "Full-batch solvers: iteration limit")->capture_default_str()
      ->transform(integer_in<Index>(1, Index(1) << 40));
  cmd->add_option("--memory", f->memory, "lbfgs: (s, y) pairs kept")->capture_default_str()
      ->transform(integer_in<Index>(1, 100'000));
  cmd->add_option("--time-limit", f->time_limit, "Stop after this many seconds (status time_limit)")
      ->check(number_in(0, infinity, true));
  cmd->add_option("--log", f->log, "Write a JSON Lines log: the configuration, then one line per epoch");
  cmd->add_option("--save", f->save, "Write the trained weights as safetensors");
  cmd->add_option("--checkpoint", f->checkpoint,
                  "Write a checkpoint (weights, optimizer state, generators, position) after every epoch");
  cmd->add_option("--checkpoint-every", f->checkpoint_every, "Also every this many steps")
      ->transform(integer_in<Index>(0, Index(1) << 62));
  cmd->add_option("--resume", f->resume, "Continue the run this checkpoint was written by (same flags)");
  cmd->add_option("--on-divergence", f->on_divergence,
                  "stop: end a run whose loss becomes non-finite or explodes; rollback: restore the last good "
                  "weights and optimizer state, halve the learning rate and go on")
      ->check(CLI::IsMember({"stop", "rollback"}))
      ->capture_default_str();
  cmd->add_option("--divergence-factor", f->divergence_factor,
                  "Also count as diverging a smoothed loss over this many times the lowest so far (> 1; 0: off)")
      ->capture_default_str()
      ->check(number_in(0, infinity));
  cmd->add_option("--max-rollbacks", f->max_rollbacks, "Rollbacks before a divergence stops the run")
      ->capture_default_str()
      ->transform(integer_in<Index>(0, 1'000'000));
  cmd->add_option("--plateau-epochs", f->plateau_epochs,
                  "Report a plateau when the epoch's mean loss and gradient norm stay flat for this many epochs "
                  "(0: off)")
      ->capture_default_str()
      ->transform(integer_in<Index>(0, 1'000'000'000));
  cmd->add_option("--plateau-tolerance", f->plateau_tolerance,
                  "Flat: the loss's range within this fraction of its mean (the gradient norm's within 100 times "
                  "it, at most 0.5)")
      ->capture_default_str()
      ->check(number_in(0, 1, true));
  cmd->add_flag("--json", f->json, "Print one JSON summary");
  cmd->add_flag("--distributed", f->distributed,
                "Data-parallel over the ranks of mpirun: each rank trains on its shard, gradients are allreduced");
  cmd->add_option("--sync-every", f->sync_every,
                  "With --distributed: local SGD, each rank steps on its own shard and the parameters are averaged "
                  "every K steps (0: synchronous)")
      ->transform(integer_in<Index>(0, Index(1) << 40));
  cmd->add_flag("--sync-state", f->sync_state, "With --sync-every: average the optimizer's state too");
  cmd->add_flag("--no-shard-optimizer", f->no_shard_optimizer,
                "With --distributed: every rank takes the whole optimizer step (by default each rank updates its "
                "1/P of the parameters, for the element-wise optimizers)");
  cmd->callback([f] {
    const int status = run_train(*f);
    if (status != 0) throw exit_status{status};
  });
}

}  // namespace descent::cli
