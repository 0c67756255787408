#include "descent/autograd/tape.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace descent::autograd {

namespace {
constexpr std::size_t kAlign = 64;
constexpr std::size_t kMinBlock = std::size_t(1) << 16;
std::size_t round_up(std::size_t n) { return (n + kAlign - 1) & ~(kAlign - 1); }
}  // namespace

Arena::~Arena() {
  for (auto& b : blocks_) ::operator delete(b.data, std::align_val_t(kAlign));
}

void Arena::add_block(std::size_t min_bytes) {
  const std::size_t last = blocks_.empty() ? 0 : blocks_.back().size;
  const std::size_t size = round_up(std::max({min_bytes, 2 * last, kMinBlock}));
  auto* data = static_cast<std::byte*>(::operator new(size, std::align_val_t(kAlign)));
  blocks_.push_back({data, size, 0});
}

void* Arena::allocate_bytes(std::size_t bytes) {
  bytes = round_up(std::max<std::size_t>(bytes, 1));
  if (blocks_.empty() || blocks_.back().size - blocks_.back().used < bytes) add_block(bytes);
  Block& b = blocks_.back();
  void* p = b.data + b.used;
  b.used += bytes;
  return p;
}

void Arena::reset() {
  if (blocks_.size() > 1) {
    // This pass overflowed its first block: replace them all by one block
    // large enough for the whole pass.
    std::size_t total = 0;
    for (auto& b : blocks_) {
      total += b.size;
      ::operator delete(b.data, std::align_val_t(kAlign));
    }
    blocks_.clear();
    add_block(total);
  }
  for (auto& b : blocks_) b.used = 0;
}

std::size_t Arena::capacity() const {
  std::size_t total = 0;
  for (auto& b : blocks_) total += b.size;
  return total;
}

std::size_t Arena::used() const {
  std::size_t total = 0;
  for (auto& b : blocks_) total += b.used;
  return total;
}

template <class T>
Tensor<T> Tape<T>::push(Node<T> node) {
  DESCENT_REQUIRE(nodes_.size() < std::size_t(INT32_MAX), "Tape: too many nodes");
  nodes_.push_back(node);
  return Tensor<T>(this, static_cast<std::int32_t>(nodes_.size() - 1));
}

template <class T>
Tensor<T> Tape<T>::parameter(const T* value, T* grad, const Shape& shape) {
  Node<T> n;
  n.shape = shape;
  n.value = const_cast<T*>(value);  // leaves are never written: no operation writes its inputs
  n.grad = grad_enabled_ ? grad : nullptr;
  n.first_input = static_cast<std::int32_t>(inputs_.size());
  return push(n);
}

template <class T>
Tensor<T> Tape<T>::constant(const T* value, const Shape& shape) {
  return parameter(value, nullptr, shape);
}

template <class T>
Tensor<T> Tape<T>::input(const Shape& shape) {
  return parameter(allocate<T>(shape.size()), nullptr, shape);
}

template <class T>
Tensor<T> Tape<T>::variable(const Shape& shape) {
  T* grad = nullptr;
  if (grad_enabled_) {
    grad = allocate<T>(shape.size());
    std::fill_n(grad, shape.size(), T(0));
  }
  return parameter(allocate<T>(shape.size()), grad, shape);
}

template <class T>
Tensor<T> Tape<T>::scalar(T value) {
  return full(Shape{}, value);
}

template <class T>
Tensor<T> Tape<T>::full(const Shape& shape, T value) {
  Tensor<T> t = input(shape);
  std::fill_n(t.data(), shape.size(), value);
  return t;
}

template <class T>
Tensor<T> Tape<T>::record(const Shape& shape, std::span<const Tensor<T>> inputs, BackwardFn<T> backward) {
  Node<T> n;
  n.shape = shape;
  n.first_input = static_cast<std::int32_t>(inputs_.size());
  n.num_inputs = static_cast<std::int32_t>(inputs.size());
  bool needs_grad = false;
  for (const auto& t : inputs) {
    DESCENT_ASSERT(&t.tape() == this);
    inputs_.push_back(t.id());
    needs_grad = needs_grad || t.requires_grad();
  }
  needs_grad = needs_grad && grad_enabled_;
  n.value = allocate<T>(shape.size());
  if (needs_grad) {
    n.grad = allocate<T>(shape.size());  // zeroed by backward(), which owns it
    n.backward = backward;
  }
  return push(n);
}

template <class T>
Tensor<T> Tape<T>::alias(const Tensor<T>& of, const Shape& shape) {
  DESCENT_REQUIRE(shape.size() == of.size(),
          "reshape: cannot view shape " + of.shape().str() + " as " + shape.str() + " (sizes differ)");
  Node<T> n;
  n.shape = shape;
  n.value = of.data();
  n.grad = grad_enabled_ ? of.grad() : nullptr;
  n.first_input = static_cast<std::int32_t>(inputs_.size());
  n.num_inputs = 1;  // no backward of its own, but backward() must reach `of` through it
  inputs_.push_back(of.id());
  return push(n);
}

template <class T>
void Tape<T>::backward(const Tensor<T>& root, T seed) {
  DESCENT_REQUIRE(&root.tape() == this, "Tape::backward: the tensor belongs to another tape");
  DESCENT_REQUIRE(root.size() == 1, "Tape::backward: the root has shape " + root.shape().str() +
                                ", not one element (reduce it to a scalar loss first)");
  if (!root.requires_grad()) return;  // nothing it depends on needs a gradient
  const auto last = static_cast<std::size_t>(root.id());
  // Recorded nodes (not leaves, which accumulate) start from a zero gradient
  // on every call, so that a second backward over the same pass does not
  // propagate again what the first one left in them.
  for (std::size_t id = 0; id <= last; ++id) {
    const Node<T>& n = nodes_[id];
    if (n.backward != nullptr) std::memset(n.grad, 0, sizeof(T) * static_cast<std::size_t>(n.shape.size()));
  }
  // Only the nodes the root depends on run their backward: a branch it does
  // not use (a metric, another loss) adds nothing, not even 0 * inf = NaN.
  bool* reached = allocate<bool>(root.id() + 1);
  std::fill_n(reached, last + 1, false);
  reached[last] = true;
  root.grad()[0] += seed;
  for (std::size_t id = last + 1; id-- > 0;) {
    if (!reached[id]) continue;
    const Node<T>& n = nodes_[id];
    for (std::int32_t k = 0; k < n.num_inputs; ++k)
      reached[static_cast<std::size_t>(inputs_[static_cast<std::size_t>(n.first_input + k)])] = true;
    if (n.backward != nullptr) n.backward(*this, n);
  }
}

template <class T>
void Tape<T>::reset() {
  nodes_.clear();
  inputs_.clear();
  arena_.reset();
}

template class Tape<float>;
template class Tape<double>;

}  // namespace descent::autograd
