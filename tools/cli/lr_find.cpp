// descent lr-find: the learning-rate range test (train/lr_find.hpp) on a
// model and data set given as to descent train.
//
//   descent lr-find --data fashion-mnist --model mlp:784-128-10 --optimizer adam [--batch-size 128]
//                   [--lr-min 1e-7 --lr-max 10 --steps 200 --divergence 4] [--plot lr.svg] [--json]
//
// It prints the curve's outline, the suggested rate and the descent train
// command that trains with it; --plot draws the loss against the rate.
#include "lr_find.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "descent/data/named.hpp"
#include "descent/io/file.hpp"
#include "descent/io/svg.hpp"
#include "descent/optim/factory.hpp"
#include "descent/solvers/minimize.hpp"
#include "paths.hpp"
#include "ranges.hpp"

namespace descent::cli {

train::RangeTestOptions range_test_options(const Flags& f, const RangeFlags& r) {
  return {.lr_min = r.lr_min,
          .lr_max = r.lr_max,
          .steps = r.steps,
          .batch_size = f.batch_size,
          .divergence = r.divergence,
          .l2 = f.l2,
          .seed = f.seed};
}

namespace {

// The command line that trains with the suggestion: this one, as descent
// train, without the range test's own flags.
std::string train_command(double lr) {
  return as_train_command({"--lr-min", "--lr-max", "--steps", "--divergence", "--plot"}) +
         fmt::format(" --lr {:.3g}", lr);
}

std::string curve_svg(const train::RangeTestResult& r, const std::string& title) {
  io::Series raw{.label = "mini-batch loss"}, smoothed{.label = "smoothed loss"};
  for (const auto& p : r.curve) {
    raw.x.push_back(p.lr);
    raw.y.push_back(p.loss);
    smoothed.x.push_back(p.lr);
    smoothed.y.push_back(p.smoothed);
  }
  // The y range of the smoothed curve, up to a little above its start: the
  // last, diverging losses would otherwise flatten everything before them.
  double lo = r.lowest_loss, hi = r.initial_loss;
  for (const auto& p : r.curve) lo = std::min(lo, p.smoothed);
  if (!(hi > lo)) hi = lo + 1;
  const double pad = 0.15 * (hi - lo);
  std::vector<io::Series> series{raw, smoothed};
  if (!std::isnan(r.suggestion))
    series.push_back({.label = fmt::format("suggested lr {:.3g}", r.suggestion),
                      .x = {r.suggestion, r.suggestion},
                      .y = {lo - pad, hi + pad}});
  io::LineChartOptions o{.title = title, .x_label = "learning rate", .y_label = "loss", .log_x = true};
  o.y_min = lo - pad;
  o.y_max = hi + pad;
  return io::line_chart_svg(series, o);
}

int run_lr_find(const Flags& f, const RangeFlags& rf) {
  check_setup_flags(f);
  if (parse_method(f.optimizer))
    throw usage_error(fmt::format("lr-find takes a stepper; the full-batch solver {} finds its own step length",
                                  f.optimizer));
  if (!(rf.lr_max > rf.lr_min))
    throw usage_error(fmt::format("--lr-max {} must be above --lr-min {}", rf.lr_max, rf.lr_min));
  check_paths(data_inputs(f), {{"--plot", rf.plot}});
  if (f.threads > 0) omp_set_num_threads(f.threads);
  train::TrainingData sets = train::load_training_data(data_options(f));
  const std::string spec = train::model_spec(f.model, sets);
  nn::Model<float> model = train::build_model<float>(spec, f.loss, sets, classifier(f));
  Vector<float> x(model.num_parameters());
  model.initialize(x, f.seed);
  auto stepper = optim::make_stepper<float>(f.optimizer, model.layout(), x, f.stepper.hyperparameters_map(),
                                            f.stepper.regularization());
  const auto r = train::lr_range_test(model, x, sets.train, *stepper, range_test_options(f, rf));
  const bool found = !std::isnan(r.suggestion);
  if (!rf.plot.empty())
    io::write_file_atomically(rf.plot, curve_svg(r, fmt::format("{} on {}: the learning-rate range test", f.optimizer, spec)));
  if (rf.json) {
    nlohmann::json curve = nlohmann::json::array();
    for (const auto& p : r.curve) curve.push_back({{"lr", p.lr}, {"loss", p.loss}, {"smoothed", p.smoothed}});
    auto number = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
    fmt::print("{}\n", nlohmann::json{{"model", spec},
                                      {"optimizer", f.optimizer},
                                      {"batch_size", f.batch_size},
                                      {"steps", r.curve.size()},
                                      {"suggestion", number(r.suggestion)},
                                      {"steepest_lr", number(r.steepest_lr)},
                                      {"minimum_lr", number(r.minimum_lr)},
                                      {"initial_loss", r.initial_loss},
                                      {"lowest_loss", r.lowest_loss},
                                      {"diverged", r.diverged},
                                      {"message", r.message},
                                      {"curve", curve}}
                               .dump(2));
    return found ? 0 : 1;
  }
  fmt::print("{} on {} ({} training rows), batches of {}\n{:>10}  {:>10}  {:>10}\n", f.optimizer, spec,
             sets.train.rows, std::min(f.batch_size, sets.train.rows), "lr", "loss", "smoothed");
  const std::size_t every = std::max<std::size_t>(1, r.curve.size() / 20);
  for (std::size_t i = 0; i < r.curve.size(); ++i)
    if (i % every == 0 || i + 1 == r.curve.size())
      fmt::print("{:>10.3g}  {:>10.4g}  {:>10.4g}\n", r.curve[i].lr, r.curve[i].loss, r.curve[i].smoothed);
  fmt::print("{}\n", r.message);
  if (!rf.plot.empty()) fmt::print("plot: {}\n", rf.plot);
  if (found) fmt::print("train with: {}\n", train_command(r.suggestion));
  return found ? 0 : 1;
}

}  // namespace

void add_lr_find(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  auto rf = std::make_shared<RangeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "lr-find", "The learning-rate range test: train briefly at a growing rate and suggest one (Smith 2017)");
  add_setup_flags(cmd, *f);
  cmd->add_option("--lr-min", rf->lr_min, "The first step's rate")->capture_default_str()
      ->check(number_in(0, infinity, true));
  cmd->add_option("--lr-max", rf->lr_max, "The last step's rate")->capture_default_str()
      ->check(number_in(0, infinity, true));
  cmd->add_option("--steps", rf->steps, "Mini-batches, the rate growing geometrically over them")
      ->capture_default_str()
      ->transform(integer_in<Index>(10, 100'000'000));
  cmd->add_option("--divergence", rf->divergence, "Stop once the smoothed loss exceeds this times its lowest")
      ->capture_default_str()
      ->check(number_in(1, infinity, true));
  cmd->add_option("--plot", rf->plot, "Draw the loss against the rate as SVG");
  cmd->add_flag("--json", rf->json, "Print the curve and the suggestion as JSON");
  cmd->callback([f, rf] {
    const int status = run_lr_find(*f, *rf);
    if (status != 0) throw exit_status{status};
  });
}

}  // namespace descent::cli
