// Progress and the JSON Lines log of a training run (report.hpp).
#include "descent/train/report.hpp"

#include <unistd.h>

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "descent/io/file.hpp"

namespace descent::train {

JsonlLog::JsonlLog(const std::string& path, std::function<void(const std::string&)> warn) : warn_(std::move(warn)) {
  if (path.empty()) return;
  io::remove_stale_temporaries(path);
  file_ = std::make_unique<io::StreamedFile>(path);
}
JsonlLog::JsonlLog(JsonlLog&&) noexcept = default;
JsonlLog& JsonlLog::operator=(JsonlLog&&) noexcept = default;
JsonlLog::~JsonlLog() = default;

void JsonlLog::put(const std::string& json, bool publish) {
  if (!file_ || !failure_.empty()) return;
  try {
    file_->write(json + '\n');
    if (publish) file_->publish();
  } catch (const std::runtime_error& e) {
    failure_ = e.what();
    if (warn_) warn_(failure_);
  }
}

ProgressReport::ProgressReport(const ProgressOptions& o, std::FILE* out, JsonlLog* log)
    : options_(o), out_(out), log_(log), terminal_(isatty(fileno(out)) != 0) {}

bool ProgressReport::on_step(const StepRecord& s) {
  if (!terminal_) return true;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return true;
  last_draw_ = now;
  const Index per_epoch = options_.steps_per_epoch;
  const Index in_epoch = (s.step - 1) % per_epoch + 1;
  const int width = 30, filled = int(width * in_epoch / per_epoch);
  const double total = double(per_epoch * options_.epochs);
  const double left = s.seconds / double(s.step) * (total - double(s.step));
  fmt::print(out_, "\r  epoch {}/{} [{}{}] step {}/{} loss {:.4f} {:.0f} samples/s, {:.0f} s left   ", s.epoch,
             options_.epochs, std::string(std::size_t(filled), '#'), std::string(std::size_t(width - filled), '.'),
             in_epoch, per_epoch, s.loss, double(s.step * options_.batch_size) / s.seconds, left);
  std::fflush(out_);
  return true;
}

bool ProgressReport::on_epoch(const EpochRecord& e) {
  if (terminal_) fmt::print(out_, "\r{:120}\r", "");
  std::string validation;
  if (!std::isnan(e.validation_loss)) {
    validation = fmt::format("  val loss {:.4f}", e.validation_loss);
    if (!std::isnan(e.validation_accuracy)) validation += fmt::format("  val acc {:.4f}", e.validation_accuracy);
  }
  const std::string plateau =
      e.plateau_epochs > 0 ? fmt::format("  plateau: flat for {} epochs", e.plateau_epochs) : std::string();
  fmt::print(out_, "epoch {:>3}  loss {:.4f}{}  {:.0f} samples/s  {:.1f} s{}\n", e.epoch, e.train_loss, validation,
             e.samples_per_second, e.seconds, plateau);
  std::fflush(out_);
  if (!log_) return true;
  nlohmann::json j{{"epoch", e.epoch},
                   {"step", e.steps},
                   {"loss", e.train_loss},
                   {"gradient_norm", e.gradient_norm},
                   {"mean_gradient_norm", e.mean_gradient_norm},
                   {"update_norm", e.update_norm},
                   {"lr", e.lr},
                   {"seconds", e.seconds},
                   {"samples_per_second", e.samples_per_second}};
  if (!std::isnan(e.validation_loss)) j["validation_loss"] = e.validation_loss;
  if (!std::isnan(e.validation_accuracy)) j["validation_accuracy"] = e.validation_accuracy;
  if (e.plateau_epochs > 0) j["plateau_epochs"] = e.plateau_epochs;
  log_->write(j.dump());
  return true;
}

void ProgressReport::on_rollback(const RollbackRecord& r) {
  if (terminal_) fmt::print(out_, "\r{:120}\r", "");
  fmt::print(out_, "rollback {}/{} at step {} (epoch {}): {}; back to the snapshot of step {}, learning rate x{:g}\n",
             r.rollback, options_.max_rollbacks, r.step, r.epoch, r.reason, r.restored_step, r.lr_scale);
  std::fflush(out_);
  if (!log_) return;
  log_->write(nlohmann::json{{"rollback", r.rollback},
                             {"epoch", r.epoch},
                             {"step", r.step},
                             {"restored_step", r.restored_step},
                             {"lr_scale", r.lr_scale},
                             {"reason", r.reason}}
                  .dump());
}

template <class T>
Control SolverReport<T>::on_iteration(const IterationReport<T>& r) {
  log_.write(nlohmann::json{{"iteration", r.iteration},
                            {"evaluations", r.gradient_evaluations},
                            {"loss", double(r.value)},
                            {"gradient_norm", double(r.gradient_norm)},
                            {"seconds", r.seconds}}
                 .dump());
  return stop_.load() ? Control::stop_failed : Control::proceed;
}

template class SolverReport<float>;
template class SolverReport<double>;

}  // namespace descent::train
