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
//
//   descent plot --profile costs.csv --cost "gradient evaluations" -o profile.svg
//
// draws the Dolan–Moré performance profile of a benchmark instead: costs.csv
// has a header `problem,SOLVER,...` and one row per problem with each
// solver's cost (evaluations, seconds: any positive number) or a failure
// (empty, `-`, `inf` or `nan`).
#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "paths.hpp"
#include "descent/core/error.hpp"
#include "descent/io/file.hpp"
#include "descent/io/performance_profile.hpp"
#include "descent/io/svg.hpp"

namespace descent::cli {
namespace {

struct PlotFlags {
  std::vector<std::string> runs;
  std::string output;  // default curves.svg, or profile.svg with --profile
  bool log_y = false;
  std::string profile;  // a costs CSV: draw its performance profile instead
  std::string cost = "cost";
  std::string title;
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

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> cells;
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = line.find(',', begin);
    std::string cell = line.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    const auto first = cell.find_first_not_of(" \t\r"), last = cell.find_last_not_of(" \t\r");
    cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    if (end == std::string::npos) return cells;
    begin = end + 1;
  }
}

// The profile's cost table: a header of solver names, then a problem per row.
io::PerformanceProfile read_profile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw usage_error(fmt::format("{}: cannot open the costs file", path));
  std::string line;
  std::int64_t number = 0;
  std::vector<std::string> solvers;
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto cells = split_commas(line);
    if (solvers.empty()) {
      if (cells.size() < 2) throw parse_error(path, number, "expected a header: problem,SOLVER[,SOLVER...]");
      solvers.assign(cells.begin() + 1, cells.end());
      for (std::size_t s = 0; s < solvers.size(); ++s)
        if (solvers[s].empty()) throw parse_error(path, number, fmt::format("column {} has no solver name", s + 2));
      continue;
    }
    if (cells.size() != solvers.size() + 1)
      throw parse_error(path, number,
                        fmt::format("expected {} fields (a problem and a cost per solver), got {}",
                                    solvers.size() + 1, cells.size()));
    std::vector<double> costs;
    for (std::size_t s = 1; s < cells.size(); ++s) {
      const std::string& c = cells[s];
      if (c.empty() || c == "-" || c == "inf" || c == "nan") {
        costs.push_back(INFINITY);
        continue;
      }
      std::size_t used = 0;
      double v = NAN;
      try {
        v = std::stod(c, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != c.size() || !(v > 0) || !std::isfinite(v))
        throw parse_error(path, number,
                          fmt::format("{} on {}: expected a positive cost or a failure (empty, -, inf, nan), got '{}'",
                                      solvers[s - 1], cells[0], c));
      costs.push_back(v);
    }
    rows.push_back(std::move(costs));
  }
  if (rows.empty()) throw usage_error(fmt::format("{}: no problems below the header", path));
  Eigen::MatrixXd table(Index(rows.size()), Index(solvers.size()));
  for (std::size_t p = 0; p < rows.size(); ++p)
    for (std::size_t s = 0; s < solvers.size(); ++s) table(Index(p), Index(s)) = rows[p][s];
  return io::performance_profile(table, solvers);
}

void run_profile(const PlotFlags& f) {
  const std::string output = f.output.empty() ? "profile.svg" : f.output;
  check_paths({{"the costs file", f.profile}}, {{"-o", output}});
  const io::PerformanceProfile profile = read_profile(f.profile);
  const std::string title =
      f.title.empty() ? fmt::format("Performance profile, {} problems", profile.problems) : f.title;
  io::write_file_atomically(output, io::performance_profile_svg(profile, title, f.cost));
  fmt::print("wrote {}\n", output);
}

void run_curves(const PlotFlags& f) {
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

void run_plot(const PlotFlags& f) {
  if (!f.profile.empty()) {
    if (!f.runs.empty()) throw usage_error("give run logs or --profile COSTS.csv, not both");
    return run_profile(f);
  }
  if (f.runs.empty()) throw usage_error("give one or more run logs (descent train --log FILE.jsonl)");
  PlotFlags flags = f;
  if (flags.output.empty()) flags.output = "curves.svg";
  run_curves(flags);
}

}  // namespace

void add_plot(CLI::App& app) {
  auto f = std::make_shared<PlotFlags>();
  CLI::App* cmd = app.add_subcommand(
      "plot", "Draw the loss curves of training runs from their --log files, or a benchmark's performance profile");
  cmd->add_option("runs", f->runs, "Run logs written by descent train --log");
  cmd->add_option("-o,--output", f->output,
                  "The SVG to write (default curves.svg; accuracy, if logged, goes to NAME-accuracy.svg; "
                  "profile.svg with --profile)");
  cmd->add_flag("--log-y", f->log_y, "Logarithmic loss axis");
  cmd->add_option("--profile", f->profile,
                  "Draw the Dolan–Moré performance profile of a costs CSV (header problem,SOLVER,...; a failure is "
                  "empty, -, inf or nan)");
  cmd->add_option("--cost", f->cost, "With --profile: what the costs count, for the x axis")->capture_default_str();
  cmd->add_option("--title", f->title, "With --profile: the figure's title");
  cmd->callback([f] { run_plot(*f); });
}

}  // namespace descent::cli
