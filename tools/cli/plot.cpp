// descent plot: the loss curves of training runs from their --log files,
// several runs overlaid and labelled, so that optimizers compare at a glance.
//
//   descent plot adam.jsonl sgd.jsonl lbfgs.jsonl -o curves.svg
//
// Each log's first line is the run's configuration (descent train --log);
// the label is its optimizer and the log's name. Epoch lines give the
// training loss and, when logged, the validation loss (a curve of its own,
// labelled "validation"); a full-batch solver's iteration lines give its
// loss per iteration. When the runs have a validation accuracy, it goes to
// a second figure beside the first: FILE-accuracy.svg.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "paths.hpp"
#include "descent/core/error.hpp"
#include "descent/io/file.hpp"
#include "descent/io/svg.hpp"

namespace descent::cli {
namespace {

struct PlotFlags {
  std::vector<std::string> runs;
  std::string output = "curves.svg";
  bool log_y = false;
};

struct RunCurves {
  io::Series loss, validation_loss, accuracy;
  bool by_iteration = false;
};

RunCurves read_run(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw usage_error(fmt::format("{}: cannot open the log", path));
  RunCurves c;
  std::string line;
  std::int64_t number = 0;
  std::string label = std::filesystem::path(path).stem().string();
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw parse_error(path, number, fmt::format("expected one JSON object per line: {}", e.what()));
    }
    if (number == 1 && j.contains("command")) {
      if (j.contains("optimizer") && j["optimizer"].is_string())
        label = fmt::format("{} ({})", j["optimizer"].get<std::string>(), label);
      continue;
    }
    const auto number_of = [&](const char* key) { return j.contains(key) && j[key].is_number(); };
    if (number_of("epoch") && number_of("loss")) {
      const double x = j["epoch"].get<double>();
      c.loss.x.push_back(x);
      c.loss.y.push_back(j["loss"].get<double>());
      if (number_of("validation_loss")) {
        c.validation_loss.x.push_back(x);
        c.validation_loss.y.push_back(j["validation_loss"].get<double>());
      }
      if (number_of("validation_accuracy")) {
        c.accuracy.x.push_back(x);
        c.accuracy.y.push_back(j["validation_accuracy"].get<double>());
      }
    } else if (number_of("iteration") && number_of("loss")) {
      c.by_iteration = true;
      c.loss.x.push_back(j["iteration"].get<double>());
      c.loss.y.push_back(j["loss"].get<double>());
    }
  }
  if (c.loss.x.empty())
    throw usage_error(fmt::format("{}: no epoch or iteration lines with a loss (is it a descent train --log?)", path));
  c.loss.label = label;
  c.validation_loss.label = label + ", validation";
  c.accuracy.label = label + ", validation";
  return c;
}

// NAME-accuracy.svg beside NAME.svg, for the accuracy curves.
std::string accuracy_path(const std::string& output) {
  const std::filesystem::path out(output);
  return (out.parent_path() / (out.stem().string() + "-accuracy.svg")).string();
}

void run_plot(const PlotFlags& f) {
  if (f.runs.empty()) throw usage_error("give one or more run logs (descent train --log FILE.jsonl)");
  std::vector<NamedPath> inputs;
  for (const auto& run : f.runs) inputs.push_back({"a run log", run});
  check_paths(inputs, {{"-o", f.output}, {"-o (its accuracy figure)", accuracy_path(f.output)}});
  std::vector<io::Series> losses, accuracies;
  bool by_iteration = false;
  for (const auto& path : f.runs) {
    RunCurves c = read_run(path);
    by_iteration = by_iteration || c.by_iteration;
    losses.push_back(std::move(c.loss));
    if (!c.validation_loss.x.empty()) losses.push_back(std::move(c.validation_loss));
    if (!c.accuracy.x.empty()) accuracies.push_back(std::move(c.accuracy));
  }
  io::LineChartOptions o;
  o.title = "Loss";
  o.x_label = by_iteration ? "epoch or iteration" : "epoch";
  o.y_label = "loss";
  o.log_y = f.log_y;
  io::write_file_atomically(f.output, io::line_chart_svg(losses, o));
  fmt::print("wrote {}\n", f.output);
  if (!accuracies.empty()) {
    const std::string second = accuracy_path(f.output);
    io::write_file_atomically(second, io::line_chart_svg(accuracies, o));
    fmt::print("wrote {}\n", second);
  }
}

}  // namespace

void add_plot(CLI::App& app) {
  auto f = std::make_shared<PlotFlags>();
  CLI::App* cmd = app.add_subcommand("plot", "Draw the loss curves of training runs from their --log files");
  cmd->add_option("runs", f->runs, "Run logs written by descent train --log")->required();
  cmd->add_option("-o,--output", f->output, "The SVG to write (accuracy, if logged, goes to NAME-accuracy.svg)")
      ->capture_default_str();
  cmd->add_flag("--log-y", f->log_y, "Logarithmic loss axis");
  cmd->callback([f] { run_plot(*f); });
}

}  // namespace descent::cli
