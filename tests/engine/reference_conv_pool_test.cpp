// Reference Conv2D / DepthwiseConv2D / pools on hand-computed cases, plus cross-checks between
// independent formulations (1x1 conv = fully connected; depthwise = grouped conv).
#include <gtest/gtest.h>

#include <numeric>

#include "engine/cpu/reference_ops.h"
#include "engine/op_test_util.h"

namespace facepipe::test {
namespace {

using namespace facepipe::engine;

std::vector<float> iota(size_t n, float start = 1.f) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

ConvAttrs conv(int stride, PaddingMode mode, Activation act = Activation::kNone) {
  ConvAttrs a;
  a.stride_h = a.stride_w = stride;
  a.padding.mode = mode;
  a.activation = act;
  return a;
}

// A 4x4 input holding 1..16 row by row, one channel; a 3x3 kernel of ones sums each window.
OpCase ones_conv_4x4(const char* label, const ConvAttrs& a, bool bias) {
  OpCase c(label, make_op(OpType::kConv2D, a));
  c.input_f32({1, 4, 4, 1}, iota(16)).input_f32({1, 3, 3, 1}, std::vector<float>(9, 1.f));
  if (bias) c.input_f32({1}, {1.f});
  return c;
}

TEST(ReferenceConv, Valid3x3On4x4) {
  // Windows: 1+2+3+5+6+7+9+10+11 = 54, then 63, 90, 99; plus bias 1.
  EXPECT_EQ(reference_f32(ones_conv_4x4("valid", conv(1, PaddingMode::kValid), true)),
            (std::vector<float>{55, 64, 91, 100}));
}

TEST(ReferenceConv, Same3x3On4x4) {
  const std::vector<float> out = reference_f32(ones_conv_4x4("same", conv(1, PaddingMode::kSame), false));
  ASSERT_EQ(out.size(), 16u);
  EXPECT_EQ(out[0], 1 + 2 + 5 + 6);                 // corner: 2x2 of the window inside
  EXPECT_EQ(out[1], 1 + 2 + 3 + 5 + 6 + 7);         // edge: 2x3
  EXPECT_EQ(out[5], 54);                            // interior: full window
  EXPECT_EQ(out[15], 11 + 12 + 15 + 16);
}

TEST(ReferenceConv, SameStride2PadsBottomRight) {
  // in 4, k3, s2: out 2, total pad 1 -> top/left 0, bottom/right 1.
  EXPECT_EQ(reference_f32(ones_conv_4x4("same s2", conv(2, PaddingMode::kSame), false)),
            (std::vector<float>{54, 3 + 4 + 7 + 8 + 11 + 12, 9 + 10 + 11 + 13 + 14 + 15, 11 + 12 + 15 + 16}));
}

TEST(ReferenceConv, SameStride2OddSize) {
  // in 5, k3, s2: out 3, pad 1 on each side; a kernel of ones on ones counts the taps inside.
  OpCase c("same s2 odd", make_op(OpType::kConv2D, conv(2, PaddingMode::kSame)));
  c.input_f32({1, 5, 5, 1}, std::vector<float>(25, 1.f)).input_f32({1, 3, 3, 1}, std::vector<float>(9, 1.f));
  EXPECT_EQ(reference_f32(c), (std::vector<float>{4, 6, 4, 6, 9, 6, 4, 6, 4}));
}

TEST(ReferenceConv, ExplicitAsymmetricPadding) {
  ConvAttrs a = conv(1, PaddingMode::kExplicit);
  a.padding = {PaddingMode::kExplicit, 0, 2, 0, 0};  // two columns of zeros on the left only
  OpCase c("explicit", make_op(OpType::kConv2D, a));
  c.input_f32({1, 1, 3, 1}, {1, 2, 3}).input_f32({1, 1, 3, 1}, {1, 10, 100});
  // Padded row 0 0 1 2 3; windows (0,0,1) (0,1,2) (1,2,3).
  EXPECT_EQ(reference_f32(c), (std::vector<float>{100, 10 + 200, 1 + 20 + 300}));
}

TEST(ReferenceConv, WeightsAreOHWI) {
  // 1x1 conv, 2 in / 2 out channels: out[oc] = sum_ic w[oc][ic] * x[ic].
  OpCase c("ohwi", make_op(OpType::kConv2D, conv(1, PaddingMode::kValid)));
  c.input_f32({1, 1, 1, 2}, {1, 2}).input_f32({2, 1, 1, 2}, {1, 10, 100, 1000});
  EXPECT_EQ(reference_f32(c), (std::vector<float>{21, 2100}));
}

TEST(ReferenceConv, Groups) {
  // 4 in channels, 2 groups of 2; 2 out channels (1 per group).
  ConvAttrs a = conv(1, PaddingMode::kValid);
  a.groups = 2;
  OpCase c("groups", make_op(OpType::kConv2D, a));
  c.input_f32({1, 1, 1, 4}, {1, 2, 3, 4}).input_f32({2, 1, 1, 2}, {1, 10, 100, 1000});
  EXPECT_EQ(reference_f32(c), (std::vector<float>{1 + 20, 300 + 4000}));
}

TEST(ReferenceConv, Dilation) {
  ConvAttrs a = conv(1, PaddingMode::kValid);
  a.dilation_w = 2;
  OpCase c("dilation", make_op(OpType::kConv2D, a));
  c.input_f32({1, 1, 6, 1}, {1, 2, 3, 4, 5, 6}).input_f32({1, 1, 3, 1}, {1, 1, 1});
  EXPECT_EQ(reference_f32(c), (std::vector<float>{1 + 3 + 5, 2 + 4 + 6}));
}

TEST(ReferenceConv, FusedActivations) {
  const struct {
    Activation act;
    float alpha;
    std::vector<float> expected;
  } table[] = {
      {Activation::kNone, 0.f, {-10, -0.5f, 0.5f, 7}},
      {Activation::kRelu, 0.f, {0, 0, 0.5f, 7}},
      {Activation::kRelu6, 0.f, {0, 0, 0.5f, 6}},
      {Activation::kReluN1To1, 0.f, {-1, -0.5f, 0.5f, 1}},
      {Activation::kLeakyRelu, 0.1f, {-1, -0.05f, 0.5f, 7}},
  };
  for (const auto& t : table) {
    ConvAttrs a = conv(1, PaddingMode::kValid, t.act);
    a.activation_alpha = t.alpha;
    OpCase c("act", make_op(OpType::kConv2D, a));
    c.input_f32({1, 1, 4, 1}, {-10, -0.5f, 0.5f, 7}).input_f32({1, 1, 1, 1}, {1});
    const std::vector<float> out = reference_f32(c);
    ASSERT_EQ(out.size(), 4u);
    for (size_t i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(out[i], t.expected[i]) << static_cast<int>(t.act) << " " << i;
  }
  ConvAttrs a = conv(1, PaddingMode::kValid, Activation::kSigmoid);
  OpCase c("sigmoid", make_op(OpType::kConv2D, a));
  c.input_f32({1, 1, 1, 1}, {0}).input_f32({1, 1, 1, 1}, {1});
  EXPECT_EQ(reference_f32(c), std::vector<float>{0.5f});
}

TEST(ReferenceDepthwise, MultiplierOrdersChannelsCTimesM) {
  ConvAttrs a = conv(1, PaddingMode::kValid);
  a.depth_multiplier = 2;
  OpCase c("dw m2", make_op(OpType::kDepthwiseConv2D, a));
  c.input_f32({1, 1, 1, 2}, {1, 2}).input_f32({1, 1, 1, 4}, {1, 2, 3, 4}).input_f32({4}, {0, 0, 0, 0.5f});
  // Output channel c*M + m = x[c] * w[c*M + m].
  EXPECT_EQ(reference_f32(c), (std::vector<float>{1, 2, 6, 8.5f}));
}

TEST(ReferenceDepthwise, SameStride2) {
  // Two channels: channel 0 all ones, channel 1 all twos; 3x3 weights of ones, per-channel scale.
  std::vector<float> x;
  for (int i = 0; i < 25; ++i) x.insert(x.end(), {1.f, 2.f});
  OpCase c("dw same s2", make_op(OpType::kDepthwiseConv2D, conv(2, PaddingMode::kSame)));
  c.input_f32({1, 5, 5, 2}, x).input_f32({1, 3, 3, 2}, std::vector<float>(18, 1.f)).absent_input();
  const std::vector<float> counts = {4, 6, 4, 6, 9, 6, 4, 6, 4};
  std::vector<float> expected;
  for (float n : counts) expected.insert(expected.end(), {n, 2 * n});
  EXPECT_EQ(reference_f32(c), expected);
}

TEST(ReferencePool, MaxAndAverage) {
  PoolAttrs a;
  a.filter_h = a.filter_w = 2;
  a.stride_h = a.stride_w = 2;
  a.padding.mode = PaddingMode::kValid;
  OpCase max("max", make_op(OpType::kMaxPool2D, a));
  max.input_f32({1, 4, 4, 1}, iota(16));
  EXPECT_EQ(reference_f32(max), (std::vector<float>{6, 8, 14, 16}));

  // Average 3x3 stride 1 SAME on 1..9: the divisor counts only taps inside the input.
  PoolAttrs s;
  s.filter_h = s.filter_w = 3;
  s.padding.mode = PaddingMode::kSame;
  OpCase avg("avg", make_op(OpType::kAvgPool2D, s));
  avg.input_f32({1, 3, 3, 1}, iota(9));
  EXPECT_EQ(reference_f32(avg), (std::vector<float>{3, 3.5f, 4, 4.5f, 5, 5.5f, 6, 6.5f, 7}));

  s.stride_h = s.stride_w = 2;  // in 3, k3, s2: out 2, pad 1/1
  OpCase avg2("avg s2", make_op(OpType::kAvgPool2D, s));
  avg2.input_f32({1, 3, 3, 1}, iota(9));
  EXPECT_EQ(reference_f32(avg2), (std::vector<float>{3, 4, 6, 7}));

  // Max with SAME padding never picks the padding even when everything is negative.
  OpCase maxneg("max neg", make_op(OpType::kMaxPool2D, s));
  maxneg.input_f32({1, 3, 3, 1}, iota(9, -20.f));
  EXPECT_EQ(reference_f32(maxneg), (std::vector<float>{-16, -15, -13, -12}));
}

TEST(ReferenceCrossCheck, Conv1x1EqualsFullyConnected) {
  // A 1x1 conv over [1, H, W, K] with OHWI weights [N, 1, 1, K] is an FC over rows of K.
  OpCase c("conv", make_op(OpType::kConv2D, conv(1, PaddingMode::kValid)));
  c.random_input(DType::kF32, {2, 3, 5, 13}).random_input(DType::kF32, {7, 1, 1, 13}).random_input(DType::kF32, {7});
  const std::vector<TensorView> in = c.inputs();
  OpCase fc("fc", make_op(OpType::kFullyConnected, FullyConnectedAttrs{Activation::kNone, true}));
  fc.input_f32({2, 3, 5, 13}, std::vector<float>(in[0].as<float>(), in[0].as<float>() + in[0].num_elements()))
      .input_f32({7, 13}, std::vector<float>(in[1].as<float>(), in[1].as<float>() + in[1].num_elements()))
      .input_f32({7}, std::vector<float>(in[2].as<float>(), in[2].as<float>() + 7));
  EXPECT_EQ(reference_f32(c), reference_f32(fc));
}

TEST(ReferenceCrossCheck, DepthwiseEqualsGroupedConv) {
  // Depthwise with multiplier M == Conv2D with groups = C and OHWI weights [C*M, KH, KW, 1]; the
  // weight layouts differ ([1, KH, KW, C*M] vs [C*M, KH, KW, 1]) so the weights are transposed.
  const int64_t C = 3, M = 2, K = 3;
  ConvAttrs dw_attrs = conv(2, PaddingMode::kSame);
  dw_attrs.depth_multiplier = M;
  OpCase dw("dw", make_op(OpType::kDepthwiseConv2D, dw_attrs));
  dw.random_input(DType::kF32, {2, 7, 6, C}).random_input(DType::kF32, {1, K, K, C * M}).random_input(DType::kF32, {C * M});
  const std::vector<TensorView> in = dw.inputs();
  std::vector<float> w(static_cast<size_t>(C * M * K * K));
  for (int64_t o = 0; o < C * M; ++o)
    for (int64_t k = 0; k < K * K; ++k) w[static_cast<size_t>(o * K * K + k)] = in[1].as<float>()[k * C * M + o];
  ConvAttrs conv_attrs = conv(2, PaddingMode::kSame);
  conv_attrs.groups = static_cast<int32_t>(C);
  OpCase grouped("grouped", make_op(OpType::kConv2D, conv_attrs));
  grouped.input_f32({2, 7, 6, C}, std::vector<float>(in[0].as<float>(), in[0].as<float>() + in[0].num_elements()))
      .input_f32({C * M, K, K, 1}, w)
      .input_f32({C * M}, std::vector<float>(in[2].as<float>(), in[2].as<float>() + C * M));
  EXPECT_EQ(reference_f32(dw), reference_f32(grouped));
}

TEST(ReferenceConv, UnsupportedDtypeIsAStatusNotACrash) {
  OpCase c("i32 conv", make_op(OpType::kConv2D, conv(1, PaddingMode::kValid)));
  c.input_i32({1, 1, 1, 1}, {1}).input_i32({1, 1, 1, 1}, {1});
  const OpCase::Result r = c.run_reference();
  EXPECT_EQ(r.status.code(), StatusCode::kUnsupported);
}

TEST(ReferenceConv, MismatchedOutputShapeIsRefused) {
  OpCase c("conv", make_op(OpType::kConv2D, conv(1, PaddingMode::kValid)));
  c.random_input(DType::kF32, {1, 4, 4, 1}).random_input(DType::kF32, {1, 3, 3, 1});
  std::vector<float> too_small(1);
  const TensorView out{DType::kF32, Shape{1, 1, 1, 1}, too_small.data()};
  const std::vector<TensorView> in = c.inputs();
  EXPECT_EQ(cpu::run_reference_op(c.op(), in, {&out, 1}).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace facepipe::test
