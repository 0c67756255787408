// A type-erased objective, for choosing the problem at run time (the CLI,
// bindings). Templates over the concrete type stay the fast path; the cost
// here is one virtual call per evaluation.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include "descent/core/error.hpp"
#include "descent/core/objective.hpp"

namespace descent {

template <class T>
class AnyObjective {
 public:
  // Takes ownership of a copy (or the moved value) of f.
  template <class F>
    requires(DifferentiableObjective<std::decay_t<F>, T> &&
             !std::is_same_v<std::decay_t<F>, AnyObjective>)
  AnyObjective(F&& f)  // NOLINT(google-explicit-constructor): erasure is the point
      : self_(std::make_shared<Model<std::decay_t<F>>>(std::forward<F>(f))) {}

  // Refers to f without owning it; f must outlive every copy of the result.
  template <DifferentiableObjective<T> F>
  static AnyObjective reference(F& f) {
    return AnyObjective(std::make_shared<Model<F*>>(&f));
  }

  T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) { return self_->value_and_gradient(x, g); }
  T value(ConstVectorRef<T> x) { return self_->value(x); }
  bool has_hessian() const { return self_->has_hessian(); }
  bool has_hessian_vector() const { return self_->has_hessian_vector(); }
  void hessian(ConstVectorRef<T> x, MatrixRef<T> h) { self_->hessian(x, h); }
  void hessian_vector(ConstVectorRef<T> x, ConstVectorRef<T> v, VectorRef<T> out) {
    self_->hessian_vector(x, v, out);
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) = 0;
    virtual T value(ConstVectorRef<T> x) = 0;
    virtual bool has_hessian() const = 0;
    virtual bool has_hessian_vector() const = 0;
    virtual void hessian(ConstVectorRef<T> x, MatrixRef<T> h) = 0;
    virtual void hessian_vector(ConstVectorRef<T> x, ConstVectorRef<T> v, VectorRef<T> out) = 0;
  };

  // Holds F by value, or a pointer to it when F is a pointer type.
  template <class F>
  struct Model final : Concept {
    explicit Model(F f) : f_(std::move(f)) {}
    using Inner = std::remove_pointer_t<F>;
    Inner& get() {
      if constexpr (std::is_pointer_v<F>) return *f_; else return f_;
    }
    const Inner& get() const {
      if constexpr (std::is_pointer_v<F>) return *f_; else return f_;
    }

    T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) override {
      return get().value_and_gradient(x, g);
    }
    T value(ConstVectorRef<T> x) override {
      if constexpr (HasValue<Inner, T>) {
        return get().value(x);
      } else {
        scratch_.resize(x.size());
        return get().value_and_gradient(x, scratch_);
      }
    }
    bool has_hessian() const override { return supports_hessian<T>(get()); }
    bool has_hessian_vector() const override { return supports_hessian_vector<T>(get()); }
    void hessian(ConstVectorRef<T> x, MatrixRef<T> h) override {
      if constexpr (HasHessian<Inner, T>) get().hessian(x, h);
      else throw invalid_argument("this objective has no Hessian");
    }
    void hessian_vector(ConstVectorRef<T> x, ConstVectorRef<T> v, VectorRef<T> out) override {
      if constexpr (HasHessianVector<Inner, T>) get().hessian_vector(x, v, out);
      else throw invalid_argument("this objective has no Hessian-vector product");
    }

    F f_;
    Vector<T> scratch_;
  };

  explicit AnyObjective(std::shared_ptr<Concept> self) : self_(std::move(self)) {}
  std::shared_ptr<Concept> self_;
};

}  // namespace descent
