#include "descent/optim/stepper.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include <fmt/format.h>

#include "descent/core/error.hpp"

namespace descent::optim {

void Regularization::validate() const {
  auto check = [](double v, const char* field) {
    DESCENT_REQUIRE(std::isfinite(v) && v >= 0, fmt::format("Regularization::{} must be finite and >= 0; got {}", field, v));
  };
  check(clip_norm, "clip_norm");
  check(clip_value, "clip_value");
  check(l2, "l2");
  check(decoupled_weight_decay, "decoupled_weight_decay");
  check(l1, "l1");
}

template <class T>
Stepper<T>::Stepper(Layout layout, const Regularization& regularization)
    : layout_(std::move(layout)), regularization_(regularization) {
  layout_.validate();
  regularization_.validate();
}

template <class T>
void Stepper<T>::step(VectorRef<T> x, ConstVectorRef<T> g, T lr) {
  double norm = 0;
  if (regularization_.clip_norm > 0 && g.size() == layout_.size()) {
    const T* gp = g.data();
    norm = std::sqrt(
        descent::detail::sum_over<double>(g.size(), [=](Index j) { return double(gp[j]) * double(gp[j]); }));
  }
  step(x, g, lr, norm);
}

template <class T>
void Stepper<T>::step(VectorRef<T> x, ConstVectorRef<T> g, T lr, double gradient_norm) {
  const Index n = layout_.size();
  // (Messages are formatted only on failure: step allocates nothing.)
  if (x.size() != n || g.size() != n)
    throw invalid_argument(
        fmt::format("{}: x has {} and g {} elements; the layout has {}", name(), x.size(), g.size(), n));
  if (!(std::isfinite(double(lr)) && lr >= 0))
    throw invalid_argument(fmt::format("{}: the learning rate must be finite and >= 0; got {}", name(), double(lr)));
  T clip_scale = T(1);
  // A non-finite norm leaves g as it is: the method then produces a
  // non-finite x, which the caller reports as divergence.
  if (regularization_.clip_norm > 0 && std::isfinite(gradient_norm) && gradient_norm > regularization_.clip_norm)
    clip_scale = T(regularization_.clip_norm / gradient_norm);
  ++steps_;
  update(x.data(), g.data(), lr, clip_scale);
  if (!after_.empty()) project(x.data());
}

template <class T>
void Stepper<T>::project(T* x) {
  after_.apply(VectorRef<T>(Eigen::Map<Vector<T>>(x, layout_.size())));
}

template <class T>
void Stepper<T>::set_projection(Projection p) {
  const Index n = layout_.size();
  p.validate(n);
  projection_ = std::move(p);
  runs_.clear();
  segment_runs_.assign(layout_.segments().size(), {0, 0});
  if (!fuses_box()) {
    after_ = projection_;
    projection_changed();
    return;
  }
  // Uniform boxes ride in the pass, cut at the segments' ends; the rest
  // (per-variable bounds, simplices, balls) is applied after it.
  std::vector<Projection::Piece> rest, boxes;
  for (const Projection::Piece& piece : projection_.pieces())
    (piece.kind == Projection::Kind::box ? boxes : rest).push_back(piece);
  after_ = Projection(std::move(rest));
  std::sort(boxes.begin(), boxes.end(), [](const auto& a, const auto& b) { return a.first() < b.first(); });
  const auto& segments = layout_.segments();
  for (std::size_t k = 0; k < segments.size(); ++k) {
    const Segment& s = segments[k];
    segment_runs_[k].first = Index(runs_.size());
    for (const Projection::Piece& box : boxes) {
      const Index first = std::max(box.first(), s.offset), last = std::min(box.last(n), s.offset + s.length);
      if (first < last) runs_.push_back({first - s.offset, last - s.offset, T(box.lower), T(box.upper)});
    }
    segment_runs_[k].second = Index(runs_.size());
  }
  projection_changed();
}

template <class T>
void Stepper<T>::visit_state(StateVisitor<T>& visitor) {
  visitor.counter("step", steps_);
  visit_method_state(visitor);
}

template <class T>
PassConstants<T> Stepper<T>::constants(const Segment& s, T lr, T clip_scale) const {
  const Regularization& r = regularization_;
  PassConstants<T> c;
  c.lr = lr * T(s.lr_scale);
  c.clip_scale = clip_scale;
  c.clip_value = r.clip_value > 0 ? T(r.clip_value) : std::numeric_limits<T>::infinity();
  c.l2 = T(r.l2 * s.decay);
  c.keep = T(1) - c.lr * T(r.decoupled_weight_decay * s.decay);
  c.l1_threshold = c.lr * T(r.l1 * s.decay);
  if (!runs_.empty()) {
    // s is one of layout_'s segments (the methods loop over them), else
    // the one at its offset with its length.
    const auto& segments = layout_.segments();
    const Segment* base = segments.data();
    std::size_t k = segments.size();
    if (!std::less<const Segment*>()(&s, base) && std::less<const Segment*>()(&s, base + segments.size())) {
      k = std::size_t(&s - base);
    } else {
      for (std::size_t i = 0; i < segments.size(); ++i)
        if (segments[i].offset == s.offset && segments[i].length == s.length) k = i;
    }
    if (k < segments.size()) {
      const auto [begin, end] = segment_runs_[k];
      c.boxes = runs_.data() + begin;
      c.box_count = end - begin;
    }
  }
  c.plain = clip_scale == T(1) && r.clip_value == 0 && c.l2 == T(0) && c.keep == T(1) && c.l1_threshold == T(0);
  return c;
}

template class Stepper<float>;
template class Stepper<double>;

}  // namespace descent::optim
