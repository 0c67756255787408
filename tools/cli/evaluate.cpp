// descent evaluate: a model saved by descent train --save, on data.
//
//   descent evaluate --model MODEL.safetensors --data fashion-mnist|FILE.csv|FILE.svm
//                    [--label-column K] [--json]
//
// The file holds the model's spec, weights and any standardization
// (train/model_file.hpp); evaluate reports its loss and accuracy with a
// confusion matrix, or MSE and R^2, on the data (a named set's test part).
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "descent/data/named.hpp"
#include "descent/train/model_file.hpp"
#include "descent/train/setup.hpp"
#include "descent/train/trainer.hpp"

namespace descent::cli {
namespace {

struct EvaluateFlags {
  std::string model, data, label_column;
  bool json = false;
};

// Prints the figures of an evaluation: a confusion matrix for classes.
void print_evaluation(const train::Evaluation& e, const std::string& what, bool json) {
  if (json) {
    nlohmann::json j{{"data", what}, {"rows", e.rows}, {"loss", e.loss}};
    if (e.classes > 0) {
      j["accuracy"] = e.accuracy;
      j["classes"] = e.classes;
      j["confusion"] = e.confusion;
    } else {
      j["mse"] = e.mse;
      j["r2"] = e.r2;
    }
    fmt::print("{}\n", j.dump(2));
    return;
  }
  if (e.classes == 0) {
    fmt::print("{}: {} samples, loss {:.6g}, mse {:.6g}, r2 {:.4f}\n", what, e.rows, e.loss, e.mse, e.r2);
    return;
  }
  fmt::print("{}: {} samples, loss {:.4f}, accuracy {:.4f}\nconfusion (rows: true class, columns: predicted)\n",
             what, e.rows, e.loss, e.accuracy);
  fmt::print("{:>6}", "");
  for (Index k = 0; k < e.classes; ++k) fmt::print("{:>6}", k);
  fmt::print("\n");
  for (Index t = 0; t < e.classes; ++t) {
    fmt::print("{:>6}", t);
    for (Index k = 0; k < e.classes; ++k) fmt::print("{:>6}", e.confusion[static_cast<std::size_t>(t * e.classes + k)]);
    fmt::print("\n");
  }
}

template <class T>
train::Evaluation evaluate_saved(const std::string& path, data::Dataset& d) {
  auto saved = train::load_model<T>(path);
  train::prepare_data(saved.about, d);
  return train::evaluate(saved.model, saved.x, d);
}

void run_evaluate(const EvaluateFlags& f) {
  if (f.model.empty()) throw usage_error("--model is required: a file written by descent train --save");
  if (f.data.empty()) throw usage_error("--data is required (fashion-mnist, FILE.csv or FILE.svm)");
  const bool wide = train::saved_in_double(f.model);
  const auto& named = data::named_datasets();
  data::Dataset d = std::find(named.begin(), named.end(), f.data) != named.end()
                        ? data::load_named(f.data, data::Part::test)
                        : train::load_data_file(f.data, {.label_column = f.label_column, .warn = warn}, 0);
  const auto e = wide ? evaluate_saved<double>(f.model, d) : evaluate_saved<float>(f.model, d);
  print_evaluation(e, f.data, f.json);
}

}  // namespace

void add_evaluate(CLI::App& app) {
  auto f = std::make_shared<EvaluateFlags>();
  CLI::App* cmd = app.add_subcommand("evaluate", "Report a saved model's loss and accuracy (or MSE and R^2) on data");
  cmd->add_option("--model", f->model, "Weights written by descent train --save");
  cmd->add_option("--data", f->data, "fashion-mnist (its test part), FILE.csv or a LIBSVM file");
  cmd->add_option("--label-column", f->label_column, "CSV: the target column, a 0-based index or a header name");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  cmd->callback([f] { run_evaluate(*f); });
}

}  // namespace descent::cli
