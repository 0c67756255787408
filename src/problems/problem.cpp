#include "descent/problems/problem.hpp"

namespace descent::problems {

double Problem::value(ConstVectorRef<double> x) const {
  scratch_g_.resize(x.size());
  return value_and_gradient(x, scratch_g_);
}

void Problem::hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v,
                             VectorRef<double> out) const {
  scratch_h_.resize(x.size(), x.size());
  hessian(x, scratch_h_);
  out.noalias() = scratch_h_ * v;
}

}  // namespace descent::problems
