// Reference Mean / Sum / Softmax / FullyConnected on hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/op_test_util.h"

namespace facepipe::test {
namespace {

using namespace facepipe::engine;

TEST(ReferenceReduce, MeanAndSum) {
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};  // [[1, 2, 3], [4, 5, 6]]
  OpCase rows("mean axis 1", make_op(OpType::kMean, ReduceAttrs{{1}, false}));
  rows.input_f32({2, 3}, x);
  EXPECT_EQ(reference_f32(rows), (std::vector<float>{2, 5}));
  OpCase cols("sum axis -2 keep", make_op(OpType::kSum, ReduceAttrs{{-2}, true}));
  cols.input_f32({2, 3}, x);
  EXPECT_EQ(cols.output_descs()[0].shape, (Shape{1, 3}));
  EXPECT_EQ(reference_f32(cols), (std::vector<float>{5, 7, 9}));
  OpCase all("sum all keep", make_op(OpType::kSum, ReduceAttrs{{}, true}));
  all.input_f32({2, 3}, x);
  EXPECT_EQ(all.output_descs()[0].shape, (Shape{1, 1}));
  EXPECT_EQ(reference_f32(all), std::vector<float>{21});
  // Spatial mean of NHWC keeps channels apart.
  OpCase spatial("spatial", make_op(OpType::kMean, ReduceAttrs{{1, 2}, true}));
  spatial.input_f32({1, 2, 1, 2}, {1, 10, 3, 30});
  EXPECT_EQ(reference_f32(spatial), (std::vector<float>{2, 20}));
}

TEST(ReferenceReduce, AccumulatesInDouble) {
  // 1e8 + 1 + 1 + ... in float would lose every 1; double keeps them.
  std::vector<float> x(1001, 1.f);
  x[0] = 1e8f;
  OpCase c("sum", make_op(OpType::kSum, ReduceAttrs{{}, false}));
  c.input_f32({1001}, x);
  EXPECT_EQ(reference_f32(c), std::vector<float>{1e8f + 1000.f});
}

TEST(ReferenceSoftmax, Values) {
  OpCase c("softmax", make_op(OpType::kSoftmax, SoftmaxAttrs{-1, 1.f}));
  c.input_f32({1, 3}, {1, 2, 3});
  const std::vector<float> out = reference_f32(c);
  const double z = std::exp(-2.0) + std::exp(-1.0) + 1.0;
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FLOAT_EQ(out[0], static_cast<float>(std::exp(-2.0) / z));
  EXPECT_FLOAT_EQ(out[1], static_cast<float>(std::exp(-1.0) / z));
  EXPECT_FLOAT_EQ(out[2], static_cast<float>(1.0 / z));

  // Numerically stable: huge logits do not overflow.
  OpCase big("big", make_op(OpType::kSoftmax, SoftmaxAttrs{-1, 1.f}));
  big.input_f32({2, 2}, {1000, 1000, -1000, 0});
  EXPECT_EQ(reference_f32(big), (std::vector<float>{0.5f, 0.5f, 0.f, 1.f}));

  // Along axis 0 with beta: softmax(beta * x); beta = 0.5 on (0, 2 ln 3) gives (1/4, 3/4).
  OpCase beta("beta axis 0", make_op(OpType::kSoftmax, SoftmaxAttrs{0, 0.5f}));
  beta.input_f32({2, 1}, {0, static_cast<float>(2 * std::log(3.0))});
  const std::vector<float> b = reference_f32(beta);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_FLOAT_EQ(b[0], 0.25f);
  EXPECT_FLOAT_EQ(b[1], 0.75f);
}

TEST(ReferenceFullyConnected, Values) {
  OpCase c("fc", make_op(OpType::kFullyConnected, FullyConnectedAttrs{Activation::kRelu, true}));
  // x [2, 2] rows (1, 2) and (3, -4); weights [[1, 1], [2, -1]]; bias (0.5, 0).
  c.input_f32({2, 2}, {1, 2, 3, -4}).input_f32({2, 2}, {1, 1, 2, -1}).input_f32({2}, {0.5f, 0});
  EXPECT_EQ(reference_f32(c), (std::vector<float>{3.5f, 0, 0, 10}));  // (3.5, 0), relu(-0.5)=0, 10

  OpCase flat("flatten", make_op(OpType::kFullyConnected, FullyConnectedAttrs{Activation::kNone, false}));
  flat.input_f32({1, 1, 1, 4}, {1, 2, 3, 4}).input_f32({1, 2}, {1, 10}).absent_input();
  EXPECT_EQ(flat.output_descs()[0].shape, (Shape{2, 1}));
  EXPECT_EQ(reference_f32(flat), (std::vector<float>{21, 43}));
}

}  // namespace
}  // namespace facepipe::test
