#include "descent/nn/loss.hpp"

#include <array>
#include <utility>

#include <fmt/format.h>

namespace descent::nn {

namespace {
constexpr std::array<std::pair<LossKind, const char*>, 6> kNames{{{LossKind::mse, "mse"},
                                                                  {LossKind::mae, "mae"},
                                                                  {LossKind::huber, "huber"},
                                                                  {LossKind::cross_entropy, "cross_entropy"},
                                                                  {LossKind::bce, "bce"},
                                                                  {LossKind::hinge, "hinge"}}};
}  // namespace

LossKind parse_loss(const std::string& name) {
  if (name == "l1") return LossKind::mae;
  std::string known;
  for (const auto& [kind, text] : kNames) {
    if (name == text) return kind;
    known += known.empty() ? text : std::string(", ") + text;
  }
  throw invalid_argument("unknown loss '" + name + "' (known: " + known + ")");
}

std::string Loss::name() const {
  for (const auto& [k, text] : kNames)
    if (k == kind) return text;
  return "unknown";
}

template <class T>
autograd::Tensor<T> apply_loss(const Loss& loss, const autograd::Tensor<T>& output, const T* targets,
                               std::span<const Index> labels) {
  using namespace autograd;
  if (loss.kind == LossKind::cross_entropy) {
    const Tensor<T> logits = output.rank() == 2 ? output : flatten(output, 1);
    return cross_entropy(logits, labels, static_cast<T>(loss.label_smoothing));
  }
  DESCENT_REQUIRE(targets != nullptr, "apply_loss: loss " + loss.name() + " needs target values");
  const Tensor<T> target = output.tape().constant(targets, output.shape());
  switch (loss.kind) {
    case LossKind::mse: return mse_loss(output, target);
    case LossKind::mae: return l1_loss(output, target);
    case LossKind::huber: return huber_loss(output, target, static_cast<T>(loss.delta));
    case LossKind::bce: return binary_cross_entropy_with_logits(output, target);
    case LossKind::hinge: return hinge_loss(output, target);
    case LossKind::cross_entropy: break;
  }
  throw invalid_argument("apply_loss: unknown loss");
}

template autograd::Tensor<float> apply_loss<float>(const Loss&, const autograd::Tensor<float>&, const float*,
                                                   std::span<const Index>);
template autograd::Tensor<double> apply_loss<double>(const Loss&, const autograd::Tensor<double>&, const double*,
                                                     std::span<const Index>);

}  // namespace descent::nn
