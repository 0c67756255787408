// What a training run shows while it runs: a progress display on a
// terminal (or a line per epoch elsewhere) and a JSON Lines log, as
// `descent train` prints and writes them.
//
//   train::JsonlLog log("run.jsonl");
//   train::ProgressReport progress({.epochs = 5, .batch_size = 128, .steps_per_epoch = 469}, stdout, &log);
//   train::fit(model, x, training, &validation, *adam, options, &progress);
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "descent/core/callback.hpp"
#include "descent/train/trainer.hpp"

namespace descent::io {
class StreamedFile;
}

namespace descent::train {

// One JSON object per line, unbuffered, so that a killed run keeps its
// log. The log replaces an existing file only once the run logs more than
// its configuration (io::StreamedFile): a run that fails before its first
// epoch leaves the old log as it was. A write that fails (a full disk) is
// reported once to `warn`; the lines after it are dropped, and failure()
// says why.
class JsonlLog {
 public:
  JsonlLog() = default;  // logs nothing
  // Throws std::runtime_error when `path` cannot be written.
  explicit JsonlLog(const std::string& path, std::function<void(const std::string&)> warn = {});
  JsonlLog(JsonlLog&&) noexcept;
  JsonlLog& operator=(JsonlLog&&) noexcept;
  ~JsonlLog();

  // The first line, the run's configuration: not yet published.
  void write_configuration(const std::string& json) { put(json, false); }
  void write(const std::string& json) { put(json, true); }
  // Why the log is incomplete; empty when every line was written.
  const std::string& failure() const { return failure_; }

 private:
  void put(const std::string& json, bool publish);

  std::unique_ptr<io::StreamedFile> file_;
  std::function<void(const std::string&)> warn_;
  std::string failure_;
};

struct ProgressOptions {
  Index epochs = 0;
  Index batch_size = 0;
  Index steps_per_epoch = 1;
  Index max_rollbacks = 0;  // shown beside each rollback
};

// The progress of a stepper run: a bar redrawn at most every 100 ms on a
// terminal, one line per epoch otherwise, and a log line per epoch and
// per rollback.
class ProgressReport final : public TrainCallback {
 public:
  ProgressReport(const ProgressOptions& o, std::FILE* out, JsonlLog* log = nullptr);
  bool on_step(const StepRecord& s) override;
  bool on_epoch(const EpochRecord& e) override;
  void on_rollback(const RollbackRecord& r) override;

 private:
  ProgressOptions options_;
  std::FILE* out_;
  JsonlLog* log_;
  bool terminal_;
  std::chrono::steady_clock::time_point last_draw_{};
};

// One log line per iteration of a full-batch solver. It also stops the
// solver, as failed, once `stop` holds true (a signal came).
template <class T>
class SolverReport final : public Callback<T> {
 public:
  SolverReport(JsonlLog& log, const std::atomic<bool>& stop) : log_(log), stop_(stop) {}
  Control on_iteration(const IterationReport<T>& r) override;

 private:
  JsonlLog& log_;
  const std::atomic<bool>& stop_;
};

}  // namespace descent::train
