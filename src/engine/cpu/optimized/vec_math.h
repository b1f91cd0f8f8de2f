// Vector math shared by the optimized kernels, templated on the ISA traits (Avx2 / Avx512):
// exp, sigmoid, tanh and the fused activations of the IR (op.h `Activation`).
#pragma once

#include <type_traits>

#include "engine/ir/op.h"

namespace facepipe::engine::cpu::opt {

// exp(x) with ~1 ulp error over the float range: x = n ln2 + r, |r| <= ln2/2, exp(r) by its
// degree-6 Taylor polynomial (truncation error < 2e-7 relative), times 2^n. Inputs are clamped so
// that overflow saturates to ~3.4e38 and underflow to ~1e-38 instead of producing garbage.
template <class I> inline typename I::V vexp(typename I::V x) {
  using V = typename I::V;
  x = I::min(I::max(x, I::set1(-87.3f)), I::set1(88.3f));
  const V n = I::round_nearest(I::mul(x, I::set1(1.44269504088896341f)));
  V r = I::fnmadd(n, I::set1(0.693359375f), x);  // ln2 split in a short high part ...
  r = I::fnmadd(n, I::set1(-2.12194440e-4f), r);  // ... and the rest, so r stays exact
  V p = I::set1(1.f / 720.f);
  p = I::fmadd(p, r, I::set1(1.f / 120.f));
  p = I::fmadd(p, r, I::set1(1.f / 24.f));
  p = I::fmadd(p, r, I::set1(1.f / 6.f));
  p = I::fmadd(p, r, I::set1(0.5f));
  p = I::fmadd(p, r, I::set1(1.f));
  p = I::fmadd(p, r, I::set1(1.f));
  return I::mul(p, I::pow2(n));
}

template <class I> inline typename I::V vsigmoid(typename I::V x) {
  const typename I::V one = I::set1(1.f);
  return I::div(one, I::add(one, vexp<I>(I::sub(I::zero(), x))));
}

// tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|): absolute error ~1e-7 everywhere.
template <class I> inline typename I::V vtanh(typename I::V x) {
  using V = typename I::V;
  const V one = I::set1(1.f);
  const V e = vexp<I>(I::mul(I::abs(x), I::set1(-2.f)));
  return I::copysign(I::div(I::sub(one, e), I::add(one, e)), x);
}

// The fused activation `A` (compile-time, for loops that are dominated by it).
template <class I, Activation A> inline typename I::V activate(typename I::V x, typename I::V alpha) {
  if constexpr (A == Activation::kNone) {
    return x;
  } else if constexpr (A == Activation::kRelu) {
    return I::max(x, I::zero());
  } else if constexpr (A == Activation::kRelu6) {
    return I::min(I::max(x, I::zero()), I::set1(6.f));
  } else if constexpr (A == Activation::kReluN1To1) {
    return I::min(I::max(x, I::set1(-1.f)), I::set1(1.f));
  } else if constexpr (A == Activation::kTanh) {
    return vtanh<I>(x);
  } else if constexpr (A == Activation::kSigmoid) {
    return vsigmoid<I>(x);
  } else {  // kLeakyRelu
    return I::select_neg(x, I::mul(x, alpha), x);
  }
}

// Runtime-selected activation, for epilogues that run once per many FMAs.
template <class I> inline typename I::V activate(typename I::V x, Activation act, typename I::V alpha) {
  switch (act) {
    case Activation::kNone: return x;
    case Activation::kRelu: return activate<I, Activation::kRelu>(x, alpha);
    case Activation::kRelu6: return activate<I, Activation::kRelu6>(x, alpha);
    case Activation::kReluN1To1: return activate<I, Activation::kReluN1To1>(x, alpha);
    case Activation::kTanh: return activate<I, Activation::kTanh>(x, alpha);
    case Activation::kSigmoid: return activate<I, Activation::kSigmoid>(x, alpha);
    case Activation::kLeakyRelu: return activate<I, Activation::kLeakyRelu>(x, alpha);
  }
  return x;
}

// Calls fn(std::integral_constant<Activation, A>{}) for the runtime value `act`, so that a loop
// can be instantiated once per activation with no switch inside.
template <typename Fn> inline decltype(auto) dispatch_activation(Activation act, Fn&& fn) {
  switch (act) {
    case Activation::kRelu: return fn(std::integral_constant<Activation, Activation::kRelu>{});
    case Activation::kRelu6: return fn(std::integral_constant<Activation, Activation::kRelu6>{});
    case Activation::kReluN1To1: return fn(std::integral_constant<Activation, Activation::kReluN1To1>{});
    case Activation::kTanh: return fn(std::integral_constant<Activation, Activation::kTanh>{});
    case Activation::kSigmoid: return fn(std::integral_constant<Activation, Activation::kSigmoid>{});
    case Activation::kLeakyRelu: return fn(std::integral_constant<Activation, Activation::kLeakyRelu>{});
    case Activation::kNone: break;
  }
  return fn(std::integral_constant<Activation, Activation::kNone>{});
}

}  // namespace facepipe::engine::cpu::opt
