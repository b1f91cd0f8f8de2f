// Optimized pooling, concat and nearest resize against the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include "engine/optimized_kernel_harness.h"

namespace facepipe::test {
namespace {

using engine::Activation;
using engine::DType;
using engine::OpType;
using engine::PaddingMode;
using engine::Shape;

KernelFactory default_factory() {
  return [](const engine::Op& op, std::span<const engine::TensorView> in, std::span<const engine::TensorDesc> out) {
    return engine::cpu::make_optimized_kernel(op, in, out);
  };
}

TEST(OptimizedLayout, Pooling) {
  struct PoolSpec {
    OpType type;
    Shape x;
    int filter, stride;
    PaddingMode mode;
    Activation act;
  };
  const PoolSpec specs[] = {
      {OpType::kMaxPool2D, {1, 8, 8, 24}, 2, 2, PaddingMode::kValid, Activation::kNone},
      {OpType::kMaxPool2D, {2, 7, 9, 17}, 2, 2, PaddingMode::kValid, Activation::kRelu},
      {OpType::kMaxPool2D, {1, 7, 9, 13}, 2, 2, PaddingMode::kSame, Activation::kNone},
      {OpType::kMaxPool2D, {1, 1, 9, 3}, 3, 2, PaddingMode::kSame, Activation::kRelu6},
      {OpType::kMaxPool2D, {1, 9, 1, 1}, 3, 1, PaddingMode::kSame, Activation::kNone},
      {OpType::kAvgPool2D, {1, 6, 5, 16}, 3, 1, PaddingMode::kSame, Activation::kNone},
      {OpType::kAvgPool2D, {2, 5, 7, 3}, 2, 2, PaddingMode::kSame, Activation::kTanh},
      {OpType::kMaxPool2D, {1, 64, 64, 32}, 2, 2, PaddingMode::kValid, Activation::kNone},
  };
  for (const PoolSpec& s : specs) {
    engine::PoolAttrs a;
    a.filter_h = a.filter_w = s.filter;
    a.stride_h = a.stride_w = s.stride;
    a.padding.mode = s.mode;
    a.activation = s.act;
    OpCase c(std::string(engine::op_type_name(s.type)) + " " + s.x.to_string(), make_op(s.type, a));
    c.random_input(DType::kF32, s.x);
    EXPECT_TRUE(optimized_matches_reference(c, default_factory()));
  }
}

TEST(OptimizedLayout, ConcatEveryAxis) {
  const Shape base{2, 3, 5, 4};
  for (int axis = -4; axis < 4; ++axis) {
    const int a = axis < 0 ? axis + 4 : axis;
    OpCase c("concat axis " + std::to_string(axis), make_op(OpType::kConcat, engine::ConcatAttrs{axis, Activation::kNone}));
    for (int64_t extent : {1, 3, 2}) {
      Shape s = base;
      s[a] = extent;
      c.random_input(DType::kF32, s);
    }
    EXPECT_TRUE(optimized_matches_reference(c, default_factory()));
  }
  OpCase big("concat channels SSH-like", make_op(OpType::kConcat, engine::ConcatAttrs{3, Activation::kNone}));
  big.random_input(DType::kF32, {1, 80, 80, 32}).random_input(DType::kF32, {1, 80, 80, 16}).random_input(DType::kF32, {1, 80, 80, 16});
  EXPECT_TRUE(optimized_matches_reference(big, default_factory()));
  OpCase ints("concat i64", make_op(OpType::kConcat, engine::ConcatAttrs{0, Activation::kNone}));
  ints.random_input(DType::kI64, {2}, -5, 5).random_input(DType::kI64, {3}, -5, 5);
  EXPECT_TRUE(optimized_matches_reference(ints, default_factory()));
}

TEST(OptimizedLayout, ResizeNearest) {
  using engine::ResizeCoordinates;
  using engine::ResizeNearestRounding;
  struct ResizeSpec {
    Shape x;
    int64_t out_h, out_w;
    ResizeCoordinates coords;
    ResizeNearestRounding rounding;
  };
  const ResizeSpec specs[] = {
      {{1, 20, 20, 64}, 40, 40, ResizeCoordinates::kAsymmetric, ResizeNearestRounding::kFloor},
      {{1, 20, 20, 13}, 39, 39, ResizeCoordinates::kAsymmetric, ResizeNearestRounding::kFloor},
      {{2, 5, 1, 3}, 10, 3, ResizeCoordinates::kAsymmetric, ResizeNearestRounding::kFloor},
      {{1, 9, 7, 3}, 4, 5, ResizeCoordinates::kHalfPixel, ResizeNearestRounding::kRoundPreferFloor},
      {{1, 9, 7, 3}, 13, 15, ResizeCoordinates::kHalfPixel, ResizeNearestRounding::kRoundPreferCeil},
      {{1, 5, 6, 1}, 7, 9, ResizeCoordinates::kTfHalfPixelForNearest, ResizeNearestRounding::kFloor},
      {{1, 5, 6, 3}, 7, 11, ResizeCoordinates::kAlignCorners, ResizeNearestRounding::kRoundPreferCeil},
      {{1, 4, 5, 3}, 6, 1, ResizeCoordinates::kPytorchHalfPixel, ResizeNearestRounding::kCeil},
  };
  for (const ResizeSpec& s : specs) {
    engine::ResizeAttrs a;
    a.coordinates = s.coords;
    a.nearest_rounding = s.rounding;
    OpCase c("resize " + s.x.to_string() + " -> " + std::to_string(s.out_h) + "x" + std::to_string(s.out_w),
             make_op(OpType::kResize, a));
    c.random_input(DType::kF32, s.x).input_i64({2}, {s.out_h, s.out_w}).constant();
    EXPECT_TRUE(optimized_matches_reference(c, default_factory()));
  }
  engine::ResizeAttrs by_scale;
  by_scale.scale_h = by_scale.scale_w = 2.f;
  OpCase c("resize x2 by scale", make_op(OpType::kResize, by_scale));
  c.random_input(DType::kF32, {2, 4, 3, 5});
  EXPECT_TRUE(optimized_matches_reference(c, default_factory()));
}

TEST(OptimizedLayout, TransposeEveryPermutationOfRank4) {
  std::array<int32_t, 4> perm{0, 1, 2, 3};
  int n = 0;
  do {
    OpCase c("transpose perm " + std::to_string(perm[0]) + std::to_string(perm[1]) + std::to_string(perm[2]) +
                 std::to_string(perm[3]),
             make_op(OpType::kTranspose, engine::TransposeAttrs{{perm.begin(), perm.end()}}), static_cast<uint32_t>(++n));
    c.random_input(DType::kF32, {2, 3, 5, 13});
    EXPECT_TRUE(optimized_matches_reference(c, default_factory()));
  } while (std::next_permutation(perm.begin(), perm.end()));
  OpCase nchw("transpose NCHW->NHWC 3x64x48", make_op(OpType::kTranspose, engine::TransposeAttrs{{0, 2, 3, 1}}));
  nchw.random_input(DType::kF32, {1, 3, 64, 48});
  EXPECT_TRUE(optimized_matches_reference(nchw, default_factory()));
  OpCase i64("transpose 3-d i64", make_op(OpType::kTranspose, engine::TransposeAttrs{{2, 0, 1}}));
  i64.random_input(DType::kI64, {3, 1, 4}, -9, 9);
  EXPECT_TRUE(optimized_matches_reference(i64, default_factory()));
  OpCase rank2("transpose rank 2", make_op(OpType::kTranspose, engine::TransposeAttrs{{}}));
  rank2.random_input(DType::kF32, {7, 1});
  EXPECT_TRUE(optimized_matches_reference(rank2, default_factory()));
}

}  // namespace
}  // namespace facepipe::test
