// Random search and ASHA over a search space (tune.hpp).
#include "descent/train/tune.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "descent/core/error.hpp"

namespace descent::train {

namespace {

double parse_number(const std::string& text, const std::string& whole) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !std::isfinite(v))
    throw invalid_argument(fmt::format("search space '{}': '{}' is not a finite number", whole, text));
  return v;
}

std::string number_text(double v) { return fmt::format("{:.6g}", v); }

}  // namespace

Dimension Dimension::parse(const std::string& text) {
  const auto equals = text.find('=');
  const auto colon = text.find(':', equals == std::string::npos ? 0 : equals);
  if (equals == std::string::npos || equals == 0 || colon == std::string::npos)
    throw invalid_argument(fmt::format("search space '{}': expected NAME=log:LO..HI, NAME=uniform:LO..HI, "
                                       "NAME=int:LO..HI or NAME=choice:A,B,...",
                                       text));
  Dimension d;
  d.name = text.substr(0, equals);
  const std::string kind = text.substr(equals + 1, colon - equals - 1), rest = text.substr(colon + 1);
  if (kind == "choice") {
    d.kind = Kind::choice;
    std::size_t start = 0;
    while (start <= rest.size()) {
      const auto comma = std::min(rest.find(',', start), rest.size());
      d.choices.push_back(rest.substr(start, comma - start));
      if (d.choices.back().empty()) throw invalid_argument(fmt::format("search space '{}': an empty choice", text));
      start = comma + 1;
    }
    return d;
  }
  if (kind == "log") d.kind = Kind::log_uniform;
  else if (kind == "uniform") d.kind = Kind::uniform;
  else if (kind == "int") d.kind = Kind::integer;
  else
    throw invalid_argument(fmt::format("search space '{}': unknown kind '{}' (log, uniform, int or choice)", text, kind));
  const auto dots = rest.find("..");
  if (dots == std::string::npos)
    throw invalid_argument(fmt::format("search space '{}': expected LO..HI after '{}:'", text, kind));
  d.lo = parse_number(rest.substr(0, dots), text);
  d.hi = parse_number(rest.substr(dots + 2), text);
  if (!(d.lo < d.hi)) throw invalid_argument(fmt::format("search space '{}': LO must be below HI", text));
  if (d.kind == Kind::log_uniform && d.lo <= 0)
    throw invalid_argument(fmt::format("search space '{}': a log-uniform range needs LO > 0", text));
  if (d.kind == Kind::integer && (d.lo != std::floor(d.lo) || d.hi != std::floor(d.hi)))
    throw invalid_argument(fmt::format("search space '{}': an integer range needs whole bounds", text));
  return d;
}

std::string Dimension::sample(Rng& rng) const {
  switch (kind) {
    case Kind::log_uniform:
      return number_text(std::exp(rng.uniform(std::log(lo), std::log(hi))));
    case Kind::uniform:
      return number_text(rng.uniform(lo, hi));
    case Kind::integer:
      return fmt::format("{}", Index(lo) + rng.below(Index(hi - lo) + 1));
    case Kind::choice:
      return choices[static_cast<std::size_t>(rng.below(Index(choices.size())))];
  }
  return "";
}

std::string Dimension::describe() const {
  switch (kind) {
    case Kind::log_uniform:
      return fmt::format("{}=log:{}..{}", name, lo, hi);
    case Kind::uniform:
      return fmt::format("{}=uniform:{}..{}", name, lo, hi);
    case Kind::integer:
      return fmt::format("{}=int:{}..{}", name, lo, hi);
    case Kind::choice: {
      std::string out = name + "=choice:";
      for (std::size_t i = 0; i < choices.size(); ++i) out += (i ? "," : "") + choices[i];
      return out;
    }
  }
  return "";
}

SearchSpace SearchSpace::parse(std::span<const std::string> texts) {
  SearchSpace s;
  std::set<std::string> names;
  for (const std::string& t : texts) {
    s.dimensions.push_back(Dimension::parse(t));
    if (!names.insert(s.dimensions.back().name).second)
      throw invalid_argument(fmt::format("search space: '{}' is given twice", s.dimensions.back().name));
  }
  return s;
}

Configuration SearchSpace::sample(Rng& rng) const {
  Configuration c;
  for (const Dimension& d : dimensions) c[d.name] = d.sample(rng);
  return c;
}

std::vector<Index> rung_epochs(const TuneOptions& o) {
  if (o.scheduler == TuneOptions::Scheduler::random) return {o.max_epochs};
  std::vector<Index> rungs;
  for (double e = double(o.min_epochs); e < double(o.max_epochs); e *= o.eta) rungs.push_back(Index(std::llround(e)));
  rungs.push_back(o.max_epochs);
  rungs.erase(std::unique(rungs.begin(), rungs.end()), rungs.end());
  return rungs;
}

namespace {

void check_options(const TuneOptions& o) {
  DESCENT_REQUIRE(o.trials >= 1, fmt::format("trials = {}, expected >= 1", o.trials));
  DESCENT_REQUIRE(o.max_epochs >= 1, fmt::format("max_epochs = {}, expected >= 1", o.max_epochs));
  DESCENT_REQUIRE(o.min_epochs >= 1 && o.min_epochs <= o.max_epochs,
                  fmt::format("min_epochs = {}, expected from 1 to max_epochs = {}", o.min_epochs, o.max_epochs));
  DESCENT_REQUIRE(std::isfinite(o.eta) && o.eta >= 2, fmt::format("eta = {}, expected a finite value >= 2", o.eta));
  DESCENT_REQUIRE(o.budget_epochs >= 0, fmt::format("budget_epochs = {}, expected >= 0", o.budget_epochs));
  DESCENT_REQUIRE(o.workers >= 1, fmt::format("workers = {}, expected >= 1", o.workers));
}

using Clock = std::chrono::steady_clock;

// The scheduler's state: every trial, the rungs, and the jobs in flight.
class Search {
 public:
  Search(const SearchSpace& space, TrialRunner& runner, const TuneOptions& o, TuneCallback* callback)
      : space_(space), runner_(runner), o_(o), callback_(callback), rng_(o.seed), rungs_(rung_epochs(o)),
        members_(rungs_.size()), promoted_(rungs_.size()) {}

  TuneResult run() {
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (Index w = 1; w < o_.workers; ++w) threads.emplace_back([this] { work(); });
    work();
    for (auto& t : threads) t.join();
    if (error_) std::rethrow_exception(error_);
    result_.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    finish();
    return std::move(result_);
  }

 private:
  struct Job {
    Index trial, from, to, rung;
    bool promotion;
  };

  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      std::optional<Job> job = next_job();
      if (!job) {
        if (running_ == 0 || error_) break;
        wake_.wait(lock);
        continue;
      }
      ++running_;
      TrialRecord& t = result_.trials[static_cast<std::size_t>(job->trial)];
      const Configuration config = t.config;
      lock.unlock();
      std::vector<double> losses;
      const auto started = Clock::now();
      try {
        losses = runner_.advance(job->trial, config, job->from, job->to);
      } catch (...) {
        lock.lock();
        if (!error_) error_ = std::current_exception();
        --running_;
        wake_.notify_all();
        break;
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
      lock.lock();
      --running_;
      record(*job, losses, seconds);
      wake_.notify_all();
    }
    wake_.notify_all();
  }

  // Under the lock: a promotion from the highest rung that has one, else a
  // new trial; nothing when neither may start (the budget, the trials).
  std::optional<Job> next_job() {
    if (error_) return std::nullopt;
    for (std::size_t k = rungs_.size() - 1; k-- > 0;) {
      const Index trial = promotable(k);
      if (trial < 0) continue;
      const Job job{trial, rungs_[k], rungs_[k + 1], Index(k + 1), true};
      if (!affordable(job)) continue;
      promoted_[k].insert(trial);
      return job;
    }
    if (Index(result_.trials.size()) >= o_.trials) return std::nullopt;
    const Job job{Index(result_.trials.size()), 0, rungs_[0], 0, false};
    if (!affordable(job)) return std::nullopt;
    TrialRecord t;
    t.id = job.trial;
    t.config = o_.sampler == TuneOptions::Sampler::tpe ? sample_near_the_best() : space_.sample(rng_);
    t.rung = -1;
    result_.trials.push_back(std::move(t));
    return job;
  }

  // Kernel density estimation in the space's coordinates (the log for a
  // log-uniform dimension), one dimension at a time.
  struct Kernel {
    std::vector<double> centres;
    double bandwidth = 1, lo = 0, hi = 1;
    double density(double u) const {
      double sum = 1 / (hi - lo);  // the prior, as one more component
      for (double c : centres) {
        const double z = (u - c) / bandwidth;
        sum += std::exp(-0.5 * z * z) / (bandwidth * 2.5066282746310002);
      }
      return sum / double(centres.size() + 1);
    }
  };
  static double coordinate(const Dimension& d, const std::string& v) {
    const double x = std::stod(v);
    return d.kind == Dimension::Kind::log_uniform ? std::log(x) : x;
  }
  static Kernel kernel(const Dimension& d, const std::vector<double>& centres) {
    Kernel k;
    k.centres = centres;
    k.lo = d.kind == Dimension::Kind::log_uniform ? std::log(d.lo) : d.lo;
    k.hi = d.kind == Dimension::Kind::log_uniform ? std::log(d.hi) : d.hi;
    if (d.kind == Dimension::Kind::integer) k.lo -= 0.5, k.hi += 0.5;
    double mean = 0, square = 0;
    for (double c : centres) mean += c / double(centres.size());
    for (double c : centres) square += (c - mean) * (c - mean) / double(centres.size());
    const double scott = 1.06 * std::sqrt(square) * std::pow(double(centres.size()), -0.2);
    k.bandwidth = std::max(scott, 0.1 * (k.hi - k.lo));
    return k;
  }

  // TuneOptions::Sampler::tpe, under the lock.
  Configuration sample_near_the_best() {
    const Index enough = std::max<Index>(6, Index(space_.dimensions.size()) + 2);
    std::vector<const TrialRecord*> seen;
    for (std::size_t k = members_.size(); k-- > 0 && seen.empty();)
      if (Index(members_[k].size()) >= enough)
        for (const auto& [loss, id] : members_[k]) seen.push_back(&result_.trials[static_cast<std::size_t>(id)]);
    if (seen.empty() || rng_.uniform() < 0.25) return space_.sample(rng_);
    const std::size_t good = std::max<std::size_t>(1, (seen.size() + 3) / 4);  // the best quarter (members_ is sorted)
    // Per dimension: the good and the bad trials' densities.
    struct Model {
      Kernel good, bad;
      std::vector<double> good_share, bad_share;  // a choice's: smoothed frequencies
    };
    std::vector<Model> models;
    for (const Dimension& d : space_.dimensions) {
      Model m;
      if (d.kind == Dimension::Kind::choice) {
        const auto n = d.choices.size();
        m.good_share.assign(n, 1.0);
        m.bad_share.assign(n, 1.0);
        for (std::size_t i = 0; i < seen.size(); ++i) {
          const auto at = std::find(d.choices.begin(), d.choices.end(), seen[i]->config.at(d.name)) - d.choices.begin();
          (i < good ? m.good_share : m.bad_share)[static_cast<std::size_t>(at)] += 1;
        }
        for (auto* share : {&m.good_share, &m.bad_share}) {
          double total = 0;
          for (double v : *share) total += v;
          for (double& v : *share) v /= total;
        }
      } else {
        std::vector<double> g, b;
        for (std::size_t i = 0; i < seen.size(); ++i)
          (i < good ? g : b).push_back(coordinate(d, seen[i]->config.at(d.name)));
        m.good = kernel(d, g);
        m.bad = kernel(d, b.empty() ? g : b);
      }
      models.push_back(std::move(m));
    }
    Configuration best;
    double best_score = -std::numeric_limits<double>::infinity();
    for (int candidate = 0; candidate < 24; ++candidate) {
      Configuration c;
      double score = 0;
      for (std::size_t j = 0; j < space_.dimensions.size(); ++j) {
        const Dimension& d = space_.dimensions[j];
        const Model& m = models[j];
        if (d.kind == Dimension::Kind::choice) {
          double u = rng_.uniform(), acc = 0;
          std::size_t pick = 0;
          for (; pick + 1 < m.good_share.size(); ++pick) {
            acc += m.good_share[pick];
            if (u < acc) break;
          }
          c[d.name] = d.choices[pick];
          score += std::log(m.good_share[pick] / m.bad_share[pick]);
          continue;
        }
        const Kernel& k = m.good;
        double u = k.centres[static_cast<std::size_t>(rng_.below(Index(k.centres.size())))] + k.bandwidth * rng_.normal();
        u = std::clamp(u, k.lo, k.hi);
        double value = d.kind == Dimension::Kind::log_uniform ? std::exp(u) : u;
        if (d.kind == Dimension::Kind::integer) value = std::clamp(std::round(value), d.lo, d.hi);
        else value = std::clamp(value, d.lo, d.hi);
        c[d.name] = d.kind == Dimension::Kind::integer ? fmt::format("{}", Index(value)) : number_text(value);
        const double at = coordinate(d, c[d.name]);
        score += std::log(m.good.density(at) / m.bad.density(at));
      }
      if (score > best_score) best_score = score, best = std::move(c);
    }
    return best;
  }

  // Whether the budget allows the job; if so, its epochs are committed.
  bool affordable(const Job& job) {
    const Index epochs = job.to - job.from;
    if (o_.budget_epochs > 0 && committed_ + epochs > o_.budget_epochs) return false;
    committed_ += epochs;
    return true;
  }

  // The best not yet promoted trial of rung k if it is in the rung's best
  // 1/eta (by loss, ties by id); -1 otherwise.
  Index promotable(std::size_t k) const {
    const auto& m = members_[k];
    const auto top = static_cast<std::size_t>(std::floor(double(m.size()) / o_.eta));
    for (std::size_t i = 0; i < top && i < m.size(); ++i) {
      const Index trial = m[i].second;
      if (!std::isfinite(m[i].first)) break;
      if (!promoted_[k].count(trial)) return trial;
    }
    return -1;
  }

  void record(const Job& job, const std::vector<double>& losses, double seconds) {
    TrialRecord& t = result_.trials[static_cast<std::size_t>(job.trial)];
    t.seconds += seconds;
    t.epochs += Index(losses.size());
    result_.epochs += Index(losses.size());
    t.losses.insert(t.losses.end(), losses.begin(), losses.end());
    const bool ok = Index(losses.size()) == job.to - job.from && !losses.empty() && std::isfinite(losses.back());
    if (job.promotion) ++result_.promotions;
    if (!ok) {
      t.failed = true;
      t.loss = std::numeric_limits<double>::infinity();
    } else {
      t.loss = losses.back();
      t.rung = job.rung;
      auto& m = members_[static_cast<std::size_t>(job.rung)];
      m.insert(std::upper_bound(m.begin(), m.end(), std::pair(t.loss, t.id)), std::pair(t.loss, t.id));
    }
    t.completed = ok && job.to == o_.max_epochs;
    if (callback_) callback_->on_job({job.trial, job.from, job.to, t.loss, job.promotion, job.rung}, t);
    if (t.completed || t.failed) runner_.release(t.id);
  }

  void finish() {
    TuneResult& r = result_;
    for (const TrialRecord& t : r.trials)
      if (!t.completed && !t.failed) runner_.release(t.id);
    r.rung_epochs = rungs_;
    for (const auto& m : members_) r.rung_sizes.push_back(Index(m.size()));
    for (const TrialRecord& t : r.trials)
      if (std::isfinite(t.loss) && (r.best < 0 || t.loss < r.trials[static_cast<std::size_t>(r.best)].loss))
        r.best = t.id;
    const Index failed = Index(std::count_if(r.trials.begin(), r.trials.end(), [](const auto& t) { return t.failed; }));
    r.message = fmt::format("{} trials, {} epochs trained{}{}", r.trials.size(), r.epochs,
                            o_.scheduler == TuneOptions::Scheduler::asha ? fmt::format(", {} promotions", r.promotions)
                                                                         : std::string(),
                            failed > 0 ? fmt::format(", {} failed", failed) : std::string());
    if (r.best >= 0)
      r.message += fmt::format("; best: trial {} at loss {:.6g}", r.best, r.trials[static_cast<std::size_t>(r.best)].loss);
    else
      r.message += "; no trial succeeded";
  }

  const SearchSpace& space_;
  TrialRunner& runner_;
  const TuneOptions& o_;
  TuneCallback* callback_;
  Rng rng_;
  std::vector<Index> rungs_;
  std::vector<std::vector<std::pair<double, Index>>> members_;  // per rung, (loss, trial) ascending
  std::vector<std::set<Index>> promoted_;                       // per rung, the trials promoted out of it
  TuneResult result_;
  Index committed_ = 0;  // epochs of the jobs started
  Index running_ = 0;
  std::exception_ptr error_;
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace

TuneResult tune(const SearchSpace& space, TrialRunner& runner, const TuneOptions& options, TuneCallback* callback) {
  check_options(options);
  Search search(space, runner, options, callback);
  return search.run();
}

}  // namespace descent::train
