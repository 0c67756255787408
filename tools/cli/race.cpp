// descent race: which stepper for my model and data? Every variant trains
// the same model on the same data for the same epochs, at the rate its own
// range test suggests (train/lr_find.hpp), over several seeds, and the
// table says how each did.
//
//   descent race --data fashion-mnist --model mlp:784-128-10 --batch-size 128 --epochs 3 [--seeds 3]
//                [--variants sgd,momentum,adam,...] [--target LOSS] [--plot race.svg] [--json]
//
// Columns: the rate, the median final training and validation losses, the
// spread of the validation loss over the seeds (max - min) and along the
// last epoch's steps (the standard deviation of its mini-batch losses),
// the median seconds and epochs to the target validation loss, the
// optimizer's state in bytes per parameter, the median wall time, and how
// many seeds diverged.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "descent/data/named.hpp"
#include "descent/io/file.hpp"
#include "descent/io/svg.hpp"
#include "descent/optim/factory.hpp"
#include "descent/solvers/minimize.hpp"
#include "descent/train/lr_find.hpp"
#include "descent/train/trainer.hpp"
#include "lr_find.hpp"
#include "paths.hpp"
#include "ranges.hpp"
#include "train_flags.hpp"

namespace descent::cli {
namespace {

constexpr const char* default_variants =
    "sgd,momentum,nesterov,adagrad,rmsprop,adam,adamw,lion,schedule-free-adamw";

struct RaceFlags {
  std::string variants = default_variants, plot;
  Index epochs = 3, seeds = 3;
  std::optional<double> target;
  bool json = false;
};

// One seed's run: the epochs' losses and times, and the last epoch's
// mini-batch losses.
struct Run {
  std::vector<double> train_loss, validation_loss, seconds;
  double last_epoch_noise = 0;
  bool diverged = false;
};

class LastEpochLosses final : public train::TrainCallback {
 public:
  explicit LastEpochLosses(Index epochs) : epochs_(epochs) {}
  bool on_step(const train::StepRecord& s) override {
    if (s.epoch == epochs_) losses.push_back(s.loss);
    return true;
  }
  std::vector<double> losses;

 private:
  Index epochs_;
};

double median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double standard_deviation(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double mean = 0, square = 0;
  for (double x : v) mean += x / double(v.size());
  for (double x : v) square += (x - mean) * (x - mean);
  return std::sqrt(square / double(v.size() - 1));
}

struct Variant {
  std::string name;
  double lr = 0;
  std::string lr_note;
  double state_bytes = 0;
  std::vector<Run> runs;
};

Variant race_one(const Flags& f, const RaceFlags& rf, const std::string& name, train::TrainingData& sets) {
  Variant v{.name = name};
  const std::string spec = train::model_spec(f.model, sets);
  for (Index seed = 1; seed <= rf.seeds; ++seed) {
    Flags g = f;
    g.optimizer = name;
    g.seed = f.seed + std::uint64_t(seed - 1);
    nn::Model<float> model = train::build_model<float>(spec, g.loss, sets, classifier(g));
    Vector<float> x(model.num_parameters());
    model.initialize(x, g.seed);
    auto stepper = optim::make_stepper<float>(name, model.layout(), x, g.stepper.hyperparameters_map(),
                                              g.stepper.regularization());
    if (seed == 1) {  // one range test a variant, from the first seed's start
      const auto test = train::lr_range_test(model, x, sets.train, *stepper, range_test_options(g, {}));
      v.lr = std::isnan(test.suggestion) ? f.lr : test.suggestion;
      v.lr_note = std::isnan(test.suggestion) ? "the range test found no rate: --lr" : "";
      v.state_bytes = stepper->state_bytes_per_parameter();
    }
    LastEpochLosses last(rf.epochs);
    const auto r = train::fit(model, x, sets.train, &sets.validation, *stepper,
                              {.epochs = rf.epochs, .batch_size = g.batch_size, .lr = v.lr, .l2 = g.l2, .seed = g.seed,
                               .plateau_epochs = 0},
                              &last);
    Run run;
    for (const auto& e : r.history) {
      run.train_loss.push_back(e.train_loss);
      run.validation_loss.push_back(e.validation_loss);
      run.seconds.push_back(e.seconds);
    }
    run.diverged = r.status == Status::diverged;
    run.last_epoch_noise = standard_deviation(last.losses);
    v.runs.push_back(std::move(run));
  }
  return v;
}

// The first epoch (1-based) whose validation loss is at most target, and
// its seconds; 0 and NaN if none.
std::pair<Index, double> reached(const Run& r, double target) {
  for (std::size_t e = 0; e < r.validation_loss.size(); ++e)
    if (r.validation_loss[e] <= target) return {Index(e + 1), r.seconds[e]};
  return {0, std::numeric_limits<double>::quiet_NaN()};
}

std::string race_svg(const std::vector<Variant>& variants, bool against_time, const std::string& title) {
  std::vector<io::Series> series;
  for (const Variant& v : variants) {
    const Run& r = v.runs.front();
    io::Series s{.label = fmt::format("{} (lr {:.3g})", v.name, v.lr)};
    for (std::size_t e = 0; e < r.validation_loss.size(); ++e) {
      s.x.push_back(against_time ? r.seconds[e] : double(e + 1));
      s.y.push_back(r.validation_loss[e]);
    }
    series.push_back(std::move(s));
  }
  return io::line_chart_svg(series, {.title = title,
                                     .x_label = against_time ? "seconds" : "epoch",
                                     .y_label = "validation loss (first seed)",
                                     .log_y = true});
}

int run_race(Flags f, const RaceFlags& rf) {
  check_setup_flags(f);
  std::vector<std::string> names;
  for (std::size_t start = 0; start <= rf.variants.size();) {
    const auto comma = std::min(rf.variants.find(',', start), rf.variants.size());
    names.push_back(rf.variants.substr(start, comma - start));
    start = comma + 1;
  }
  for (const auto& n : names)
    if (!optim::is_stepper_name(n))
      throw usage_error(fmt::format("--variants: '{}' is not a stepper; the steppers are {}", n,
                                    fmt::join(optim::stepper_names(), ", ")));
  if (f.val_fraction == 0) f.val_fraction = 0.1;  // the race is scored on held-out rows
  const std::string time_plot =
      rf.plot.empty() ? std::string() : rf.plot.substr(0, rf.plot.rfind(".svg")) + "-time.svg";
  check_paths(data_inputs(f), {{"--plot", rf.plot}, {"--plot (against time)", time_plot}});
  if (f.threads > 0) omp_set_num_threads(f.threads);
  train::TrainingData sets = train::load_training_data(data_options(f));
  if (sets.validation.rows == 0) throw usage_error("race needs validation rows: raise --val-fraction");
  const std::string spec = train::model_spec(f.model, sets);
  if (!rf.json)
    fmt::print("{} on {}: {} epochs of batches of {}, {} seeds, each variant at its range test's rate\n", spec,
               f.data, rf.epochs, f.batch_size, rf.seeds);
  std::vector<Variant> variants;
  for (const auto& n : names) {
    variants.push_back(race_one(f, rf, n, sets));
    if (!rf.json) fmt::print("  {} done\n", n), std::fflush(stdout);
  }
  // The target: the given one, else 1.1 times the best median final validation loss.
  double best = std::numeric_limits<double>::infinity();
  for (const Variant& v : variants) {
    std::vector<double> finals;
    for (const Run& r : v.runs)
      if (!r.diverged && !r.validation_loss.empty()) finals.push_back(r.validation_loss.back());
    if (!finals.empty()) best = std::min(best, median(finals));
  }
  const double target = rf.target.value_or(1.1 * best);
  nlohmann::json rows = nlohmann::json::array();
  for (const Variant& v : variants) {
    std::vector<double> train_final, validation_final, seconds, to_target_s, to_target_epochs;
    Index diverged = 0;
    double noise = 0;
    for (const Run& r : v.runs) {
      diverged += r.diverged;
      if (r.validation_loss.empty()) continue;
      train_final.push_back(r.train_loss.back());
      validation_final.push_back(r.validation_loss.back());
      seconds.push_back(r.seconds.back());
      noise += r.last_epoch_noise / double(v.runs.size());
      if (const auto [epoch, at] = reached(r, target); epoch > 0) {
        to_target_epochs.push_back(double(epoch));
        to_target_s.push_back(at);
      }
    }
    const auto [lo, hi] = validation_final.empty() ? std::pair(0.0, 0.0)
                                                   : std::pair(*std::min_element(validation_final.begin(), validation_final.end()),
                                                               *std::max_element(validation_final.begin(), validation_final.end()));
    const bool all_reached = Index(to_target_s.size()) == Index(v.runs.size());
    auto number = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); };
    rows.push_back({{"variant", v.name},
                    {"lr", v.lr},
                    {"lr_note", v.lr_note},
                    {"train_loss", number(median(train_final))},
                    {"validation_loss", number(median(validation_final))},
                    {"seed_spread", hi - lo},
                    {"last_epoch_noise", noise},
                    {"seconds_to_target", all_reached ? number(median(to_target_s)) : nlohmann::json(nullptr)},
                    {"epochs_to_target", all_reached ? number(median(to_target_epochs)) : nlohmann::json(nullptr)},
                    {"state_bytes_per_parameter", v.state_bytes},
                    {"seconds", number(median(seconds))},
                    {"diverged", diverged},
                    {"seeds", v.runs.size()}});
  }
  if (!rf.plot.empty()) {
    io::write_file_atomically(rf.plot, race_svg(variants, false, spec + ": validation loss against epochs"));
    io::write_file_atomically(time_plot, race_svg(variants, true, spec + ": validation loss against time"));
  }
  if (rf.json) {
    fmt::print("{}\n", nlohmann::json{{"model", spec}, {"data", f.data}, {"epochs", rf.epochs}, {"seeds", rf.seeds},
                                      {"batch_size", f.batch_size}, {"target", target}, {"variants", rows}}
                           .dump(2));
    return 0;
  }
  auto cell = [](const nlohmann::json& j, const char* key, const char* format) {
    return j[key].is_null() ? std::string("-") : fmt::format(fmt::runtime(format), j[key].get<double>());
  };
  fmt::print("\ntarget validation loss {:.4g}\n{:<20} {:>9} {:>10} {:>10} {:>8} {:>8} {:>9} {:>8} {:>6} {:>7} {:>8}\n",
             target, "variant", "lr", "train", "val", "seeds±", "noise", "to target", "epochs", "B/par", "s", "diverged");
  for (const auto& r : rows)
    fmt::print("{:<20} {:>9.3g} {:>10} {:>10} {:>8.4f} {:>8.4f} {:>9} {:>8} {:>6.0f} {:>7} {:>8}\n",
               r["variant"].get<std::string>(), r["lr"].get<double>(), cell(r, "train_loss", "{:.4f}"),
               cell(r, "validation_loss", "{:.4f}"), r["seed_spread"].get<double>(),
               r["last_epoch_noise"].get<double>(), cell(r, "seconds_to_target", "{:.2f} s"),
               cell(r, "epochs_to_target", "{:.0f}"), r["state_bytes_per_parameter"].get<double>(),
               cell(r, "seconds", "{:.2f}"), fmt::format("{}/{}", r["diverged"].get<Index>(), r["seeds"].get<Index>()));
  if (!rf.plot.empty()) fmt::print("plots: {} and {}\n", rf.plot, time_plot);
  return 0;
}

}  // namespace

void add_race(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  auto rf = std::make_shared<RaceFlags>();
  CLI::App* cmd = app.add_subcommand("race", "Train every stepper on the same model and data and compare them");
  add_setup_flags(cmd, *f);
  cmd->add_option("--variants", rf->variants, "The steppers, comma-separated")->capture_default_str();
  cmd->add_option("--epochs", rf->epochs, "Epochs of every run")->capture_default_str()
      ->transform(integer_in<Index>(1, 1'000'000));
  cmd->add_option("--seeds", rf->seeds, "Runs of each variant, seeds --seed, --seed + 1, ...")->capture_default_str()
      ->transform(integer_in<Index>(1, 1000));
  cmd->add_option("--target", rf->target, "The validation loss to time (default: 1.1 times the best final)")
      ->check(number_in(-infinity, infinity));
  cmd->add_option("--lr", f->lr, "The rate of a variant whose range test finds none")->capture_default_str()
      ->check(number_in(0, infinity));
  cmd->add_option("--plot", rf->plot, "Draw validation loss against epochs (FILE.svg) and time (FILE-time.svg)");
  cmd->add_flag("--json", rf->json, "Print the table as JSON");
  cmd->callback([f, rf] {
    const int status = run_race(*f, *rf);
    if (status != 0) throw exit_status{status};
  });
}

}  // namespace descent::cli
