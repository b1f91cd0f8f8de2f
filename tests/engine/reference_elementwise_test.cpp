// Reference elementwise ops: binary with broadcasting (f32 and integers), unary, PRelu, Cast,
// Dequantize, on hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/op_test_util.h"

namespace facepipe::test {
namespace {

using namespace facepipe::engine;

OpCase binary_f32(OpType type, Shape sa, std::vector<float> a, Shape sb, std::vector<float> b,
                  Activation act = Activation::kNone) {
  OpCase c("binary", make_op(type, BinaryAttrs{act, 0.f}));
  c.input_f32(sa, std::move(a)).input_f32(sb, std::move(b));
  return c;
}

TEST(ReferenceBinary, BroadcastingF32) {
  // [2, 3] + [3]: the row vector repeats.
  EXPECT_EQ(reference_f32(binary_f32(OpType::kAdd, {2, 3}, {1, 2, 3, 4, 5, 6}, {3}, {10, 20, 30})),
            (std::vector<float>{11, 22, 33, 14, 25, 36}));
  // [2, 1] * [1, 3] -> outer product.
  EXPECT_EQ(reference_f32(binary_f32(OpType::kMul, {2, 1}, {2, 3}, {1, 3}, {1, 10, 100})),
            (std::vector<float>{2, 20, 200, 3, 30, 300}));
  // Scalar on the left.
  EXPECT_EQ(reference_f32(binary_f32(OpType::kSub, {}, {10}, {3}, {1, 2, 3})), (std::vector<float>{9, 8, 7}));
  EXPECT_EQ(reference_f32(binary_f32(OpType::kDiv, {2}, {1, 9}, {1}, {4})), (std::vector<float>{0.25f, 2.25f}));
  EXPECT_EQ(reference_f32(binary_f32(OpType::kSquaredDifference, {2}, {3, -1}, {2}, {5, 2})), (std::vector<float>{4, 9}));
  EXPECT_EQ(reference_f32(binary_f32(OpType::kMaximum, {3}, {1, 5, -2}, {1}, {0})), (std::vector<float>{1, 5, 0}));
  EXPECT_EQ(reference_f32(binary_f32(OpType::kMinimum, {3}, {1, 5, -2}, {1}, {0})), (std::vector<float>{0, 0, -2}));
  EXPECT_EQ(reference_f32(binary_f32(OpType::kAdd, {3}, {1, 5, -2}, {3}, {0, 2, 0}, Activation::kRelu6)),
            (std::vector<float>{1, 6, 0}));
}

TEST(ReferenceBinary, Integers) {
  OpCase add("i64", make_op(OpType::kAdd));
  add.input_i64({2}, {-1, 4}).input_i64({}, {10});
  EXPECT_EQ(reference_ints(add), (std::vector<int64_t>{9, 14}));
  // Integer division truncates toward zero (C++ / ONNX Runtime), not floor like numpy's //.
  OpCase div("i32 div", make_op(OpType::kDiv));
  div.input_i32({3}, {7, -7, 640}).input_i32({3}, {2, 2, 32});
  EXPECT_EQ(reference_ints(div), (std::vector<int64_t>{3, -3, 20}));
  OpCase mul("i32 mul", make_op(OpType::kMul));
  mul.input_i32({2}, {3, -4}).input_i32({1}, {5});
  EXPECT_EQ(reference_ints(mul), (std::vector<int64_t>{15, -20}));

  OpCase zero("div0", make_op(OpType::kDiv));
  zero.input_i64({2}, {1, 2}).input_i64({2}, {1, 0});
  EXPECT_EQ(zero.run_reference().status.code(), StatusCode::kInvalidArgument);
  OpCase overflow("overflow", make_op(OpType::kDiv));
  overflow.input_i32({1}, {std::numeric_limits<int32_t>::min()}).input_i32({1}, {-1});
  EXPECT_FALSE(overflow.run_reference().status);
  OpCase act("int act", make_op(OpType::kAdd, BinaryAttrs{Activation::kRelu, 0.f}));
  act.input_i32({1}, {1}).input_i32({1}, {1});
  EXPECT_EQ(act.run_reference().status.code(), StatusCode::kUnsupported);
}

float unary1(OpType type, float x, OpAttrs attrs = {}) {
  OpCase c("unary", make_op(type, std::move(attrs)));
  c.input_f32({1}, {x});
  const std::vector<float> out = reference_f32(c);
  return out.empty() ? NAN : out[0];
}

TEST(ReferenceUnary, Values) {
  EXPECT_EQ(unary1(OpType::kRelu, -3), 0);
  EXPECT_EQ(unary1(OpType::kRelu, 3), 3);
  EXPECT_EQ(unary1(OpType::kRelu6, 7), 6);
  EXPECT_EQ(unary1(OpType::kRelu6, -1), 0);
  EXPECT_FLOAT_EQ(unary1(OpType::kLeakyRelu, -5, LeakyReluAttrs{0.2f}), -1);
  EXPECT_FLOAT_EQ(unary1(OpType::kLeakyRelu, 5, LeakyReluAttrs{0.2f}), 5);
  EXPECT_EQ(unary1(OpType::kLogistic, 0), 0.5f);
  EXPECT_FLOAT_EQ(unary1(OpType::kLogistic, 2), static_cast<float>(1 / (1 + std::exp(-2.0))));
  EXPECT_EQ(unary1(OpType::kLogistic, -200), 0.f);  // no overflow trouble at the extremes
  EXPECT_FLOAT_EQ(unary1(OpType::kTanh, 0.5f), std::tanh(0.5f));
  EXPECT_EQ(unary1(OpType::kNeg, 2.5f), -2.5f);
  EXPECT_EQ(unary1(OpType::kSqrt, 9), 3);
  EXPECT_EQ(unary1(OpType::kRsqrt, 4), 0.5f);
  EXPECT_EQ(unary1(OpType::kExp, 0), 1);
  EXPECT_TRUE(std::isnan(unary1(OpType::kSqrt, -1)));

  OpCase neg("neg i64", make_op(OpType::kNeg));
  neg.input_i64({2}, {5, -7});
  EXPECT_EQ(reference_ints(neg), (std::vector<int64_t>{-5, 7}));
  OpCase exp_int("exp i32", make_op(OpType::kExp));
  exp_int.input_i32({1}, {1});
  EXPECT_EQ(exp_int.run_reference().status.code(), StatusCode::kUnsupported);
}

TEST(ReferencePRelu, PerChannelAlpha) {
  OpCase c("prelu", make_op(OpType::kPRelu));
  c.input_f32({1, 2, 1, 3}, {-1, -1, 2, -10, 4, -20}).input_f32({3}, {0.1f, 0.2f, 0.3f});
  const std::vector<float> out = reference_f32(c);
  const std::vector<float> expected = {-0.1f, -0.2f, 2, -1, 4, -6};
  ASSERT_EQ(out.size(), expected.size());
  for (size_t i = 0; i < out.size(); ++i) EXPECT_FLOAT_EQ(out[i], expected[i]) << i;
}

TEST(ReferenceCast, FloatIntConversions) {
  OpCase f2i("f32->i32", make_op(OpType::kCast, CastAttrs{static_cast<uint8_t>(DType::kI32)}));
  f2i.input_f32({5}, {1.7f, -1.7f, 3e10f, -3e10f, NAN});
  // Truncation toward zero; out-of-range values saturate and NaN becomes 0 (a plain C++ cast
  // would be undefined behaviour).
  EXPECT_EQ(reference_ints(f2i),
            (std::vector<int64_t>{1, -1, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(), 0}));

  OpCase i2f("i64->f32", make_op(OpType::kCast, CastAttrs{static_cast<uint8_t>(DType::kF32)}));
  i2f.input_i64({2}, {640, -3});
  EXPECT_EQ(reference_f32(i2f), (std::vector<float>{640, -3}));

  OpCase widen("i32->i64", make_op(OpType::kCast, CastAttrs{static_cast<uint8_t>(DType::kI64)}));
  widen.input_i32({2}, {-5, 2147483647});
  EXPECT_EQ(reference_ints(widen), (std::vector<int64_t>{-5, 2147483647}));

  OpCase same("f32->f32", make_op(OpType::kCast, CastAttrs{static_cast<uint8_t>(DType::kF32)}));
  same.input_f32({1}, {0.25f});
  EXPECT_EQ(reference_f32(same), std::vector<float>{0.25f});

  OpCase to_bool("f32->bool", make_op(OpType::kCast, CastAttrs{static_cast<uint8_t>(DType::kBool)}));
  to_bool.input_f32({1}, {1});
  EXPECT_EQ(to_bool.run_reference().status.code(), StatusCode::kUnsupported);
}

TEST(ReferenceDequantize, HalfToFloat) {
  OpCase c("deq", make_op(OpType::kDequantize));
  c.input_f16({4}, {1.f, -2.f, 0.5f, 65504.f});
  EXPECT_EQ(reference_f32(c), (std::vector<float>{1, -2, 0.5f, 65504}));
}

}  // namespace
}  // namespace facepipe::test
