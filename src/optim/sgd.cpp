#include "descent/core/memory.hpp"
#include "descent/optim/detail/check.hpp"
#include "descent/optim/steppers.hpp"

namespace descent::optim {

void SgdOptions::validate() const {
  detail::check_range(momentum, 0, 1, "SgdOptions::momentum");
  detail::check_range(dampening, 0, 1, "SgdOptions::dampening", true);
  DESCENT_REQUIRE(!nesterov || (momentum > 0 && dampening == 0),
          fmt::format("SgdOptions::nesterov needs momentum > 0 and dampening == 0; got momentum {} and dampening {}",
                      momentum, dampening));
}

template <class T>
Sgd<T>::Sgd(Layout layout, const SgdOptions& options, const Regularization& regularization)
    : Stepper<T>(std::move(layout), regularization), options_(options) {
  options_.validate();
  if (options_.momentum > 0) buffer_ = descent::detail::workspace_zeros<T>(this->layout_.size());
}

template <class T>
std::string Sgd<T>::name() const {
  if (options_.nesterov) return "nesterov";
  return options_.momentum > 0 ? "momentum" : "sgd";
}

template <class T>
double Sgd<T>::state_bytes_per_parameter() const {
  return options_.momentum > 0 ? sizeof(T) : 0.0;
}

template <class T>
double Sgd<T>::bytes_moved_per_step() const {
  // x read and written, g read; the buffer read and written.
  return (options_.momentum > 0 ? 5.0 : 3.0) * sizeof(T);
}

template <class T>
void Sgd<T>::update(T* x, const T* g, T lr, T clip_scale) {
  const T mu = T(options_.momentum), damp = T(1 - options_.dampening);
  const bool first = this->steps_ == 1, nesterov = options_.nesterov;
  for (const Segment& s : this->layout_.segments()) {
    const PassConstants<T> c = this->constants(s, lr, clip_scale);
    const T rate = c.lr;
    if (buffer_.size() == 0) {
      elementwise_pass(s.length, x + s.offset, g + s.offset, c, [=](Index, T xj, T gj) { return xj - rate * gj; });
      continue;
    }
    T* b = buffer_.data() + s.offset;
    elementwise_pass(s.length, x + s.offset, g + s.offset, c, [=](Index j, T xj, T gj) {
      const T bj = first ? gj : mu * b[j] + damp * gj;
      b[j] = bj;
      return xj - rate * (nesterov ? gj + mu * bj : bj);
    });
  }
}

template <class T>
void Sgd<T>::visit_method_state(StateVisitor<T>& v) {
  if (buffer_.size() > 0) v.vector("momentum_buffer", buffer_);
}

template class Sgd<float>;
template class Sgd<double>;

}  // namespace descent::optim
