#include "descent/optim/schedule.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numbers>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "descent/core/error.hpp"

namespace descent::optim {

namespace {

constexpr Index max_index = std::numeric_limits<Index>::max();

void require_index_at_least(Index v, Index lo, std::string_view schedule, std::string_view field) {
  DESCENT_REQUIRE(v >= lo, fmt::format("{} schedule: {} must be >= {}; got {}", schedule, field, lo, v));
}

void require_real(bool in_range, double v, std::string_view schedule, std::string_view field,
                  std::string_view range) {
  DESCENT_REQUIRE(std::isfinite(v) && in_range,
          fmt::format("{} schedule: {} must be {}; got {}", schedule, field, range, v));
}

void require_gamma(double gamma, std::string_view schedule) {
  require_real(gamma > 0 && gamma <= 1, gamma, schedule, "gamma", "in (0, 1]");
}

// (1 + cos(pi * t / n)) / 2 for 0 <= t <= n, written as sin^2(pi/2 * (n - t) / n)
// so that it keeps its relative accuracy near the end of the period, where it
// goes to 0 (the cosine form loses digits there to cancellation), and is
// exactly 0 at t = n.
double half_cosine(double t, double n) {
  const double s = std::sin(std::numbers::pi / 2 * ((n - t) / n));
  return s * s;
}

// torch's _annealing_cos: from start (pct = 0) to end (pct = 1) along half a cosine.
double anneal_cosine(double start, double end, double pct) { return end + (start - end) * half_cosine(pct, 1.0); }

}  // namespace

// ---------------------------------------------------------------------------
// Factories

Schedule Schedule::constant() { return Schedule(Constant{}); }

Schedule Schedule::step(Index step_size, double gamma) {
  require_index_at_least(step_size, 1, "step", "step_size");
  require_gamma(gamma, "step");
  return Schedule(Step{step_size, gamma});
}

Schedule Schedule::multistep(std::vector<Index> milestones, double gamma) {
  require(!milestones.empty(), "multistep schedule: milestones must hold at least one step");
  require_index_at_least(milestones.front(), 1, "multistep", "the first milestone");
  for (std::size_t i = 1; i < milestones.size(); ++i) {
    DESCENT_REQUIRE(milestones[i] > milestones[i - 1],
            fmt::format("multistep schedule: milestones must be strictly increasing; got {} after {}",
                        milestones[i], milestones[i - 1]));
  }
  require_gamma(gamma, "multistep");
  return Schedule(MultiStep{std::move(milestones), gamma});
}

Schedule Schedule::exponential(double gamma) {
  require_gamma(gamma, "exponential");
  return Schedule(Exponential{gamma});
}

Schedule Schedule::inverse_time(double decay) {
  require_real(decay >= 0, decay, "inverse-time", "decay", "finite and >= 0");
  return Schedule(InverseTime{decay});
}

Schedule Schedule::polynomial(Index total, double power) {
  require_index_at_least(total, 1, "polynomial", "total");
  require_real(power > 0, power, "polynomial", "power", "finite and > 0");
  return Schedule(Polynomial{total, power});
}

Schedule Schedule::cosine(Index t_max, double eta_min) {
  require_index_at_least(t_max, 1, "cosine", "T_max");
  require_real(eta_min >= 0, eta_min, "cosine", "eta_min", "finite and >= 0");
  return Schedule(Cosine{t_max, eta_min});
}

Schedule Schedule::cosine_restarts(Index t_0, Index t_mult, double eta_min) {
  require_index_at_least(t_0, 1, "cosine-restarts", "T_0");
  require_index_at_least(t_mult, 1, "cosine-restarts", "T_mult");
  require_real(eta_min >= 0, eta_min, "cosine-restarts", "eta_min", "finite and >= 0");
  return Schedule(CosineRestarts{t_0, t_mult, eta_min});
}

Schedule Schedule::one_cycle(Index total, double pct_start, double div_factor, double final_div_factor) {
  require_index_at_least(total, 1, "one-cycle", "total");
  require_real(pct_start > 0 && pct_start < 1, pct_start, "one-cycle", "pct_start", "in (0, 1)");
  require_real(div_factor >= 1, div_factor, "one-cycle", "div_factor", "finite and >= 1");
  require_real(final_div_factor >= 1, final_div_factor, "one-cycle", "final_div_factor", "finite and >= 1");
  return Schedule(OneCycle{total, pct_start, div_factor, final_div_factor});
}

Schedule Schedule::with_warmup(Index steps, double start_factor) const {
  DESCENT_REQUIRE(steps >= 0, fmt::format("warm-up: steps must be >= 0; got {}", steps));
  DESCENT_REQUIRE(std::isfinite(start_factor) && start_factor > 0 && start_factor <= 1,
          fmt::format("warm-up: start_factor must be in (0, 1]; got {}", start_factor));
  require(steps == 0 || !std::holds_alternative<OneCycle>(kind_),
          "warm-up: one-cycle rises from its own start (pct_start) and takes no warm-up");
  Schedule s = *this;
  s.warmup_steps_ = steps;
  s.warmup_start_factor_ = start_factor;
  return s;
}

// ---------------------------------------------------------------------------
// Evaluation

double Schedule::lr(double base_lr, Index k) const {
  // Called every step: the messages are formatted only on failure.
  if (!(std::isfinite(base_lr) && base_lr >= 0)) {
    throw invalid_argument(fmt::format("Schedule::lr: base_lr must be finite and >= 0; got {}", base_lr));
  }
  if (k < 0) throw invalid_argument(fmt::format("Schedule::lr: the step k must be >= 0; got {}", k));
  if (k < warmup_steps_) {
    // torch's LinearLR in closed form, end_factor 1.
    const double f = warmup_start_factor_;
    return base_lr * (f + (1 - f) * static_cast<double>(k) / static_cast<double>(warmup_steps_));
  }
  return inner_lr(base_lr, k - warmup_steps_);
}

double Schedule::inner_lr(double b, Index k) const {
  const auto x = static_cast<double>(k);
  if (std::holds_alternative<Constant>(kind_)) return b;
  if (const auto* s = std::get_if<Step>(&kind_)) {
    return b * std::pow(s->gamma, static_cast<double>(k / s->step_size));
  }
  if (const auto* s = std::get_if<MultiStep>(&kind_)) {
    const auto passed = std::upper_bound(s->milestones.begin(), s->milestones.end(), k) - s->milestones.begin();
    return b * std::pow(s->gamma, static_cast<double>(passed));
  }
  if (const auto* s = std::get_if<Exponential>(&kind_)) return b * std::pow(s->gamma, x);
  if (const auto* s = std::get_if<InverseTime>(&kind_)) return b / (1 + s->decay * x);
  if (const auto* s = std::get_if<Polynomial>(&kind_)) {
    const auto t = static_cast<double>(std::min(k, s->total));
    return b * std::pow(1 - t / static_cast<double>(s->total), s->power);
  }
  if (const auto* s = std::get_if<Cosine>(&kind_)) {
    const auto t = static_cast<double>(std::min(k, s->t_max));
    return s->eta_min + (b - s->eta_min) * half_cosine(t, static_cast<double>(s->t_max));
  }
  if (const auto* s = std::get_if<CosineRestarts>(&kind_)) {
    // Find the period [start, start + period) holding k. With T_mult > 1 the
    // periods grow geometrically, so the walk takes O(log k) exact integer
    // steps; a period too long for an Index is capped, as k cannot pass it.
    Index t_cur = 0, period = s->t_0;
    if (s->t_mult == 1) {
      t_cur = k % s->t_0;
    } else {
      Index start = 0;
      while (k - start >= period) {
        start += period;
        period = period > max_index / s->t_mult ? max_index : period * s->t_mult;
      }
      t_cur = k - start;
    }
    return s->eta_min + (b - s->eta_min) * half_cosine(static_cast<double>(t_cur), static_cast<double>(period));
  }
  const auto& s = std::get<OneCycle>(kind_);
  // torch's OneCycleLR, two phases: up from initial to b until step end_up (a
  // real number, pct_start * total - 1), then down to the minimum at step
  // total - 1, held from there on.
  const double initial = b / s.div_factor;
  const double minimum = initial / s.final_div_factor;
  if (k >= s.total - 1) return minimum;
  const double end_up = s.pct_start * static_cast<double>(s.total) - 1;
  if (x <= end_up) return anneal_cosine(initial, b, end_up > 0 ? x / end_up : 1.0);
  return anneal_cosine(b, minimum, (x - end_up) / (static_cast<double>(s.total - 1) - end_up));
}

std::string Schedule::describe() const {
  std::string d;
  if (std::holds_alternative<Constant>(kind_)) {
    d = "constant";
  } else if (const auto* s = std::get_if<Step>(&kind_)) {
    d = fmt::format("step(step_size={}, gamma={})", s->step_size, s->gamma);
  } else if (const auto* s = std::get_if<MultiStep>(&kind_)) {
    d = fmt::format("multistep(milestones=[{}], gamma={})", fmt::join(s->milestones, ", "), s->gamma);
  } else if (const auto* s = std::get_if<Exponential>(&kind_)) {
    d = fmt::format("exponential(gamma={})", s->gamma);
  } else if (const auto* s = std::get_if<InverseTime>(&kind_)) {
    d = fmt::format("inverse-time(decay={})", s->decay);
  } else if (const auto* s = std::get_if<Polynomial>(&kind_)) {
    d = fmt::format("polynomial(total={}, power={})", s->total, s->power);
  } else if (const auto* s = std::get_if<Cosine>(&kind_)) {
    d = fmt::format("cosine(T_max={}, eta_min={})", s->t_max, s->eta_min);
  } else if (const auto* s = std::get_if<CosineRestarts>(&kind_)) {
    d = fmt::format("cosine-restarts(T_0={}, T_mult={}, eta_min={})", s->t_0, s->t_mult, s->eta_min);
  } else {
    const auto& c = std::get<OneCycle>(kind_);
    d = fmt::format("one-cycle(total={}, pct_start={}, div_factor={}, final_div_factor={})", c.total, c.pct_start,
                    c.div_factor, c.final_div_factor);
  }
  if (warmup_steps_ > 0) {
    d += fmt::format(" after {} warm-up steps (start_factor={})", warmup_steps_, warmup_start_factor_);
  }
  return d;
}

// ---------------------------------------------------------------------------
// Reduce-on-plateau

void PlateauOptions::validate() const {
  DESCENT_REQUIRE(std::isfinite(factor) && factor >= 0 && factor < 1,
          fmt::format("PlateauOptions::factor must be in [0, 1); got {}", factor));
  DESCENT_REQUIRE(patience >= 0, fmt::format("PlateauOptions::patience must be >= 0; got {}", patience));
  DESCENT_REQUIRE(std::isfinite(threshold) && threshold >= 0,
          fmt::format("PlateauOptions::threshold must be finite and >= 0; got {}", threshold));
  DESCENT_REQUIRE(threshold_mode == ThresholdMode::absolute || threshold < 1,
          fmt::format("PlateauOptions::threshold must be < 1 when relative; got {}", threshold));
  DESCENT_REQUIRE(cooldown >= 0, fmt::format("PlateauOptions::cooldown must be >= 0; got {}", cooldown));
  DESCENT_REQUIRE(std::isfinite(min_lr) && min_lr >= 0,
          fmt::format("PlateauOptions::min_lr must be finite and >= 0; got {}", min_lr));
  DESCENT_REQUIRE(std::isfinite(eps) && eps >= 0, fmt::format("PlateauOptions::eps must be finite and >= 0; got {}", eps));
  require(mode == PlateauMode::min || mode == PlateauMode::max, "PlateauOptions::mode must be min or max");
  require(threshold_mode == ThresholdMode::relative || threshold_mode == ThresholdMode::absolute,
          "PlateauOptions::threshold_mode must be relative or absolute");
}

ReduceOnPlateau::ReduceOnPlateau(double base_lr, const PlateauOptions& options) : options_(options) {
  options_.validate();
  DESCENT_REQUIRE(std::isfinite(base_lr) && base_lr >= 0,
          fmt::format("ReduceOnPlateau: base_lr must be finite and >= 0; got {}", base_lr));
  state_.lr = base_lr;
  state_.best = options_.mode == PlateauMode::min ? std::numeric_limits<double>::infinity()
                                                  : -std::numeric_limits<double>::infinity();
}

bool ReduceOnPlateau::improves(double metric) const {
  const double b = state_.best, t = options_.threshold;
  const bool relative = options_.threshold_mode == ThresholdMode::relative;
  if (options_.mode == PlateauMode::min) return relative ? metric < b * (1 - t) : metric < b - t;
  return relative ? metric > b * (t + 1) : metric > b + t;
}

bool ReduceOnPlateau::report(double metric) {
  // Count the report as good or bad; bad ones do not count in the cooldown.
  ++state_.reports;
  if (improves(metric)) {
    state_.best = metric;
    state_.bad_reports = 0;
  } else {
    ++state_.bad_reports;
  }
  if (state_.cooldown_left > 0) {
    --state_.cooldown_left;
    state_.bad_reports = 0;
  }
  if (state_.bad_reports <= options_.patience) return false;

  // A plateau: reduce (unless the floor leaves less than eps to take) and cool down.
  const double reduced = std::max(state_.lr * options_.factor, options_.min_lr);
  const bool changed = state_.lr - reduced > options_.eps;
  if (changed) state_.lr = reduced;
  state_.cooldown_left = options_.cooldown;
  state_.bad_reports = 0;
  return changed;
}

void ReduceOnPlateau::restore(const State& state) {
  DESCENT_REQUIRE(std::isfinite(state.lr) && state.lr >= 0,
          fmt::format("ReduceOnPlateau::restore: lr must be finite and >= 0; got {}", state.lr));
  require(!std::isnan(state.best), "ReduceOnPlateau::restore: best must not be NaN");
  DESCENT_REQUIRE(state.bad_reports >= 0,
          fmt::format("ReduceOnPlateau::restore: bad_reports must be >= 0; got {}", state.bad_reports));
  DESCENT_REQUIRE(state.cooldown_left >= 0,
          fmt::format("ReduceOnPlateau::restore: cooldown_left must be >= 0; got {}", state.cooldown_left));
  DESCENT_REQUIRE(state.reports >= 0, fmt::format("ReduceOnPlateau::restore: reports must be >= 0; got {}", state.reports));
  state_ = state;
}

std::string ReduceOnPlateau::describe() const {
  const auto& o = options_;
  return fmt::format("plateau(mode={}, factor={}, patience={}, threshold={} {}, cooldown={}, min_lr={}, eps={})",
                     o.mode == PlateauMode::min ? "min" : "max", o.factor, o.patience, o.threshold,
                     o.threshold_mode == ThresholdMode::relative ? "rel" : "abs", o.cooldown, o.min_lr, o.eps);
}

// ---------------------------------------------------------------------------
// Specs

namespace {

constexpr std::string_view schedule_names =
    "constant, step, multistep, exponential, inverse-time, polynomial, cosine, cosine-restarts, one-cycle";

// Reads the fields of one spec, quoting the whole spec in every error.
class SpecReader {
 public:
  explicit SpecReader(std::string_view spec) : spec_(spec) {}

  [[noreturn]] void fail(std::string_view what) const {
    throw invalid_argument(fmt::format("schedule spec '{}': {}", spec_, what));
  }

  static std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    for (;;) {
      const auto at = s.find(sep);
      parts.push_back(s.substr(0, at));
      if (at == std::string_view::npos) return parts;
      s.remove_prefix(at + 1);
    }
  }

  // A whole number: decimal digits, or a real such as 1e5 whose value is whole.
  Index integer(std::string_view text, std::string_view field) const {
    Index v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && end == text.data() + text.size()) return v;
    double r = 0;
    const auto [rend, rec] = std::from_chars(text.data(), text.data() + text.size(), r);
    const bool whole = rec == std::errc() && rend == text.data() + text.size() && std::isfinite(r) &&
                       r == std::floor(r) && std::abs(r) < 0x1p63;
    if (!whole) fail(fmt::format("{} must be a whole number; got '{}'", field, text));
    return static_cast<Index>(r);
  }

  double real(std::string_view text, std::string_view field) const {
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
      fail(fmt::format("{} must be a finite number; got '{}'", field, text));
    }
    return v;
  }

  // Fields after the name: checks their count against the form.
  // `at_end`: the fields end the spec, so a last one that is empty is a
  // trailing ':' (a warm-up's fields are followed by '+').
  void expect_fields(const std::vector<std::string_view>& fields, std::size_t required, std::size_t most,
                     std::string_view form, bool at_end = true) const {
    const std::size_t given = fields.size() - 1;
    if (given < required) fail(fmt::format("too few fields; expected {}", form));
    if (given > most) fail(fmt::format("too many fields; expected {}", form));
    for (std::size_t i = 1; i <= required; ++i) {
      if (fields[i].empty()) fail(fmt::format("a required field is empty; expected {}", form));
    }
    // An empty field in the middle takes its default ("cosine::1e-5"); one
    // at the end is a ':' with nothing after it, more likely a field left
    // out by mistake than a request for the default.
    if (at_end && given > 0 && fields.back().empty())
      fail(fmt::format("ends with ':' and no field after it; expected {}", form));
  }

 private:
  std::string_view spec_;
};

// Where a warm-up prefix ends: the first '+' that is not the sign of an
// exponent (a digit or '.', then e or E, then '+', as in 1e+3), or npos.
std::size_t find_plus(std::string_view spec) {
  for (std::size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != '+') continue;
    const bool exponent = i >= 2 && (spec[i - 1] == 'e' || spec[i - 1] == 'E') &&
                          ((spec[i - 2] >= '0' && spec[i - 2] <= '9') || spec[i - 2] == '.');
    if (!exponent) return i;
  }
  return std::string_view::npos;
}

Schedule parse_inner(const SpecReader& r, std::string_view text, Index warmup, Index total_steps) {
  const auto f = SpecReader::split(text, ':');
  const std::string_view name = f[0];
  auto has = [&](std::size_t i) { return i < f.size() && !f[i].empty(); };
  // The run's horizon less the warm-up, the default length of finite schedules.
  auto horizon = [&](std::string_view field) -> Index {
    if (total_steps <= 0) {
      r.fail(fmt::format("{} needs {} when the run's horizon (total steps) is unknown", name, field));
    }
    return std::max<Index>(total_steps - warmup, 1);
  };

  if (name == "constant") {
    r.expect_fields(f, 0, 0, "constant");
    return Schedule::constant();
  }
  if (name == "step") {
    r.expect_fields(f, 1, 2, "step:STEP_SIZE[:GAMMA]");
    return Schedule::step(r.integer(f[1], "STEP_SIZE"), has(2) ? r.real(f[2], "GAMMA") : 0.1);
  }
  if (name == "multistep") {
    r.expect_fields(f, 1, 2, "multistep:M1,M2,...[:GAMMA]");
    std::vector<Index> milestones;
    for (const auto m : SpecReader::split(f[1], ',')) milestones.push_back(r.integer(m, "a milestone"));
    return Schedule::multistep(std::move(milestones), has(2) ? r.real(f[2], "GAMMA") : 0.1);
  }
  if (name == "exponential") {
    r.expect_fields(f, 1, 1, "exponential:GAMMA");
    return Schedule::exponential(r.real(f[1], "GAMMA"));
  }
  if (name == "inverse-time") {
    r.expect_fields(f, 1, 1, "inverse-time:DECAY");
    return Schedule::inverse_time(r.real(f[1], "DECAY"));
  }
  if (name == "polynomial") {
    r.expect_fields(f, 0, 2, "polynomial[:POWER[:TOTAL]]");
    const double power = has(1) ? r.real(f[1], "POWER") : 1.0;
    return Schedule::polynomial(has(2) ? r.integer(f[2], "TOTAL") : horizon("TOTAL"), power);
  }
  if (name == "cosine") {
    r.expect_fields(f, 0, 2, "cosine[:T_MAX[:ETA_MIN]]");
    const Index t_max = has(1) ? r.integer(f[1], "T_MAX") : horizon("T_MAX");
    return Schedule::cosine(t_max, has(2) ? r.real(f[2], "ETA_MIN") : 0.0);
  }
  if (name == "cosine-restarts") {
    r.expect_fields(f, 1, 3, "cosine-restarts:T_0[:T_MULT[:ETA_MIN]]");
    return Schedule::cosine_restarts(r.integer(f[1], "T_0"), has(2) ? r.integer(f[2], "T_MULT") : 1,
                                     has(3) ? r.real(f[3], "ETA_MIN") : 0.0);
  }
  if (name == "one-cycle") {
    r.expect_fields(f, 0, 2, "one-cycle[:PCT_START[:TOTAL]]");
    const double pct_start = has(1) ? r.real(f[1], "PCT_START") : 0.3;
    return Schedule::one_cycle(has(2) ? r.integer(f[2], "TOTAL") : horizon("TOTAL"), pct_start);
  }
  if (name == "plateau") {
    r.fail("plateau follows a metric, not the step; it is parsed by parse_plateau, and takes no warm-up");
  }
  if (name == "warmup") r.fail("a warm-up must be followed by '+' and a schedule, as in warmup:100+cosine");
  r.fail(fmt::format("unknown schedule '{}'; expected one of {}, optionally after warmup:W[:START_FACTOR]+", name,
                     schedule_names));
}

}  // namespace

Schedule parse_schedule(std::string_view spec, Index total_steps) {
  const SpecReader r(spec);
  if (total_steps < 0) r.fail(fmt::format("total_steps must be >= 0 (0 = unknown); got {}", total_steps));
  if (spec.empty()) r.fail(fmt::format("empty; expected one of {}", schedule_names));

  // Split off the warm-up.
  Index warmup = 0;
  double start_factor = 1.0 / 3;
  std::string_view inner = spec;
  if (const auto plus = find_plus(spec); plus != std::string_view::npos) {
    const auto w = SpecReader::split(spec.substr(0, plus), ':');
    if (w[0] != "warmup") {
      r.fail(fmt::format("only a warm-up, warmup:W[:START_FACTOR], may come before '+'; got '{}'", w[0]));
    }
    r.expect_fields(w, 1, 2, "warmup:W[:START_FACTOR]+SCHEDULE", false);
    warmup = r.integer(w[1], "W");
    if (w.size() > 2 && !w[2].empty()) start_factor = r.real(w[2], "START_FACTOR");
    inner = spec.substr(plus + 1);
    if (find_plus(inner) != std::string_view::npos) r.fail("at most one '+' (warmup:W+SCHEDULE)");
    if (inner.empty()) r.fail(fmt::format("a schedule must follow '+'; expected one of {}", schedule_names));
  }

  // Range errors from the factories get the spec in front.
  try {
    return parse_inner(r, inner, std::max<Index>(warmup, 0), total_steps).with_warmup(warmup, start_factor);
  } catch (const invalid_argument& e) {
    const std::string what = e.what();
    if (what.starts_with("schedule spec '")) throw;
    r.fail(what);
  }
}

bool is_plateau_spec(std::string_view spec) { return spec == "plateau" || spec.starts_with("plateau:"); }

PlateauOptions parse_plateau(std::string_view spec) {
  const SpecReader r(spec);
  const auto f = SpecReader::split(spec, ':');
  if (f[0] != "plateau") r.fail(fmt::format("expected plateau[:PATIENCE[:FACTOR]]; got '{}'", f[0]));
  r.expect_fields(f, 0, 2, "plateau[:PATIENCE[:FACTOR]]");
  PlateauOptions o;
  if (f.size() > 1 && !f[1].empty()) o.patience = r.integer(f[1], "PATIENCE");
  if (f.size() > 2 && !f[2].empty()) o.factor = r.real(f[2], "FACTOR");
  try {
    o.validate();
  } catch (const invalid_argument& e) {
    r.fail(e.what());
  }
  return o;
}

std::string_view schedule_spec_help() {
  return "learning-rate schedule, optionally after a linear warm-up (warmup:W[:START_FACTOR]+SCHEDULE):\n"
         "  constant | step:STEP_SIZE[:GAMMA] | multistep:M1,M2,...[:GAMMA] | exponential:GAMMA\n"
         "  | inverse-time:DECAY | polynomial[:POWER[:TOTAL]] | cosine[:T_MAX[:ETA_MIN]]\n"
         "  | cosine-restarts:T_0[:T_MULT[:ETA_MIN]] | one-cycle[:PCT_START[:TOTAL]]\n"
         "  | plateau[:PATIENCE[:FACTOR]] (reduce on a plateau of the validation loss)\n"
         "TOTAL and T_MAX default to the run's length less the warm-up; an empty field takes its default.\n"
         "Examples: warmup:500+cosine, step:30:0.5, multistep:100,150, cosine-restarts:10:2";
}

}  // namespace descent::optim
