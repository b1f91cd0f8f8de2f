// Optimized elementwise kernels against the reference: binary ops over the broadcast fast paths
// (same shape, scalar either side, per-channel vector, row broadcasts) with every fused
// activation, unary activations, PReLU.
#include <gtest/gtest.h>

#include "engine/optimized_kernel_harness.h"

namespace facepipe::test {
namespace {

using engine::Activation;
using engine::DType;
using engine::OpType;
using engine::Shape;

KernelFactory default_factory() {
  return [](const engine::Op& op, std::span<const engine::TensorView> in, std::span<const engine::TensorDesc> out) {
    return engine::cpu::make_optimized_kernel(op, in, out);
  };
}

TEST(OptimizedElementwise, BinaryBroadcastPatternsAndActivations) {
  const OpType ops[] = {OpType::kAdd, OpType::kSub, OpType::kMul, OpType::kDiv,
                        OpType::kMaximum, OpType::kMinimum, OpType::kSquaredDifference};
  const Activation acts[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1,
                             Activation::kTanh, Activation::kSigmoid, Activation::kLeakyRelu};
  struct Pattern {
    Shape a, b;
  };
  const Pattern patterns[] = {
      {{1, 5, 7, 13}, {1, 5, 7, 13}},  // same shape (residual add)
      {{2, 3, 1, 17}, {}},             // scalar b
      {{1}, {2, 3, 5, 3}},             // scalar a (rank 1)
      {{2, 4, 5, 24}, {24}},           // per-channel b
      {{1, 1, 1, 16}, {1, 3, 4, 16}},  // per-channel a
      {{2, 3, 5, 13}, {2, 3, 1, 13}},  // broadcast over width
      {{2, 6, 9}, {2, 1, 9}},          // rank 3 middle broadcast
      {{3, 1, 8}, {1, 4, 8}},          // two-sided broadcast, vector rows
      {{1, 1, 1, 1}, {1, 1, 1, 1}},    // single element
      {{1, 40, 40, 64}, {1, 40, 40, 64}},  // large enough to split over threads
  };
  int n = 0;
  for (OpType t : ops) {
    for (const Pattern& p : patterns) {
      engine::BinaryAttrs a;
      const int act = n % 7;
      ++n;  // also the case's random seed
      a.activation = acts[act];
      a.activation_alpha = 0.3f;
      OpCase c(std::string(engine::op_type_name(t)) + " " + p.a.to_string() + " , " + p.b.to_string() + " act" +
                   std::to_string(act),
               make_op(t, a), static_cast<uint32_t>(n));
      c.random_input(DType::kF32, p.a);
      if (t == OpType::kDiv) c.random_input(DType::kF32, p.b, 0.5f, 2.f);
      else c.random_input(DType::kF32, p.b);
      auto kernel = plan_default(c);
      if (!kernel) continue;  // tiny inner rows are left to the reference
      EXPECT_TRUE(optimized_matches_reference(c, default_factory()));
    }
  }
  EXPECT_GT(n, 60);
}

TEST(OptimizedElementwise, FastPathsAreTaken) {
  for (const auto& shapes : {std::pair<Shape, Shape>{{1, 5, 7, 13}, {1, 5, 7, 13}}, {{2, 3, 1, 17}, {}},
                             {{2, 4, 5, 24}, {24}}, {{1, 1, 1, 16}, {1, 6, 6, 16}}}) {
    OpCase c("add", make_op(OpType::kAdd, engine::BinaryAttrs{}));
    c.random_input(DType::kF32, shapes.first).random_input(DType::kF32, shapes.second);
    EXPECT_TRUE(plan_default(c) != nullptr) << shapes.first.to_string() << " + " << shapes.second.to_string();
  }
}

TEST(OptimizedElementwise, UnaryActivations) {
  const OpType ops[] = {OpType::kRelu, OpType::kRelu6, OpType::kLeakyRelu, OpType::kLogistic, OpType::kTanh};
  for (OpType t : ops) {
    for (const Shape& s : {Shape{1, 1, 1, 1}, Shape{2, 3, 13}, Shape{1, 7, 1, 17}, Shape{1, 80, 80, 16}}) {
      OpCase c(std::string(engine::op_type_name(t)) + " " + s.to_string(),
               make_op(t, t == OpType::kLeakyRelu ? engine::OpAttrs(engine::LeakyReluAttrs{0.1f}) : engine::OpAttrs{}));
      c.random_input(DType::kF32, s, -12.f, 12.f);
      EXPECT_TRUE(optimized_matches_reference(c, default_factory()));
    }
  }
}

TEST(OptimizedElementwise, PreluPerChannelAndFull) {
  for (const auto& shapes : {std::pair<Shape, Shape>{{1, 5, 7, 13}, {13}}, {{1, 4, 1, 3}, {1, 1, 3}},
                             {{2, 9, 9, 16}, {1, 1, 1, 16}}, {{1, 3, 5, 24}, {1, 3, 5, 24}}, {{1, 64, 64, 32}, {32}}}) {
    OpCase c("prelu " + shapes.first.to_string() + " alpha " + shapes.second.to_string(), make_op(OpType::kPRelu));
    c.random_input(DType::kF32, shapes.first).random_input(DType::kF32, shapes.second).constant();
    EXPECT_TRUE(optimized_matches_reference(c, default_factory()));
  }
}

}  // namespace
}  // namespace facepipe::test
