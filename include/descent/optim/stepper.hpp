// Stochastic steppers: the optimizers that train models.
//
// A stepper keeps three things apart (docs/architecture.md):
//   - its options, the hyper-parameters, with the literature's defaults;
//   - its state, flat vectors the length of x (moments, buffers) and a few
//     scalars, nothing else, so that a checkpoint is just the state;
//   - step(x, g, lr): one update of x from the gradient g at learning rate
//     lr, in one fused pass over memory, threaded and vectorized. The
//     learning rate comes from outside (a Schedule), per step.
//
// Clipping and regularization ride inside that pass (Regularization below),
// and a Layout of segments gives per-segment learning-rate multipliers and
// decay exemptions, like torch's parameter groups. A Projection keeps x in
// a convex set (set_projection): a box is clamped inside the same pass.
//
//   Layout layout = Layout::single(n);
//   Adam<float> adam(layout, {.beta2 = 0.99}, {.decoupled_weight_decay = 0.01});
//   for (Index k = 0; k < steps; ++k) {
//     loss.gradient(x, g);
//     adam.step(x, g, schedule.lr(base_lr, k));
//   }
//
// Glossary: t the step number (1 for the first step), lr the learning rate
// of this step (times the segment's lr_scale), g the gradient, m and v the
// first and second moment estimates.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "descent/core/projection.hpp"
#include "descent/core/segments.hpp"
#include "descent/core/types.hpp"

namespace descent::optim {

// What rides inside every stepper's pass, in this order:
//   1. clip by global norm: g *= min(1, clip_norm / ||g||_2), ||g|| over all of x;
//   2. clip by value: g_i = clamp(g_i, -clip_value, clip_value);
//   3. L2 (coupled weight decay, torch's weight_decay for SGD and Adam):
//      g_i += l2 * x_i;
//   4. decoupled weight decay (Loshchilov & Hutter): x_i *= 1 - lr * decoupled_weight_decay,
//      before the method's update;
//   5. the method's update;
//   6. L1 by its proximal step (soft-thresholding): x_i = sign(x_i) max(|x_i| - lr * l1, 0).
// 0 turns each one off. 3, 4 and 6 are scaled by the segment's decay.
struct Regularization {
  double clip_norm = 0;               // Range: >= 0.
  double clip_value = 0;              // Range: >= 0.
  double l2 = 0;                      // Range: >= 0.
  double decoupled_weight_decay = 0;  // Range: >= 0.
  double l1 = 0;                      // Range: >= 0.

  // Throws descent::invalid_argument naming the field if one is out of range.
  void validate() const;
};

// Lists a stepper's state, for saving and loading (io/ checkpoints). The
// same visit serves both directions: a saver reads the references, a loader
// writes them.
template <class T>
class StateVisitor {
 public:
  virtual ~StateVisitor() = default;
  virtual void vector(std::string_view name, Vector<T>& v) = 0;
  virtual void scalar(std::string_view name, double& s) = 0;
  virtual void counter(std::string_view name, std::int64_t& c) = 0;
};

// A box [lower, upper] on the elements [first, last) of one segment,
// counted from the segment's start (internal; see set_projection).
template <class T>
struct BoxRun {
  Index first, last;
  T lower, upper;
};

// The per-segment constants of one pass (internal; see Regularization).
template <class T>
struct PassConstants {
  T lr;            // this segment's learning rate
  T clip_scale;    // global-norm clipping factor, 1 when off
  T clip_value;    // +inf when off
  T l2;            // coupled weight decay
  T keep;          // 1 - lr * decoupled weight decay
  T l1_threshold;  // lr * l1
  bool plain;      // every modifier is off: the fast path
  // The boxes to clamp x to after the update, in order, disjoint (none: no box).
  const BoxRun<T>* boxes = nullptr;
  Index box_count = 0;
};

template <class T>
class Stepper {
 public:
  Stepper(Layout layout, const Regularization& regularization);
  virtual ~Stepper() = default;
  Stepper(const Stepper&) = delete;
  Stepper& operator=(const Stepper&) = delete;

  // One update of x from the gradient g at learning rate lr. x and g have
  // layout().size() elements; throws descent::invalid_argument otherwise,
  // or if lr is negative or not finite. Makes no heap allocation.
  void step(VectorRef<T> x, ConstVectorRef<T> g, T lr);

  // step() for a stepper made by shard(), whose x and g are one slice of
  // longer vectors: `gradient_norm` is ||g|| over the whole gradient, for
  // clip_norm (unused when clipping by norm is off).
  void step(VectorRef<T> x, ConstVectorRef<T> g, T lr, double gradient_norm);

  // A stepper of the same method, options and regularization over `slice`
  // (a Layout::slice of layout()), with fresh state: sharding the update
  // across data-parallel ranks, each updating its own slice of x with its
  // slice of the state. Element-wise methods (SGD and its momentum,
  // AdaGrad, RMSProp, AdaDelta, the Adam family, Lion) give one whose steps
  // are bitwise those of this stepper on that slice; nullptr for the
  // methods that couple the elements of a matrix or of all of x (Adafactor,
  // Muon, Prodigy, schedule-free, Lookahead), which are stepped whole.
  virtual std::unique_ptr<Stepper<T>> shard(Layout slice) const {
    (void)slice;
    return nullptr;
  }

  // The method's name as the command line spells it ("adam", "adamw", ...).
  virtual std::string name() const = 0;

  // Every piece of state, the step counter included.
  void visit_state(StateVisitor<T>& visitor);

  // The point at which to evaluate or save the model. x itself for every
  // method except the schedule-free ones, whose x is the gradient point y
  // and whose averaged iterate is what generalizes.
  virtual void evaluation_point(ConstVectorRef<T> x, VectorRef<T> out) const { out = x; }

  // Bytes of state per parameter, for docs and benchmarks (an average for
  // shape-aware methods).
  virtual double state_bytes_per_parameter() const = 0;

  // Bytes one step reads and writes, counting each array once per pass.
  virtual double bytes_moved_per_step() const = 0;

  // Keeps x in a convex set: after every step, x <- P(x) (projected
  // stochastic gradient). The element-wise methods (SGD and its momentum,
  // AdaGrad, RMSProp, AdaDelta, the Adam family, Lion) clamp to a box inside
  // their own pass, so a box costs no extra pass over memory; other sets
  // (simplex, L1 and L2 balls, per-variable bounds) and the other methods
  // take one pass after the update. Schedule-free methods project their
  // base sequence z and move y with it, so that y and the averaged iterate
  // stay in the set; Lookahead constrains its inner stepper and the synced
  // weights. x itself is not moved by this call: project the start with
  // p.apply(x). Throws descent::invalid_argument unless p.validate(size())
  // passes. An empty Projection removes the constraint.
  void set_projection(Projection p);
  const Projection& projection() const { return projection_; }

  // Steps taken so far.
  std::int64_t steps() const { return steps_; }
  const Layout& layout() const { return layout_; }
  const Regularization& regularization() const { return regularization_; }

 protected:
  // The method's update, with steps() already counting this step (t = 1 on
  // the first call). `clip_scale` is the global-norm clipping factor.
  virtual void update(T* x, const T* g, T lr, T clip_scale) = 0;
  virtual void visit_method_state(StateVisitor<T>& visitor) = 0;

  // The constants of one segment's pass (with its boxes when fuses_box()).
  PassConstants<T> constants(const Segment& s, T lr, T clip_scale) const;

  // Whether every segment's update goes through elementwise_pass with
  // constants(): then boxes ride inside the pass. False by default.
  virtual bool fuses_box() const { return false; }
  // x <- P(x) for what the pass did not already do (called after update()
  // when a projection is set). The default applies the remaining pieces.
  virtual void project(T* x);
  // Called by set_projection after the new projection is in place.
  virtual void projection_changed() {}

  // The pieces project() applies: all of them, or those that are no box
  // when fuses_box().
  const Projection& remaining_projection() const { return after_; }

  Layout layout_;
  Regularization regularization_;
  std::int64_t steps_ = 0;

 private:
  Projection projection_;
  Projection after_;
  std::vector<BoxRun<T>> runs_;                 // the fused boxes, segment by segment
  std::vector<std::pair<Index, Index>> segment_runs_;  // [begin, end) into runs_ per segment
};

// Internal: the fused element-wise pass shared by the element-wise methods.
// kernel(j, x_j, g_j) returns the new x_j, where x_j already carries the
// decoupled decay and g_j the clipping and L2; the L1 prox is applied after,
// then the clamp to the segment's boxes (PassConstants::boxes).
// j indexes the segment (0 .. s.length), so state pointers are offset by the
// caller.
template <class T, class Kernel>
void elementwise_pass(Index n, T* x, const T* g, const PassConstants<T>& c, const Kernel& kernel);

}  // namespace descent::optim

#include "descent/optim/detail/elementwise_pass.hpp"
