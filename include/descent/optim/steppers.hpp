// The stochastic steppers, each an options struct with the literature's
// defaults and a Stepper subclass (see stepper.hpp for the shared contract).
//
// Where torch.optim has the method, the rule and the defaults are torch's
// (1.13), so results can be checked against it; weight decay is not a field
// of these options but Regularization's: torch's coupled weight_decay is
// Regularization::l2, AdamW's decoupled one is decoupled_weight_decay (the
// by-name factory in factory.hpp maps --weight-decay to the right one).
//
// Rules in docs/optimizers.md; state per parameter in brackets below.
#pragma once

#include <memory>
#include <vector>

#include "descent/optim/stepper.hpp"

namespace descent::optim {

// SGD with momentum, dampening and Nesterov (torch.optim.SGD) [0 or 1]:
//   b = g (first step), else b = momentum b + (1 - dampening) g;
//   d = g + momentum b (Nesterov) or b;  x -= lr d.
struct SgdOptions {
  double momentum = 0;      // Range: [0, 1).
  double dampening = 0;     // Range: [0, 1].
  bool nesterov = false;    // Needs momentum > 0 and dampening == 0.
  void validate() const;
};

template <class T>
class Sgd final : public Stepper<T> {
 public:
  Sgd(Layout layout, const SgdOptions& options = {}, const Regularization& regularization = {});
  std::unique_ptr<Stepper<T>> shard(Layout slice) const override {
    return std::make_unique<Sgd>(std::move(slice), options_, this->regularization_);
  }
  bool fuses_box() const override { return true; }
  std::string name() const override;
  double state_bytes_per_parameter() const override;
  double bytes_moved_per_step() const override;

 private:
  void update(T* x, const T* g, T lr, T clip_scale) override;
  void visit_method_state(StateVisitor<T>& v) override;
  SgdOptions options_;
  Vector<T> buffer_;  // momentum buffer; empty without momentum
};

// AdaGrad (Duchi et al. 2011; torch.optim.Adagrad) [1]:
//   s += g^2;  x -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps).
struct AdagradOptions {
  double lr_decay = 0;                   // Range: >= 0.
  double initial_accumulator_value = 0;  // Range: >= 0.
  double eps = 1e-10;                    // Range: > 0.
  void validate() const;
};

template <class T>
class Adagrad final : public Stepper<T> {
 public:
  Adagrad(Layout layout, const AdagradOptions& options = {}, const Regularization& regularization = {});
  std::unique_ptr<Stepper<T>> shard(Layout slice) const override {
    return std::make_unique<Adagrad>(std::move(slice), options_, this->regularization_);
  }
  bool fuses_box() const override { return true; }
  std::string name() const override { return "adagrad"; }
  double state_bytes_per_parameter() const override { return sizeof(T); }
  double bytes_moved_per_step() const override { return 5.0 * sizeof(T); }

 private:
  void update(T* x, const T* g, T lr, T clip_scale) override;
  void visit_method_state(StateVisitor<T>& v) override;
  AdagradOptions options_;
  Vector<T> sum_;
};

// RMSProp (Tieleman & Hinton 2012; Graves 2013 for the centered form;
// torch.optim.RMSprop) [1 to 3]:
//   v = alpha v + (1 - alpha) g^2;  centered: a = alpha a + (1 - alpha) g, den = sqrt(v - a^2) + eps,
//   else den = sqrt(v) + eps;  with momentum: b = momentum b + g / den, x -= lr b;  else x -= lr g / den.
struct RmspropOptions {
  double alpha = 0.99;   // Range: [0, 1).
  double eps = 1e-8;     // Range: > 0.
  double momentum = 0;   // Range: [0, 1).
  bool centered = false;
  void validate() const;
};

template <class T>
class Rmsprop final : public Stepper<T> {
 public:
  Rmsprop(Layout layout, const RmspropOptions& options = {}, const Regularization& regularization = {});
  std::unique_ptr<Stepper<T>> shard(Layout slice) const override {
    return std::make_unique<Rmsprop>(std::move(slice), options_, this->regularization_);
  }
  bool fuses_box() const override { return true; }
  std::string name() const override { return options_.centered ? "rmsprop-centered" : "rmsprop"; }
  double state_bytes_per_parameter() const override;
  double bytes_moved_per_step() const override;

 private:
  void update(T* x, const T* g, T lr, T clip_scale) override;
  void visit_method_state(StateVisitor<T>& v) override;
  RmspropOptions options_;
  Vector<T> square_avg_, grad_avg_, buffer_;
};

// AdaDelta (Zeiler 2012; torch.optim.Adadelta) [2]:
//   v = rho v + (1 - rho) g^2;  d = sqrt(u + eps) / sqrt(v + eps) g;  u = rho u + (1 - rho) d^2;  x -= lr d.
struct AdadeltaOptions {
  double rho = 0.9;   // Range: [0, 1).
  double eps = 1e-6;  // Range: > 0.
  void validate() const;
};

template <class T>
class Adadelta final : public Stepper<T> {
 public:
  Adadelta(Layout layout, const AdadeltaOptions& options = {}, const Regularization& regularization = {});
  std::unique_ptr<Stepper<T>> shard(Layout slice) const override {
    return std::make_unique<Adadelta>(std::move(slice), options_, this->regularization_);
  }
  bool fuses_box() const override { return true; }
  std::string name() const override { return "adadelta"; }
  double state_bytes_per_parameter() const override { return 2.0 * sizeof(T); }
  double bytes_moved_per_step() const override { return 7.0 * sizeof(T); }

 private:
  void update(T* x, const T* g, T lr, T clip_scale) override;
  void visit_method_state(StateVisitor<T>& v) override;
  AdadeltaOptions options_;
  Vector<T> square_avg_, delta_avg_;
};

// The Adam family (Kingma & Ba 2015; torch.optim.Adam, AdamW, Adamax, NAdam,
// RAdam) [2, 3 for AMSGrad]:
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;
//   adam:    x -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//   amsgrad: the same with v_max = max(v_max, v) in place of v (Reddi et al. 2018)
//   adamax:  u = max(beta2 u, |g| + eps);  x -= lr / (1 - beta1^t) * m / u
//   nadam:   Dozat 2016 with torch's momentum schedule mu_t = beta1 (1 - 0.96^(t psi) / 2)
//   radam:   Liu et al. 2020, the rectified step once rho_t > 5, SGD with momentum before
// AdamW is adam with Regularization::decoupled_weight_decay (0.01 by name).
enum class AdamVariant { adam, amsgrad, adamax, nadam, radam };

struct AdamOptions {
  double beta1 = 0.9;              // Range: [0, 1).
  double beta2 = 0.999;            // Range: [0, 1).
  double eps = 1e-8;               // Range: > 0.
  double momentum_decay = 4e-3;    // nadam's psi. Range: >= 0.
  AdamVariant variant = AdamVariant::adam;
  void validate() const;
};

template <class T>
class Adam final : public Stepper<T> {
 public:
  Adam(Layout layout, const AdamOptions& options = {}, const Regularization& regularization = {});
  std::unique_ptr<Stepper<T>> shard(Layout slice) const override {
    return std::make_unique<Adam>(std::move(slice), options_, this->regularization_);
  }
  bool fuses_box() const override { return true; }
  std::string name() const override;
  double state_bytes_per_parameter() const override;
  double bytes_moved_per_step() const override;

 private:
  void update(T* x, const T* g, T lr, T clip_scale) override;
  void visit_method_state(StateVisitor<T>& v) override;
  AdamOptions options_;
  Vector<T> m_, v_, v_max_;
  double mu_product_ = 1;  // nadam
};

// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms") [1]:
//   c = beta1 m + (1 - beta1) g;  x -= lr sign(c);  m = beta2 m + (1 - beta2) g.
// Use a learning rate 3 to 10 times smaller than AdamW's and a decoupled
// weight decay as many times larger.
struct LionOptions {
  double beta1 = 0.9;   // Range: [0, 1].
  double beta2 = 0.99;  // Range: [0, 1].
  void validate() const;
};

template <class T>
class Lion final : public Stepper<T> {
 public:
  Lion(Layout layout, const LionOptions& options = {}, const Regularization& regularization = {});
  std::unique_ptr<Stepper<T>> shard(Layout slice) const override {
    return std::make_unique<Lion>(std::move(slice), options_, this->regularization_);
  }
  bool fuses_box() const override { return true; }
  std::string name() const override { return "lion"; }
  double state_bytes_per_parameter() const override { return sizeof(T); }
  double bytes_moved_per_step() const override { return 5.0 * sizeof(T); }

 private:
  void update(T* x, const T* g, T lr, T clip_scale) override;
  void visit_method_state(StateVisitor<T>& v) override;
  LionOptions options_;
  Vector<T> m_;
};

// Adafactor (Shazeer & Stern 2018, Algorithms 4 and 5) [rows + cols per
// matrix, 1 per vector element; +1 with beta1]: second moments of a matrix
// segment factored into row and column sums, update clipping by RMS, and a
// step size relative to the parameters' RMS.
//   rho = 1 - t^beta2_decay;  R = rho R + (1 - rho) rowsum(g^2 + eps1);  C likewise by columns;
//   V = R C^T / sum(R) (vectors: V = rho V + (1 - rho)(g^2 + eps1));  U = g / sqrt(V);
//   U /= max(1, RMS(U) / clip_threshold);  alpha = lr max(eps2, RMS(x)) (scale_parameter) or lr;
//   with beta1: M = beta1 M + (1 - beta1) U, x -= alpha M;  else x -= alpha U.
struct AdafactorOptions {
  double beta1 = 0;              // 0: no first moment. Range: [0, 1).
  double beta2_decay = -0.8;     // Range: < 0.
  double eps1 = 1e-30;           // Range: > 0.
  double eps2 = 1e-3;            // Range: >= 0.
  double clip_threshold = 1.0;   // Range: > 0.
  bool scale_parameter = true;
  void validate() const;
};

template <class T>
class Adafactor final : public Stepper<T> {
 public:
  Adafactor(Layout layout, const AdafactorOptions& options = {}, const Regularization& regularization = {});
  std::string name() const override { return "adafactor"; }
  double state_bytes_per_parameter() const override;
  double bytes_moved_per_step() const override;

 private:
  void update(T* x, const T* g, T lr, T clip_scale) override;
  void visit_method_state(StateVisitor<T>& v) override;
  AdafactorOptions options_;
  Vector<T> row_, col_;   // factored statistics of the matrix segments, concatenated
  Vector<T> second_;      // unfactored statistics of the vector segments, concatenated
  Vector<T> m_;           // first moment, with beta1
  std::vector<Index> row_offset_, col_offset_, vector_offset_;  // per segment
};

// Schedule-free SGD and AdamW (Defazio et al. 2024, "The Road Less
// Scheduled"), in the memory-efficient form: x holds the gradient point y;
// the state holds z; the averaged iterate (evaluation_point) is
// (y - (1 - beta) z) / beta. Use them with a constant learning rate (or a
// warm-up only): they replace the schedule. [1 for SGD, 2 for AdamW]
//   c = w_t / sum w (w_t = t^r lr_max^weight_lr_power);
//   y = y + c (z - y) + lr (beta (1 - c) - 1) u;  z = z - lr u;
// with u = g (SGD) or g / (sqrt(v) + eps) + weight_decay y (AdamW,
// v = beta2 v + (1 - beta2) g^2, lr scaled by sqrt(1 - beta2^t)).
struct ScheduleFreeOptions {
  bool adam = false;            // AdamW form
  double beta1 = 0.9;           // the interpolation ("momentum"). Range: (0, 1].
  double beta2 = 0.999;         // AdamW form. Range: [0, 1).
  double eps = 1e-8;            // AdamW form. Range: > 0.
  double weight_decay = 0;      // AdamW form (SGD: Regularization::l2). Range: >= 0.
  double r = 0;                 // Range: >= 0.
  double weight_lr_power = 2;   // Range: >= 0.
  void validate() const;
};

template <class T>
class ScheduleFree final : public Stepper<T> {
 public:
  // `x0`, the starting point, initializes z.
  ScheduleFree(Layout layout, ConstVectorRef<T> x0, const ScheduleFreeOptions& options = {},
               const Regularization& regularization = {});
  std::string name() const override { return options_.adam ? "schedule-free-adamw" : "schedule-free-sgd"; }
  void evaluation_point(ConstVectorRef<T> x, VectorRef<T> out) const override;
  double state_bytes_per_parameter() const override { return (options_.adam ? 2.0 : 1.0) * sizeof(T); }
  double bytes_moved_per_step() const override { return (options_.adam ? 7.0 : 5.0) * sizeof(T); }

 private:
  void update(T* x, const T* g, T lr, T clip_scale) override;
  void visit_method_state(StateVisitor<T>& v) override;
  // Projects z and moves y by the same change times y's weight on z.
  void project(T* x) override;
  void projection_changed() override;
  ScheduleFreeOptions options_;
  Vector<T> z_, v_;
  double weight_sum_ = 0, lr_max_ = 0;
  double y_weight_on_z_ = 0;  // of the last step: d y / d z_{t+1} = 1 - beta (1 - c)
  Vector<T> z_before_;        // z before its projection (only with a projection)
};

// Prodigy (Mishchenko & Defazio 2023), learning-rate free: estimates the
// distance to the solution d and steps Adam-like with lr d (keep lr = 1).
// [4: x0, s, m, v]
struct ProdigyOptions {
  double beta1 = 0.9;       // Range: [0, 1).
  double beta2 = 0.999;     // Range: [0, 1).
  double beta3 = -1;        // -1: sqrt(beta2). Range: [0, 1) or -1.
  double eps = 1e-8;        // Range: > 0.
  double weight_decay = 0;  // decoupled, scaled by d lr. Range: >= 0.
  double d0 = 1e-6;         // initial estimate of d. Range: > 0.
  double d_coef = 1;        // Range: > 0.
  double growth_rate = std::numeric_limits<double>::infinity();  // bound on d's growth per step. Range: >= 1.
  void validate() const;
};

template <class T>
class Prodigy final : public Stepper<T> {
 public:
  Prodigy(Layout layout, ConstVectorRef<T> x0, const ProdigyOptions& options = {},
          const Regularization& regularization = {});
  std::string name() const override { return "prodigy"; }
  double state_bytes_per_parameter() const override { return 4.0 * sizeof(T); }
  double bytes_moved_per_step() const override { return 12.0 * sizeof(T); }
  double d() const { return d_; }

 private:
  void update(T* x, const T* g, T lr, T clip_scale) override;
  void visit_method_state(StateVisitor<T>& v) override;
  ProdigyOptions options_;
  Vector<T> x0_, s_, m_, v_;
  double d_, d_max_, d_numerator_ = 0;
};

// Muon (Jordan et al. 2024) for matrix segments: momentum, orthogonalized by
// a quintic Newton–Schulz iteration, scaled so that its RMS matches AdamW's
// (0.2 sqrt(max(rows, cols)), Liu et al. 2025) or by sqrt(max(1, rows/cols))
// (rms_matching = false, the original); AdamW for every other segment.
// [1 per matrix element, 2 per other element]
struct MuonOptions {
  double momentum = 0.95;    // Range: [0, 1).
  bool nesterov = true;
  Index ns_steps = 5;        // Range: >= 1.
  bool rms_matching = true;
  double adam_beta1 = 0.9;   // for the non-matrix segments. Range: [0, 1).
  double adam_beta2 = 0.95;  // Range: [0, 1).
  double adam_eps = 1e-8;    // Range: > 0.
  void validate() const;
};

template <class T>
class Muon final : public Stepper<T> {
 public:
  Muon(Layout layout, const MuonOptions& options = {}, const Regularization& regularization = {});
  ~Muon() override;
  std::string name() const override { return "muon"; }
  double state_bytes_per_parameter() const override;
  double bytes_moved_per_step() const override;

 private:
  void update(T* x, const T* g, T lr, T clip_scale) override;
  void visit_method_state(StateVisitor<T>& v) override;
  MuonOptions options_;
  Vector<T> buffer_;                // momentum of the matrix segments, packed
  Vector<T> m_, v_;                 // AdamW moments of the other segments, packed
  std::vector<Index> state_offset_;  // per segment, into buffer_ or m_ and v_
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

// Lookahead (Zhang et al. 2019) around any stepper: every k steps the slow
// weights move alpha of the way to x, and x restarts from them. [+1]
struct LookaheadOptions {
  Index k = 5;         // Range: >= 1.
  double alpha = 0.5;  // Range: (0, 1].
  void validate() const;
};

// What Lookahead and Perturbed share: a stepper around another, whose
// evaluation point and projection are the inner one's. The inner stepper
// projects its own steps; a wrapper projects only what it moves itself.
template <class T>
class Wrapper : public Stepper<T> {
 public:
  void evaluation_point(ConstVectorRef<T> x, VectorRef<T> out) const override { inner_->evaluation_point(x, out); }
  Stepper<T>& inner() { return *inner_; }

 protected:
  // `what` names the wrapper in the error for a null inner stepper.
  Wrapper(std::unique_ptr<Stepper<T>> inner, std::string_view what);
  // The inner stepper's state, under "inner." names.
  void visit_inner_state(StateVisitor<T>& v);
  void projection_changed() override { inner_->set_projection(this->projection()); }
  std::unique_ptr<Stepper<T>> inner_;
};

template <class T>
class Lookahead final : public Wrapper<T> {
 public:
  Lookahead(std::unique_ptr<Stepper<T>> inner, ConstVectorRef<T> x0, const LookaheadOptions& options = {});
  std::string name() const override;
  double state_bytes_per_parameter() const override { return this->inner_->state_bytes_per_parameter() + sizeof(T); }
  double bytes_moved_per_step() const override;

 private:
  void update(T* x, const T* g, T lr, T clip_scale) override;
  void visit_method_state(StateVisitor<T>& v) override;
  // The synced weights.
  void project(T* x) override;
  LookaheadOptions options_;
  Vector<T> slow_;
};

// Perturbed gradient descent's noise (Jin, Ge, Netrapalli, Kakade and
// Jordan, "How to escape saddle points efficiently", ICML 2017) around any
// stepper: where ||g|| <= gradient_threshold and no perturbation came in the
// last `interval` steps, the step is x <- x + xi with xi uniform in the ball
// of radius `radius`, instead of the inner stepper's update, so the next
// gradient is taken at the perturbed point. The k-th perturbation's draw
// depends on the seed and k alone, so the state is two counters.
// minimize_with_stepper turns its gradient test into the paper's stopping
// rule: at a point that passes it, perturb; stop only once f fell by less
// than `decrease` * max(1, |f|) since the last perturbation (back at the
// same minimum, with high probability).
struct PerturbOptions {
  double radius = 1e-2;              // Range: > 0.
  double gradient_threshold = 1e-3;  // Range: >= 0.
  Index interval = 100;              // Range: >= 1. Escape takes about log(n) / (lr |lambda_min|) steps.
  std::uint64_t seed = 0;
  double decrease = 1e-6;            // Range: >= 0.
  void validate() const;
};

template <class T>
class Perturbed final : public Wrapper<T> {
 public:
  explicit Perturbed(std::unique_ptr<Stepper<T>> inner, const PerturbOptions& options = {});
  std::string name() const override;
  // The inner stepper's, plus the point the last perturbation left.
  double state_bytes_per_parameter() const override { return this->inner_->state_bytes_per_parameter() + sizeof(T); }
  // The inner step's, plus one read of g for its norm.
  double bytes_moved_per_step() const override { return this->inner_->bytes_moved_per_step() + sizeof(T); }
  const PerturbOptions& options() const { return options_; }

  // Perturb at the next step, whatever ||g|| and the interval.
  void request_perturbation() { requested_ = true; }
  std::int64_t perturbations() const { return count_; }
  // The step number of the last perturbation, 0 before the first.
  std::int64_t last_perturbation() const { return last_; }
  // x just before the last perturbation (not saved with the state).
  const Vector<T>& perturbed_from() const { return from_; }

 private:
  void update(T* x, const T* g, T lr, T clip_scale) override;
  void visit_method_state(StateVisitor<T>& v) override;
  // A perturbation.
  void project(T* x) override;
  PerturbOptions options_;
  std::int64_t count_ = 0, last_ = 0;
  bool requested_ = false;
  Vector<T> from_;
};

}  // namespace descent::optim
