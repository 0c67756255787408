// Reverse-mode automatic differentiation: the tape and the tensors on it.
//
// A Tape records every operation of a forward pass as a node: its output
// shape, value and gradient buffers, its inputs and a backward function.
// backward(loss) walks the nodes in reverse and accumulates gradients into
// every node that needs one and into no other (Tape::requires_grad below).
//
//   Tape<float> tape;
//   auto W = tape.parameter(params.data(), grads.data(), {10, 784});  // a view
//   auto x = tape.constant(batch.data(), {64, 784});                  // no gradient
//   auto loss = cross_entropy(linear(x, W, b), labels);
//   tape.backward(loss);      // grads += d loss / d W, d loss / d b
//   tape.reset();             // ready for the next batch, buffers kept
//
// Storage. Parameters and their gradients are views into the caller's flat
// buffers (docs/architecture.md): backward accumulates into them, as
// PyTorch's .grad does, so the caller zeroes them between steps. Everything
// else (activations, their gradients, what an op saves for its backward)
// lives in the tape's arena. reset() forgets the nodes but keeps the memory:
// after a step or two of warm-up a training step allocates nothing. A
// Tensor is a handle (tape, node index) valid until the next reset().
//
// No-gradient mode (NoGradGuard, or set_grad_enabled(false)) evaluates
// without recording backward functions or gradient buffers, for evaluation
// and inference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "descent/autograd/shape.hpp"
#include "descent/core/types.hpp"

namespace descent::autograd {

// Bump allocator over 64-byte aligned blocks. reset() makes all memory free
// again; when a pass needed more than one block, the next pass gets one
// block as large as all of them, so allocation stops after warm-up.
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena();

  template <class U>
  U* allocate(Index n) {
    return static_cast<U*>(allocate_bytes(static_cast<std::size_t>(n) * sizeof(U)));
  }
  void* allocate_bytes(std::size_t bytes);
  void reset();
  // Bytes held, in use or not.
  std::size_t capacity() const;
  // The bytes handed out since the last reset().
  std::size_t used() const;

 private:
  struct Block {
    std::byte* data;
    std::size_t size;
    std::size_t used;
  };
  void add_block(std::size_t min_bytes);
  std::vector<Block> blocks_;
};

template <class T>
class Tape;
template <class T>
class Tensor;
template <class T>
struct Node;

// What an operation's backward receives: the tape and its own node. It reads
// node.grad (d loss / d output) and adds to the gradient of each input whose
// grad pointer is not null.
template <class T>
using BackwardFn = void (*)(Tape<T>&, const Node<T>&);

template <class T>
struct Node {
  Shape shape;
  T* value = nullptr;
  T* grad = nullptr;                 // null: no gradient flows here
  BackwardFn<T> backward = nullptr;  // null: a leaf, or recorded without gradients
  std::int32_t first_input = 0;      // into Tape::inputs_
  std::int32_t num_inputs = 0;
  // The op's own arguments and saved buffers (arena memory).
  std::array<Index, 8> iarg{};
  std::array<double, 4> farg{};
  std::array<void*, 2> saved{};
};

// A handle to a node of a tape: cheap to copy, valid until the tape's reset().
template <class T>
class Tensor {
 public:
  Tensor() = default;
  Tensor(Tape<T>* tape, std::int32_t id) : tape_(tape), id_(id) {}

  bool defined() const { return tape_ != nullptr; }
  Tape<T>& tape() const { return *tape_; }
  std::int32_t id() const { return id_; }
  const Node<T>& node() const;

  const Shape& shape() const { return node().shape; }
  int rank() const { return shape().rank(); }
  Index size() const { return shape().size(); }
  Index dim(int i) const { return shape()[i]; }
  T* data() const { return node().value; }
  T* grad() const { return node().grad; }
  bool requires_grad() const { return node().grad != nullptr; }
  // The value of a one-element tensor.
  T item() const;

  // The values (or gradient) as a flat vector view.
  Eigen::Map<Vector<T>> values() const { return {data(), size()}; }
  Eigen::Map<Vector<T>> gradient() const { return {grad(), grad() ? size() : 0}; }

 private:
  Tape<T>* tape_ = nullptr;
  std::int32_t id_ = -1;
};

template <class T>
class Tape {
 public:
  Tape() = default;
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // Leaves. A parameter views caller-owned value and gradient buffers of
  // shape.size() elements (grad may be null: a frozen parameter); the tape
  // never writes its value. A constant views a value that receives no
  // gradient. input()
  // and variable() allocate in the arena (uninitialized); a variable has a
  // zeroed gradient buffer of its own.
  Tensor<T> parameter(const T* value, T* grad, const Shape& shape);
  Tensor<T> constant(const T* value, const Shape& shape);
  Tensor<T> input(const Shape& shape);
  Tensor<T> variable(const Shape& shape);
  Tensor<T> scalar(T value);
  Tensor<T> full(const Shape& shape, T value);

  // Adds seed * d root / d (every node that needs it) to the gradients. The
  // root must have one element. May be called more than once per forward
  // pass (gradients add up).
  void backward(const Tensor<T>& root, T seed = T(1));

  // Forgets every node and makes the arena free again (tensors of this tape
  // become invalid); keeps capacity so that the next pass allocates nothing.
  void reset();

  bool grad_enabled() const { return grad_enabled_; }
  void set_grad_enabled(bool on) { grad_enabled_ = on; }

  Index num_nodes() const { return static_cast<Index>(nodes_.size()); }
  std::size_t arena_bytes() const { return arena_.capacity(); }
  // What the last pass took of the arena: its activations and saved buffers.
  std::size_t arena_used_bytes() const { return arena_.used(); }

  // For operations. record() adds a node whose value is allocated
  // (uninitialized); it requires a gradient when gradients are enabled and
  // any input requires one, and then gets a gradient buffer (zeroed by
  // backward() before use) and keeps `backward`. Returns the new tensor.
  Tensor<T> record(const Shape& shape, std::span<const Tensor<T>> inputs, BackwardFn<T> backward);
  Tensor<T> record(const Shape& shape, std::initializer_list<Tensor<T>> inputs, BackwardFn<T> backward) {
    return record(shape, std::span<const Tensor<T>>(inputs.begin(), inputs.size()), backward);
  }
  // A node that shares value and gradient with `of` (a reshape).
  Tensor<T> alias(const Tensor<T>& of, const Shape& shape);

  Node<T>& node(std::int32_t id) { return nodes_[static_cast<std::size_t>(id)]; }
  const Node<T>& node(std::int32_t id) const { return nodes_[static_cast<std::size_t>(id)]; }
  // The k-th input of a node.
  const Node<T>& input_of(const Node<T>& n, int k) const {
    return nodes_[static_cast<std::size_t>(inputs_[static_cast<std::size_t>(n.first_input + k)])];
  }
  template <class U>
  U* allocate(Index n) {
    return arena_.allocate<U>(n);
  }

 private:
  Tensor<T> push(Node<T> node);

  std::vector<Node<T>> nodes_;
  std::vector<std::int32_t> inputs_;
  Arena arena_;
  bool grad_enabled_ = true;
};

// Turns gradient recording off for its lifetime, restoring the previous
// setting afterwards.
template <class T>
class NoGradGuard {
 public:
  explicit NoGradGuard(Tape<T>& tape) : tape_(tape), previous_(tape.grad_enabled()) { tape.set_grad_enabled(false); }
  ~NoGradGuard() { tape_.set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  Tape<T>& tape_;
  bool previous_;
};

template <class T>
const Node<T>& Tensor<T>::node() const {
  return tape_->node(id_);
}

template <class T>
T Tensor<T>::item() const {
  DESCENT_REQUIRE(size() == 1, "Tensor::item: the tensor has shape " + shape().str() + ", not one element");
  return data()[0];
}

extern template class Tape<float>;
extern template class Tape<double>;

}  // namespace descent::autograd
