// descent bench: the speed of descent's kernels on this machine.
//
//   descent bench step --optimizer adam --size 10000000 [--project box:0,1] [--threads 2] [--json]
//
// Times one step of the stepper on `size` float parameters (median over many
// steps after a warm-up) and, in the same process and with the same threads,
// a STREAM triad a = b + s c on arrays of the same size. A step that moves
// its bytes at the triad's rate runs at the speed of memory.
//
//   descent bench model --model mlp:784-256-128-10 --batch-size 128
//                       [--optimizer adam] [--threads 2] [--json]
//
// Times one training batch of the model on random inputs of its shape:
// forward, loss, backward (and the optimizer step when one is named), the
// median over many batches after a warm-up.
//
//   mpirun -np P descent bench allreduce --size 235146 [--repeats 200] [--json]
//
// Times the gradient allreduce of data-parallel training (dist/: a sum of
// `size` floats that leaves the same bits on every rank) between the ranks
// of the job: median, min and max over the repeats, each started together
// after a barrier.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "ranges.hpp"
#include "descent/core/memory.hpp"
#include "descent/core/parallel.hpp"
#include "descent/dist/communicator.hpp"
#include "descent/nn/objective.hpp"
#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"

namespace descent::cli {
namespace {

struct BenchFlags {
  std::string optimizer = "adam";
  Index size = 10'000'000;
  std::string project;  // a Projection spec over all parameters
  int threads = 0;
  double seconds = 2.0;
  bool json = false;
};

using Clock = std::chrono::steady_clock;

// Median seconds of `run`, called repeatedly for about `budget` seconds
// (at least 10 and at most 1000 samples) after three warm-up calls.
template <class F>
double median_seconds(F&& run, double budget) {
  for (int i = 0; i < 3; ++i) run();
  std::vector<double> samples;
  const auto begin = Clock::now();
  while (samples.size() < 1000) {
    const auto t0 = Clock::now();
    run();
    samples.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (samples.size() >= 10 && std::chrono::duration<double>(Clock::now() - begin).count() > budget) break;
  }
  std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
  return samples[samples.size() / 2];
}

// Matrix-shaped methods see 1024 x 1024 blocks (a layer's weights) and a
// vector remainder; the others one vector.
Layout bench_layout(const std::string& optimizer, Index n) {
  if (optimizer != "muon" && optimizer != "adafactor") return Layout::single(n);
  Layout layout;
  constexpr Index side = 1024;
  Index left = n, blocks = 0;
  while (left >= side * side) {
    layout.add(fmt::format("w{}", blocks++), side, side);
    left -= side * side;
  }
  if (left > 0) layout.add("rest", left);
  return layout;
}

void run_step_bench(const BenchFlags& f) {
  if (!optim::is_stepper_name(f.optimizer))
    throw usage_error(fmt::format("unknown optimizer '{}'; steppers: {}", f.optimizer,
                                  fmt::join(optim::stepper_names(), ", ")));
  const double needed = double(f.size) * sizeof(float) * 9;  // x, g, up to 4 states, 3 triad arrays
  require_memory(needed, 0.8, fmt::format("--size {}", f.size));
  if (f.threads > 0) omp_set_num_threads(f.threads);
  const int threads = omp_get_max_threads();
  const Index n = f.size;

  // First touch on the threads that will use the memory.
  Vector<float> x = detail::workspace_vector<float>(n), g = detail::workspace_vector<float>(n);
  {
    float *xp = x.data(), *gp = g.data();
    detail::for_each_index(n, [=](Index j) {
      xp[j] = 0.01f * float(j % 97) - 0.5f;
      gp[j] = 0.001f * float(j % 89) - 0.04f;
    });
  }
  auto stepper = optim::make_stepper<float>(f.optimizer, bench_layout(f.optimizer, n), x);
  if (!f.project.empty()) {
    try {
      stepper->set_projection(Projection::parse(f.project));
    } catch (const invalid_argument& e) {
      throw usage_error(fmt::format("--project: {}", e.what()));
    }
  }
  const double step_seconds = median_seconds([&] { stepper->step(x, g, 1e-4f); }, f.seconds);
  const double bytes = stepper->bytes_moved_per_step() * double(n);
  stepper.reset();

  Vector<float> a = detail::workspace_vector<float>(n), b = detail::workspace_vector<float>(n),
                c = detail::workspace_vector<float>(n);
  {
    float *ap = a.data(), *bp = b.data(), *cp = c.data();
    detail::for_each_index(n, [=](Index j) {
      ap[j] = 0;
      bp[j] = 1;
      cp[j] = 2;
    });
  }
  const float scalar = 3;
  const double triad_seconds = median_seconds(
      [&] {
        float* ap = a.data();
        const float *bp = b.data(), *cp = c.data();
        detail::for_each_index(n, [=](Index j) { ap[j] = bp[j] + scalar * cp[j]; });
      },
      f.seconds);
  const double triad_bytes = 3.0 * sizeof(float) * double(n);

  const double gbps = bytes / step_seconds / 1e9, triad_gbps = triad_bytes / triad_seconds / 1e9;
  if (f.json) {
    nlohmann::json j;
    j["optimizer"] = f.optimizer;
    j["projection"] = f.project.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.project);
    j["size"] = n;
    j["threads"] = threads;
    j["seconds_per_step"] = step_seconds;
    j["steps_per_second"] = 1.0 / step_seconds;
    j["bytes_per_step"] = bytes;
    j["gbps"] = gbps;
    j["triad_seconds"] = triad_seconds;
    j["triad_gbps"] = triad_gbps;
    j["ratio"] = gbps / triad_gbps;
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("{}{} on {} float parameters, {} thread{}\n", f.optimizer,
             f.project.empty() ? "" : fmt::format(" projected onto {}", f.project), n, threads, threads == 1 ? "" : "s");
  fmt::print("  step   {:10.4f} ms  {:8.1f} steps/s  {:10.3e} bytes  {:6.1f} GB/s\n", step_seconds * 1e3,
             1 / step_seconds, bytes, gbps);
  fmt::print("  triad  {:10.4f} ms  {:28}  {:6.1f} GB/s\n", triad_seconds * 1e3, "", triad_gbps);
  fmt::print("  step / triad bandwidth: {:.2f}\n", gbps / triad_gbps);
}

struct ModelBenchFlags {
  std::string model = "mlp:784-256-128-10";
  Index batch_size = 128;
  std::string optimizer;
  int threads = 0;
  double seconds = 2.0;
  bool json = false;
};

// Sets the OpenMP thread count (0: OpenMP's default); descent's matrix
// products run on the same threads.
int use_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
  return omp_get_max_threads();
}

void run_model_bench(const ModelBenchFlags& f) {
  if (!f.optimizer.empty() && !optim::is_stepper_name(f.optimizer))
    throw usage_error(fmt::format("unknown optimizer '{}'; steppers: {}", f.optimizer,
                                  fmt::join(optim::stepper_names(), ", ")));
  const int threads = use_threads(f.threads);
  auto model = [&] {
    try {
      return nn::make_model<float>(f.model);
    } catch (const invalid_argument& e) {
      throw usage_error(e.what());
    }
  }();
  const Index n = f.batch_size, in = model.input_shape().size(), out = model.output_shape().size();
  require_memory(double(n) * double(in + out) * sizeof(float) * 8 + double(model.num_parameters()) * 32, 0.8,
                 fmt::format("--model {} --batch-size {}", f.model, n));

  // Random inputs of the model's shape, and targets its loss accepts.
  Rng rng(7);
  std::vector<float> features(static_cast<std::size_t>(n * in));
  for (float& v : features) v = static_cast<float>(rng.normal());
  const Index width = model.loss().target_width(out);
  std::vector<float> targets(static_cast<std::size_t>(n * width));
  for (float& v : targets) {
    switch (model.loss().kind) {
      case nn::LossKind::cross_entropy: v = static_cast<float>(rng.below(out)); break;
      case nn::LossKind::bce: v = static_cast<float>(rng.below(2)); break;
      case nn::LossKind::hinge: v = rng.below(2) == 0 ? -1.0f : 1.0f; break;
      default: v = static_cast<float>(rng.normal()); break;
    }
  }
  nn::ModelObjective<float> objective(model, features.data(), targets.data(), n, {.chunk_rows = n});
  Vector<float> x(model.num_parameters()), g(model.num_parameters());
  model.initialize(x, 1);

  std::unique_ptr<optim::Stepper<float>> stepper;
  if (!f.optimizer.empty()) stepper = optim::make_stepper<float>(f.optimizer, model.layout(), x);
  const double seconds = median_seconds(
      [&] {
        objective.value_and_gradient(x, g);
        if (stepper) stepper->step(x, g, 1e-4f);
      },
      f.seconds);

  const double ms = seconds * 1e3, rate = double(n) / seconds;
  if (f.json) {
    nlohmann::json j;
    j["model"] = f.model;
    j["batch_size"] = n;
    j["threads"] = threads;
    j["optimizer"] = f.optimizer.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.optimizer);
    j["parameters"] = model.num_parameters();
    j["ms_per_batch"] = ms;
    j["samples_per_second"] = rate;
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("{} ({} parameters), batch {}, {} thread{}{}\n", f.model, model.num_parameters(), n, threads,
             threads == 1 ? "" : "s", f.optimizer.empty() ? "" : ", step " + f.optimizer);
  fmt::print("  {:.4f} ms per batch, {:.0f} samples/s\n", ms, rate);
}

struct AllreduceFlags {
  Index size = 235'146;  // the Fashion-MNIST MLP's parameters
  Index repeats = 200;
  bool json = false;
};

void run_allreduce_bench(const AllreduceFlags& f) {
  if (!dist::mpi_available()) throw usage_error("bench allreduce: this descent was built without MPI");
  require_memory(double(f.size) * sizeof(float) * 2, 0.5, fmt::format("--size {}", f.size));
  auto comm = dist::open_mpi();
  std::vector<float> data(static_cast<std::size_t>(f.size), 1.0f);
  std::vector<double> times;
  for (Index r = 0; r < f.repeats + 5; ++r) {  // 5 warm-up rounds
    std::fill(data.begin(), data.end(), float(comm->rank() + 1));
    comm->barrier();
    const auto start = std::chrono::steady_clock::now();
    comm->allreduce_sum(data);
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r >= 5) times.push_back(t);
  }
  const int p = comm->size();
  if (data.front() != float(p * (p + 1) / 2)) throw std::runtime_error("bench allreduce: wrong sum");
  // Each round's time is its slowest rank's.
  std::vector<double> slowest(times.size());
  for (std::size_t i = 0; i < times.size(); ++i) slowest[i] = times[i];
  comm->barrier();
  std::vector<std::int64_t> nanos(times.size()), all(times.size() * std::size_t(p));
  for (std::size_t i = 0; i < times.size(); ++i) nanos[i] = std::int64_t(times[i] * 1e9);
  comm->allgather(nanos, all);
  for (std::size_t i = 0; i < times.size(); ++i)
    for (int r = 0; r < p; ++r) slowest[i] = std::max(slowest[i], double(all[std::size_t(r) * times.size() + i]) * 1e-9);
  std::sort(slowest.begin(), slowest.end());
  if (comm->rank() != 0) return;
  const double median = slowest[slowest.size() / 2], bytes = double(f.size) * sizeof(float);
  if (f.json) {
    nlohmann::json j{{"ranks", p},         {"size", f.size},
                     {"bytes", bytes},     {"repeats", f.repeats},
                     {"median_ms", median * 1e3}, {"min_ms", slowest.front() * 1e3},
                     {"max_ms", slowest.back() * 1e3}, {"gigabytes_per_second", bytes / median * 1e-9}};
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("allreduce of {} floats ({:.3f} MB) over {} ranks: median {:.4f} ms (min {:.4f}, max {:.4f}), {:.2f} GB/s\n",
             f.size, bytes * 1e-6, p, median * 1e3, slowest.front() * 1e3, slowest.back() * 1e3, bytes / median * 1e-9);
}

}  // namespace

void add_bench(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Measure the speed of descent's kernels on this machine");
  bench->require_subcommand(1);
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* step = bench->add_subcommand("step", "Time one optimizer step against a STREAM triad of the same size");
  step->add_option("--optimizer", flags->optimizer, "Stepper: " + fmt::format("{}", fmt::join(optim::stepper_names(), ", ")))
      ->capture_default_str();
  step->add_option("--size", flags->size, "Number of float parameters")->capture_default_str()
      ->transform(integer_in<Index>(1, Index(1) << 40));
  step->add_option("--project", flags->project,
                   "Project after every step: nonneg, box:LO,HI, simplex[:R], l1:R or l2:R (the bytes counted are "
                   "the step's own: a box rides in its pass, other sets add passes)");
  step->add_option("--threads", flags->threads, "OpenMP threads (default: OMP_NUM_THREADS or all cores)")
      ->transform(thread_count());
  step->add_option("--seconds", flags->seconds, "Time budget of each measurement")->capture_default_str()
      ->check(number_in(0, 3600, true));
  step->add_flag("--json", flags->json, "Print one JSON object");
  step->callback([flags] { run_step_bench(*flags); });

  auto mflags = std::make_shared<ModelBenchFlags>();
  CLI::App* model = bench->add_subcommand("model", "Time forward + backward (+ an optimizer step) of a model on one batch");
  model->add_option("--model", mflags->model, nn::model_spec_help())->capture_default_str();
  model->add_option("--batch-size", mflags->batch_size, "Samples per batch")->capture_default_str()
      ->transform(integer_in<Index>(1, Index(1) << 31));
  model->add_option("--optimizer", mflags->optimizer, "Also time this stepper's update");
  model->add_option("--threads", mflags->threads, "Threads (default: OMP_NUM_THREADS or all cores)")
      ->transform(thread_count());
  model->add_option("--seconds", mflags->seconds, "Time budget of the measurement")->capture_default_str()
      ->check(number_in(0, 3600, true));
  model->add_flag("--json", mflags->json, "Print one JSON object");
  model->callback([mflags] { run_model_bench(*mflags); });

  auto aflags = std::make_shared<AllreduceFlags>();
  CLI::App* allreduce = bench->add_subcommand("allreduce", "Time the gradient allreduce between the ranks of mpirun");
  allreduce->add_option("--size", aflags->size, "Floats summed")->capture_default_str()
      ->transform(integer_in<Index>(1, Index(1) << 40));
  allreduce->add_option("--repeats", aflags->repeats, "Timed rounds")->capture_default_str()
      ->transform(integer_in<Index>(1, 1'000'000'000));
  allreduce->add_flag("--json", aflags->json, "Print one JSON object");
  allreduce->callback([aflags] { run_allreduce_bench(*aflags); });
}

}  // namespace descent::cli
