// Reference layout and shape ops on hand-computed cases, including RetinaFace's shape subgraph
// (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) folded with i64 values, as the planner does.
#include <gtest/gtest.h>

#include <numeric>

#include "common/status.h"
#include "engine/cpu/reference_ops.h"
#include "engine/op_test_util.h"

namespace facepipe::test {
namespace {

using namespace facepipe::engine;

std::vector<float> iota(size_t n, float start = 0.f) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

TEST(ReferenceLayout, Transpose) {
  OpCase c("t", make_op(OpType::kTranspose, TransposeAttrs{{1, 0}}));
  c.input_f32({2, 3}, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(reference_f32(c), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  // NHWC [1, 1, 2, 3] -> NCHW: channel planes.
  OpCase n("nchw", make_op(OpType::kTranspose, TransposeAttrs{{0, 3, 1, 2}}));
  n.input_i32({1, 1, 2, 3}, {0, 1, 2, 10, 11, 12});
  EXPECT_EQ(reference_ints(n), (std::vector<int64_t>{0, 10, 1, 11, 2, 12}));
}

TEST(ReferenceLayout, Concat) {
  OpCase c("c", make_op(OpType::kConcat, ConcatAttrs{-1, Activation::kNone}));
  c.input_f32({2, 1}, {0, 10}).input_f32({2, 2}, {1, 2, 11, 12});
  EXPECT_EQ(reference_f32(c), (std::vector<float>{0, 1, 2, 10, 11, 12}));
  OpCase rows("rows", make_op(OpType::kConcat, ConcatAttrs{0, Activation::kNone}));
  rows.input_i64({1}, {-1}).input_i64({2}, {30, 4});
  EXPECT_EQ(reference_ints(rows), (std::vector<int64_t>{-1, 30, 4}));
  OpCase relu("relu", make_op(OpType::kConcat, ConcatAttrs{0, Activation::kRelu}));
  relu.input_f32({1}, {-1}).input_f32({1}, {2});
  EXPECT_EQ(reference_f32(relu), (std::vector<float>{0, 2}));
}

TEST(ReferenceLayout, SliceNegativeStrideAndShrink) {
  // x = [[0..3], [4..7], [8..11]]; x[1, ::-2] -> 7, 5 (row 1 shrunk away).
  SliceAttrs a;
  a.axes = {0, 1};
  a.begin = {1, -1};
  a.end = {2, SliceAttrs::kSliceEnd};
  a.strides = {1, -2};
  a.shrink_axis_mask = 1;
  OpCase c("slice", make_op(OpType::kSlice, a));
  c.input_f32({3, 4}, iota(12));
  EXPECT_EQ(c.output_descs()[0].shape, Shape{2});
  EXPECT_EQ(reference_f32(c), (std::vector<float>{7, 5}));

  // x[::-1, 1:3]: rows reversed, columns 1 and 2.
  SliceAttrs b;
  b.axes = {0, 1};
  b.begin = {SliceAttrs::kSliceStart, 1};
  b.end = {SliceAttrs::kSliceEnd, 3};
  b.strides = {-1, 1};
  OpCase r("reverse", make_op(OpType::kSlice, b));
  r.input_f32({3, 4}, iota(12));
  EXPECT_EQ(reference_f32(r), (std::vector<float>{9, 10, 5, 6, 1, 2}));

  // ONNX Slice on a shape vector: shape[2:4] (end clamped from INT64_MAX).
  SliceAttrs s;
  s.axes = {0};
  s.begin = {2};
  s.end = {INT64_MAX};
  s.strides = {1};
  OpCase v("shape slice", make_op(OpType::kSlice, s));
  v.input_i64({4}, {1, 3, 640, 608});
  EXPECT_EQ(reference_ints(v), (std::vector<int64_t>{640, 608}));
}

TEST(ReferenceLayout, Pad) {
  OpCase c("pad", make_op(OpType::kPad, PadAttrs{{1, 0, 0, 1}, 9.f}));
  c.input_f32({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(reference_f32(c), (std::vector<float>{9, 9, 9, 1, 2, 9, 3, 4, 9}));
  OpCase crop("crop", make_op(OpType::kPad, PadAttrs{{-1, 1}, 0.f}));  // ONNX negative pads crop
  crop.input_i64({3}, {5, 6, 7});
  EXPECT_EQ(reference_ints(crop), (std::vector<int64_t>{6, 7, 0}));
  OpCase bad("bad", make_op(OpType::kPad, PadAttrs{{1, 0}, 0.5f}));
  bad.input_i32({1}, {1});
  EXPECT_EQ(bad.run_reference().status.code(), StatusCode::kUnsupported);
}

TEST(ReferenceLayout, GatherNumpyTake) {
  OpCase rows("rows", make_op(OpType::kGather, GatherAttrs{0}));
  rows.input_f32({3, 2}, {1, 2, 3, 4, 5, 6}).input_i64({2}, {-1, 0});
  EXPECT_EQ(reference_f32(rows), (std::vector<float>{5, 6, 1, 2}));
  OpCase column("scalar index", make_op(OpType::kGather, GatherAttrs{-1}));
  column.input_f32({3, 2}, {1, 2, 3, 4, 5, 6}).input_i32({}, {-1});
  EXPECT_EQ(column.output_descs()[0].shape, Shape{3});
  EXPECT_EQ(reference_f32(column), (std::vector<float>{2, 4, 6}));
  OpCase matrix("2-d indices", make_op(OpType::kGather, GatherAttrs{1}));
  matrix.input_f32({1, 3, 2}, {1, 2, 3, 4, 5, 6}).input_i64({2, 2}, {2, 0, 1, 1});
  EXPECT_EQ(reference_f32(matrix), (std::vector<float>{5, 6, 1, 2, 3, 4, 3, 4}));
  OpCase bad("out of range", make_op(OpType::kGather, GatherAttrs{0}));
  bad.input_f32({3}, {1, 2, 3}).input_i64({1}, {-4});
  EXPECT_THROW(bad.output_descs(), Error);  // caught at plan time when the indices are known
  float out = 0;
  const TensorView out_view{DType::kF32, Shape{1}, &out};
  const std::vector<TensorView> in = bad.inputs();
  EXPECT_FALSE(cpu::run_reference_op(bad.op(), in, {&out_view, 1}));  // and never read out of bounds
}

TEST(ReferenceLayout, ShapeSqueezeUnsqueezeReshapeCopy) {
  OpCase shape("shape", make_op(OpType::kShape));
  shape.random_input(DType::kF32, {1, 3, 20, 20});
  EXPECT_EQ(reference_ints(shape), (std::vector<int64_t>{1, 3, 20, 20}));
  for (OpType t : {OpType::kSqueeze, OpType::kUnsqueeze, OpType::kReshape}) {
    OpAttrs attrs;
    if (t == OpType::kUnsqueeze) attrs = AxesAttrs{{0}};
    if (t == OpType::kReshape) attrs = ReshapeAttrs{{3, 2}, false};
    OpCase c("copy", make_op(t, attrs));
    c.input_f32({1, 2, 3}, {0, 1, 2, 3, 4, 5});
    EXPECT_EQ(reference_f32(c), (std::vector<float>{0, 1, 2, 3, 4, 5})) << op_type_name(t);
  }
}

// Runs one op of a folded chain: reference_ints on a case built from the previous result.
TEST(ReferenceLayout, RetinaFaceShapeSubgraphFolds) {
  const Shape x{2, 8, 3, 5};  // NHWC feature map of batch 2
  OpCase shape("Shape", make_op(OpType::kShape));
  shape.random_input(DType::kF32, x);
  const std::vector<int64_t> dims = reference_ints(shape);

  OpCase gather("Gather", make_op(OpType::kGather, GatherAttrs{0}));
  gather.input_i64({4}, dims).input_i64({}, {0});
  EXPECT_EQ(gather.output_descs()[0].shape, Shape{});
  const std::vector<int64_t> batch = reference_ints(gather);
  ASSERT_EQ(batch, std::vector<int64_t>{2});

  OpCase unsqueeze("Unsqueeze", make_op(OpType::kUnsqueeze, AxesAttrs{{0}}));
  unsqueeze.input_i64({}, batch);
  const std::vector<int64_t> batch1 = reference_ints(unsqueeze);

  OpCase concat("Concat", make_op(OpType::kConcat, ConcatAttrs{0, Activation::kNone}));
  concat.input_i64({1}, batch1).input_i64({2}, {-1, 4});
  const std::vector<int64_t> target = reference_ints(concat);
  EXPECT_EQ(target, (std::vector<int64_t>{2, -1, 4}));

  OpCase reshape("Reshape", make_op(OpType::kReshape, ReshapeAttrs{{}, true}));
  reshape.random_input(DType::kF32, x).input_i64({3}, target).constant();
  EXPECT_EQ(reshape.output_descs()[0].shape, (Shape{2, 30, 4}));
  EXPECT_TRUE(reshape.run_reference().status);
}

}  // namespace
}  // namespace facepipe::test
