// infer_output_descs and resolve_padding: hand-computed shapes for every op, and the errors bad
// inputs must produce (an Error naming the source, the op and the problem; never a crash).
#include <gtest/gtest.h>

#include <string>

#include "common/status.h"
#include "engine/op_test_util.h"
#include "engine/plan/shape_inference.h"

namespace facepipe::test {
namespace {

using namespace facepipe::engine;

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

Shape out_shape(const OpCase& c) { return c.output_descs().at(0).shape; }
DType out_dtype(const OpCase& c) { return c.output_descs().at(0).dtype; }

std::string infer_error(const OpCase& c) {
  try {
    c.output_descs();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

ConvAttrs conv(int stride, PaddingMode mode, int dilation = 1) {
  ConvAttrs a;
  a.stride_h = a.stride_w = stride;
  a.dilation_h = a.dilation_w = dilation;
  a.padding.mode = mode;
  return a;
}

// ---- Padding -------------------------------------------------------------------------------------

TEST(ResolvePadding, SameFollowsTensorFlow) {
  const Padding same{PaddingMode::kSame};
  // in 7, k3, s2: out 4, total = 3*2 + 3 - 7 = 2 -> 1 / 1.
  Padding p = resolve_padding(same, 7, 7, 3, 3, 2, 2, 1, 1);
  EXPECT_EQ(p.mode, PaddingMode::kExplicit);
  EXPECT_EQ(p.top, 1);
  EXPECT_EQ(p.bottom, 1);
  // in 8, k3, s2: out 4, total = 6 + 3 - 8 = 1 -> the odd pixel goes to the bottom/right.
  p = resolve_padding(same, 8, 8, 3, 3, 2, 2, 1, 1);
  EXPECT_EQ(p.top, 0);
  EXPECT_EQ(p.bottom, 1);
  EXPECT_EQ(p.left, 0);
  EXPECT_EQ(p.right, 1);
  // in 9 (h), 6 (w), k5, s2: h: out 5, total 8+5-9 = 4 -> 2/2; w: out 3, total 4+5-6 = 3 -> 1/2.
  p = resolve_padding(same, 9, 6, 5, 5, 2, 2, 1, 1);
  EXPECT_EQ(p.top, 2);
  EXPECT_EQ(p.bottom, 2);
  EXPECT_EQ(p.left, 1);
  EXPECT_EQ(p.right, 2);
  // 1x1 input, k3, s2: total 2 -> 1/1. Dilation 2 turns k3 into 5: in 6, s1 -> total 4.
  p = resolve_padding(same, 1, 6, 3, 3, 2, 1, 1, 2);
  EXPECT_EQ(p.top, 1);
  EXPECT_EQ(p.bottom, 1);
  EXPECT_EQ(p.left, 2);
  EXPECT_EQ(p.right, 2);
  // Stride larger than the kernel can need no padding: in 8, k2, s4 -> out 2, total 4+2-8 < 0 -> 0.
  p = resolve_padding(same, 8, 8, 2, 2, 4, 4, 1, 1);
  EXPECT_EQ(p.top + p.bottom + p.left + p.right, 0);
}

TEST(ResolvePadding, ValidAndExplicit) {
  Padding p = resolve_padding(Padding{PaddingMode::kValid, 5, 5, 5, 5}, 9, 9, 3, 3, 2, 2, 1, 1);
  EXPECT_EQ(p.top + p.bottom + p.left + p.right, 0);
  p = resolve_padding(Padding{PaddingMode::kExplicit, 1, 2, 3, 4}, 9, 9, 3, 3, 2, 2, 1, 1);
  EXPECT_EQ(p.top, 1);
  EXPECT_EQ(p.left, 2);
  EXPECT_EQ(p.bottom, 3);
  EXPECT_EQ(p.right, 4);
  EXPECT_THROW(resolve_padding(Padding{}, 9, 9, 3, 3, 0, 1, 1, 1), Error);  // stride 0
}

// ---- Convolution and pooling ---------------------------------------------------------------------

TEST(ShapeInference, Conv2D) {
  OpCase same("same", make_op(OpType::kConv2D, conv(2, PaddingMode::kSame)));
  same.random_input(DType::kF32, {1, 9, 7, 3}).random_input(DType::kF32, {8, 3, 3, 3}).absent_input();
  EXPECT_EQ(out_shape(same), (Shape{1, 5, 4, 8}));  // ceil(9/2), ceil(7/2)

  ConvAttrs a = conv(2, PaddingMode::kExplicit);
  a.padding = {PaddingMode::kExplicit, 1, 1, 1, 1};  // RetinaFace stem: 640 -> 320
  OpCase stem("stem", make_op(OpType::kConv2D, a));
  stem.random_input(DType::kF32, {1, 4, 4, 3}).random_input(DType::kF32, {8, 3, 3, 3}).random_input(DType::kF32, {8});
  EXPECT_EQ(out_shape(stem), (Shape{1, 2, 2, 8}));

  OpCase valid("valid dilated", make_op(OpType::kConv2D, conv(1, PaddingMode::kValid, 2)));
  valid.random_input(DType::kF32, {2, 9, 8, 4}).random_input(DType::kF32, {6, 3, 3, 4});
  EXPECT_EQ(out_shape(valid), (Shape{2, 5, 4, 6}));  // dilated kernel 5

  ConvAttrs g = conv(1, PaddingMode::kValid);
  g.groups = 3;
  OpCase grouped("grouped", make_op(OpType::kConv2D, g));
  grouped.random_input(DType::kF32, {1, 5, 5, 6}).random_input(DType::kF32, {9, 3, 3, 2});
  EXPECT_EQ(out_shape(grouped), (Shape{1, 3, 3, 9}));
}

TEST(ShapeInference, Conv2DErrors) {
  OpCase channels("c", make_op(OpType::kConv2D, conv(1, PaddingMode::kSame), "conv_7"));
  channels.random_input(DType::kF32, {1, 5, 5, 4}).random_input(DType::kF32, {8, 3, 3, 3});
  const std::string msg = infer_error(channels);
  EXPECT_CONTAINS(msg, "test case 'c'");
  EXPECT_CONTAINS(msg, "conv_7");
  EXPECT_CONTAINS(msg, "(Conv2D)");
  EXPECT_CONTAINS(msg, "channel mismatch");

  OpCase rank("r", make_op(OpType::kConv2D, conv(1, PaddingMode::kSame)));
  rank.random_input(DType::kF32, {5, 5, 3}).random_input(DType::kF32, {8, 3, 3, 3});
  EXPECT_CONTAINS(infer_error(rank), "rank 4");

  OpCase bias("b", make_op(OpType::kConv2D, conv(1, PaddingMode::kSame)));
  bias.random_input(DType::kF32, {1, 5, 5, 3}).random_input(DType::kF32, {8, 3, 3, 3}).random_input(DType::kF32, {7});
  EXPECT_CONTAINS(infer_error(bias), "bias");

  OpCase big("k", make_op(OpType::kConv2D, conv(1, PaddingMode::kValid)));
  big.random_input(DType::kF32, {1, 2, 2, 3}).random_input(DType::kF32, {8, 3, 3, 3});
  EXPECT_CONTAINS(infer_error(big), "does not fit");

  OpCase stride0("s", make_op(OpType::kConv2D, conv(0, PaddingMode::kValid)));
  stride0.random_input(DType::kF32, {1, 5, 5, 3}).random_input(DType::kF32, {8, 3, 3, 3});
  EXPECT_CONTAINS(infer_error(stride0), "must all be >= 1");

  OpCase missing("m", make_op(OpType::kConv2D, conv(1, PaddingMode::kValid)));
  missing.random_input(DType::kF32, {1, 5, 5, 3});
  EXPECT_CONTAINS(infer_error(missing), "inputs");

  OpCase wrong_attrs("w", make_op(OpType::kConv2D, PoolAttrs{}));
  wrong_attrs.random_input(DType::kF32, {1, 5, 5, 3}).random_input(DType::kF32, {8, 3, 3, 3});
  EXPECT_CONTAINS(infer_error(wrong_attrs), "wrong kind");
}

TEST(ShapeInference, DepthwiseConv2D) {
  ConvAttrs a = conv(2, PaddingMode::kSame);
  a.depth_multiplier = 2;
  OpCase c("dw", make_op(OpType::kDepthwiseConv2D, a));
  c.random_input(DType::kF32, {1, 9, 7, 3}).random_input(DType::kF32, {1, 3, 3, 6}).random_input(DType::kF32, {6});
  EXPECT_EQ(out_shape(c), (Shape{1, 5, 4, 6}));

  OpCase bad("dw", make_op(OpType::kDepthwiseConv2D, conv(1, PaddingMode::kSame)));
  bad.random_input(DType::kF32, {1, 9, 7, 3}).random_input(DType::kF32, {1, 3, 3, 6});
  EXPECT_CONTAINS(infer_error(bad), "depth_multiplier");
}

TEST(ShapeInference, Pools) {
  PoolAttrs a;
  a.filter_h = a.filter_w = 2;
  a.stride_h = a.stride_w = 2;
  a.padding.mode = PaddingMode::kValid;
  OpCase max("max", make_op(OpType::kMaxPool2D, a));
  max.random_input(DType::kF32, {1, 7, 5, 13});
  EXPECT_EQ(out_shape(max), (Shape{1, 3, 2, 13}));
  a.padding.mode = PaddingMode::kSame;
  OpCase avg("avg", make_op(OpType::kAvgPool2D, a));
  avg.random_input(DType::kF32, {2, 7, 1, 3});
  EXPECT_EQ(out_shape(avg), (Shape{2, 4, 1, 3}));
}

// ---- Elementwise ---------------------------------------------------------------------------------

TEST(ShapeInference, BinaryBroadcasts) {
  OpCase c("add", make_op(OpType::kAdd));
  c.random_input(DType::kF32, {2, 1, 3}).random_input(DType::kF32, {4, 1});
  EXPECT_EQ(out_shape(c), (Shape{2, 4, 3}));
  OpCase s("scalar", make_op(OpType::kMul));
  s.random_input(DType::kI64, {}).random_input(DType::kI64, {3});
  EXPECT_EQ(out_shape(s), (Shape{3}));
  EXPECT_EQ(out_dtype(s), DType::kI64);

  OpCase bad("bad", make_op(OpType::kSub));
  bad.random_input(DType::kF32, {2, 3}).random_input(DType::kF32, {4});
  EXPECT_CONTAINS(infer_error(bad), "do not broadcast");
  OpCase mixed("mixed", make_op(OpType::kAdd));
  mixed.random_input(DType::kF32, {3}).random_input(DType::kI32, {3});
  EXPECT_CONTAINS(infer_error(mixed), "dtypes differ");
}

TEST(ShapeInference, UnaryPReluCastDequantize) {
  OpCase relu("relu", make_op(OpType::kRelu));
  relu.random_input(DType::kF32, {2, 3});
  EXPECT_EQ(out_shape(relu), (Shape{2, 3}));

  OpCase prelu("prelu", make_op(OpType::kPRelu));
  prelu.random_input(DType::kF32, {1, 4, 4, 13}).random_input(DType::kF32, {1, 1, 13});
  EXPECT_EQ(out_shape(prelu), (Shape{1, 4, 4, 13}));
  OpCase prelu_bad("prelu", make_op(OpType::kPRelu));
  prelu_bad.random_input(DType::kF32, {1, 4, 4, 1}).random_input(DType::kF32, {13});
  EXPECT_CONTAINS(infer_error(prelu_bad), "alpha");

  OpCase cast("cast", make_op(OpType::kCast, CastAttrs{static_cast<uint8_t>(DType::kI64)}));
  cast.random_input(DType::kF32, {5});
  EXPECT_EQ(out_dtype(cast), DType::kI64);

  OpCase deq("deq", make_op(OpType::kDequantize));
  deq.random_input(DType::kF16, {8, 3, 3, 3});
  EXPECT_EQ(out_dtype(deq), DType::kF32);
  EXPECT_EQ(out_shape(deq), (Shape{8, 3, 3, 3}));
  OpCase deq_bad("deq", make_op(OpType::kDequantize));
  deq_bad.random_input(DType::kF32, {2});
  EXPECT_CONTAINS(infer_error(deq_bad), "f16");
}

// ---- Layout and shape ----------------------------------------------------------------------------

TEST(ShapeInference, Reshape) {
  OpCase attrs("attrs", make_op(OpType::kReshape, ReshapeAttrs{{2, -1}, false}));
  attrs.random_input(DType::kF32, {2, 3, 4});
  EXPECT_EQ(out_shape(attrs), (Shape{2, 12}));

  // ONNX: 0 copies the input dimension (RetinaFace heads: [N, -1, 4] written as [0, -1, 4]).
  OpCase onnx("onnx", make_op(OpType::kReshape, ReshapeAttrs{{}, true}));
  onnx.random_input(DType::kF32, {2, 8, 3, 5}).input_i64({3}, {0, -1, 4}).constant();
  EXPECT_EQ(out_shape(onnx), (Shape{2, 30, 4}));

  // TFLite: a 0 is a real zero-sized dimension, so the element counts disagree.
  OpCase tfl("tfl", make_op(OpType::kReshape, ReshapeAttrs{{0, -1}, false}));
  tfl.random_input(DType::kF32, {2, 3});
  EXPECT_CONTAINS(infer_error(tfl), "-1");

  OpCase i32("i32", make_op(OpType::kReshape));
  i32.random_input(DType::kF32, {1, 1, 1, 1404}).input_i32({2}, {468, 3}).constant();
  EXPECT_EQ(out_shape(i32), (Shape{468, 3}));

  OpCase runtime("runtime", make_op(OpType::kReshape));
  runtime.random_input(DType::kF32, {2, 3}).random_input(DType::kI64, {1}, 6, 6);  // not constant
  std::vector<TensorView> views = runtime.plan_time_inputs();
  std::vector<TensorDesc> out(1);
  try {
    infer_output_descs("m.onnx", runtime.op(), views, out);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_CONTAINS(e.what(), "m.onnx");
    EXPECT_CONTAINS(e.what(), "not known at plan time");
  }

  OpCase two("two", make_op(OpType::kReshape, ReshapeAttrs{{-1, -1}, false}));
  two.random_input(DType::kF32, {2, 3});
  EXPECT_CONTAINS(infer_error(two), "more than one -1");
  OpCase count("count", make_op(OpType::kReshape, ReshapeAttrs{{4, 2}, false}));
  count.random_input(DType::kF32, {2, 3});
  EXPECT_CONTAINS(infer_error(count), "cannot reshape 2x3");
}

TEST(ShapeInference, TransposeConcat) {
  OpCase t("t", make_op(OpType::kTranspose, TransposeAttrs{{0, 3, 1, 2}}));
  t.random_input(DType::kF32, {1, 5, 7, 3});
  EXPECT_EQ(out_shape(t), (Shape{1, 3, 5, 7}));
  OpCase rev("reverse", make_op(OpType::kTranspose));
  rev.random_input(DType::kF32, {2, 3, 4});
  EXPECT_EQ(out_shape(rev), (Shape{4, 3, 2}));
  OpCase bad("bad", make_op(OpType::kTranspose, TransposeAttrs{{0, 0, 1}}));
  bad.random_input(DType::kF32, {2, 3, 4});
  EXPECT_CONTAINS(infer_error(bad), "permutation");

  OpCase c("concat", make_op(OpType::kConcat, ConcatAttrs{-2, Activation::kNone}));
  c.random_input(DType::kF32, {1, 3, 4}).random_input(DType::kF32, {1, 5, 4});
  EXPECT_EQ(out_shape(c), (Shape{1, 8, 4}));
  OpCase mismatch("concat", make_op(OpType::kConcat, ConcatAttrs{1, Activation::kNone}));
  mismatch.random_input(DType::kF32, {1, 3, 4}).random_input(DType::kF32, {1, 5, 2});
  EXPECT_CONTAINS(infer_error(mismatch), "outside the concat axis");
  OpCase axis("concat", make_op(OpType::kConcat, ConcatAttrs{3, Activation::kNone}));
  axis.random_input(DType::kF32, {1, 3, 4});
  EXPECT_CONTAINS(infer_error(axis), "concat axis 3 is out of range for rank 3");
}

SliceAttrs slice1(int64_t begin, int64_t end, int64_t stride) {
  SliceAttrs a;
  a.axes = {0};
  a.begin = {begin};
  a.end = {end};
  a.strides = {stride};
  return a;
}

Shape slice_shape(const SliceAttrs& a, const Shape& in) {
  OpCase c("slice", make_op(OpType::kSlice, a));
  c.random_input(DType::kF32, in);
  return out_shape(c);
}

TEST(ShapeInference, SlicePythonSemantics) {
  constexpr int64_t kStart = SliceAttrs::kSliceStart, kEnd = SliceAttrs::kSliceEnd;
  EXPECT_EQ(slice_shape(slice1(2, 7, 1), {10}), Shape{5});
  EXPECT_EQ(slice_shape(slice1(-3, kEnd, 1), {10}), Shape{3});     // x[-3:]
  EXPECT_EQ(slice_shape(slice1(1, 100, 3), {10}), Shape{3});       // 1, 4, 7 (end clamped)
  EXPECT_EQ(slice_shape(slice1(-100, 2, 1), {10}), Shape{2});      // begin clamped to 0
  EXPECT_EQ(slice_shape(slice1(kStart, kEnd, -1), {10}), Shape{10});  // x[::-1]
  EXPECT_EQ(slice_shape(slice1(-1, kEnd, -2), {10}), Shape{5});    // 9, 7, 5, 3, 1
  EXPECT_EQ(slice_shape(slice1(8, 2, -3), {10}), Shape{2});        // 8, 5
  EXPECT_EQ(slice_shape(slice1(-1, INT64_MIN, -1), {10}), Shape{10});  // ONNX reverse idiom
  EXPECT_EQ(slice_shape(slice1(5, 2, 1), {10}), Shape{0});         // empty
  EXPECT_EQ(slice_shape(slice1(0, kEnd, INT64_MAX), {10}), Shape{1});  // huge stride: one element

  SliceAttrs shrink;  // TFLite x[:, 1, ::-1]
  shrink.axes = {1, 2};
  shrink.begin = {1, kStart};
  shrink.end = {2, kEnd};
  shrink.strides = {1, -1};
  shrink.shrink_axis_mask = 1u << 1;
  EXPECT_EQ(slice_shape(shrink, {2, 3, 4}), (Shape{2, 4}));

  SliceAttrs bad_shrink = shrink;
  bad_shrink.begin = {3, 0};
  OpCase c("slice", make_op(OpType::kSlice, bad_shrink));
  c.random_input(DType::kF32, {2, 3, 4});
  EXPECT_CONTAINS(infer_error(c), "shrink index 3");

  OpCase zero("slice", make_op(OpType::kSlice, slice1(0, 5, 0)));
  zero.random_input(DType::kF32, {10});
  EXPECT_CONTAINS(infer_error(zero), "stride is 0");
  OpCase axis("slice", make_op(OpType::kSlice, [] { SliceAttrs a = slice1(0, 1, 1); a.axes = {-3}; return a; }()));
  axis.random_input(DType::kF32, {4, 4});
  EXPECT_CONTAINS(infer_error(axis), "slice axis -3");
}

TEST(ShapeInference, PadGatherShape) {
  OpCase pad("pad", make_op(OpType::kPad, PadAttrs{{0, 0, 1, 2, 0, 1, 0, 0}, 0.f}));
  pad.random_input(DType::kF32, {1, 5, 5, 3});
  EXPECT_EQ(out_shape(pad), (Shape{1, 8, 6, 3}));
  OpCase crop("crop", make_op(OpType::kPad, PadAttrs{{-1, 0}, 0.f}));
  crop.random_input(DType::kF32, {5});
  EXPECT_EQ(out_shape(crop), Shape{4});
  OpCase badpad("pad", make_op(OpType::kPad, PadAttrs{{1, 1}, 0.f}));
  badpad.random_input(DType::kF32, {2, 2});
  EXPECT_CONTAINS(infer_error(badpad), "pads has 2 entries for rank 2");

  // RetinaFace's shape subgraph: Gather(Shape(x), 0) -> scalar batch size.
  OpCase scalar("scalar", make_op(OpType::kGather, GatherAttrs{0}));
  scalar.input_i64({4}, {1, 3, 640, 640}).input_i64({}, {0});
  EXPECT_EQ(out_shape(scalar), Shape{});
  EXPECT_EQ(out_dtype(scalar), DType::kI64);
  OpCase matrix("matrix", make_op(OpType::kGather, GatherAttrs{-2}));
  matrix.random_input(DType::kF32, {2, 7, 3}).input_i32({2, 2}, {0, 1, -1, 2});
  EXPECT_EQ(out_shape(matrix), (Shape{2, 2, 2, 3}));
  OpCase range("range", make_op(OpType::kGather, GatherAttrs{0}));
  range.random_input(DType::kF32, {3}).input_i64({1}, {3});
  EXPECT_CONTAINS(infer_error(range), "index 3 is out of range");

  OpCase shape("shape", make_op(OpType::kShape));
  shape.random_input(DType::kF32, {1, 3, 20, 20});
  EXPECT_EQ(out_shape(shape), Shape{4});
  EXPECT_EQ(out_dtype(shape), DType::kI64);
}

TEST(ShapeInference, UnsqueezeSqueeze) {
  OpCase u("u", make_op(OpType::kUnsqueeze, AxesAttrs{{0}}));
  u.input_i64({}, {7});
  EXPECT_EQ(out_shape(u), Shape{1});
  OpCase un("u", make_op(OpType::kUnsqueeze, AxesAttrs{{-1, 1}}));  // output positions 3 and 1
  un.random_input(DType::kF32, {2, 3});
  EXPECT_EQ(out_shape(un), (Shape{2, 1, 3, 1}));
  OpCase dup("u", make_op(OpType::kUnsqueeze, AxesAttrs{{1, -2}}));  // both are position 1
  dup.random_input(DType::kF32, {2});
  EXPECT_CONTAINS(infer_error(dup), "twice");

  OpCase all("s", make_op(OpType::kSqueeze));
  all.random_input(DType::kF32, {1, 3, 1, 2});
  EXPECT_EQ(out_shape(all), (Shape{3, 2}));
  OpCase one("s", make_op(OpType::kSqueeze, AxesAttrs{{-2}}));
  one.random_input(DType::kF32, {1, 3, 1, 2});
  EXPECT_EQ(out_shape(one), (Shape{1, 3, 2}));
  OpCase bad("s", make_op(OpType::kSqueeze, AxesAttrs{{1}}));
  bad.random_input(DType::kF32, {1, 3});
  EXPECT_CONTAINS(infer_error(bad), "cannot squeeze axis 1 of size 3");
}

TEST(ShapeInference, Resize) {
  OpCase sized("sized", make_op(OpType::kResize, ResizeAttrs{}));
  sized.random_input(DType::kF32, {1, 20, 20, 8}).input_i64({2}, {39, 39}).constant();
  EXPECT_EQ(out_shape(sized), (Shape{1, 39, 39, 8}));
  ResizeAttrs a;
  a.scale_h = 1.95f;  // floor(20 * 1.95) = 39 (computed in double: 38.99999... would be 38)
  a.scale_w = 2.f;
  OpCase scaled("scaled", make_op(OpType::kResize, a));
  scaled.random_input(DType::kF32, {1, 20, 5, 8});
  EXPECT_EQ(out_shape(scaled), (Shape{1, 39, 10, 8}));

  OpCase runtime("runtime", make_op(OpType::kResize, ResizeAttrs{}));
  runtime.random_input(DType::kF32, {1, 20, 20, 8}).input_i64({2}, {39, 39});
  std::vector<TensorView> views = runtime.plan_time_inputs();
  std::vector<TensorDesc> out(1);
  EXPECT_THROW(infer_output_descs("m.onnx", runtime.op(), views, out), Error);
  OpCase four("four", make_op(OpType::kResize, ResizeAttrs{}));
  four.random_input(DType::kF32, {1, 20, 20, 8}).input_i64({4}, {1, 8, 39, 39});
  EXPECT_CONTAINS(infer_error(four), "[out_h, out_w]");
}

// ---- Reductions, softmax, dense ------------------------------------------------------------------

TEST(ShapeInference, ReduceSoftmaxFullyConnected) {
  OpCase keep("keep", make_op(OpType::kMean, ReduceAttrs{{1, 2}, true}));
  keep.random_input(DType::kF32, {1, 7, 5, 13});
  EXPECT_EQ(out_shape(keep), (Shape{1, 1, 1, 13}));
  OpCase drop("drop", make_op(OpType::kSum, ReduceAttrs{{-1, 2}, false}));  // the same axis twice
  drop.random_input(DType::kF32, {2, 3, 4});
  EXPECT_EQ(out_shape(drop), (Shape{2, 3}));
  OpCase all("all", make_op(OpType::kMean, ReduceAttrs{{}, false}));
  all.random_input(DType::kF32, {2, 3, 4});
  EXPECT_EQ(out_shape(all), Shape{});
  OpCase bad("bad", make_op(OpType::kSum, ReduceAttrs{{3}, false}));
  bad.random_input(DType::kF32, {2, 3, 4});
  EXPECT_CONTAINS(infer_error(bad), "reduction axis 3");

  OpCase sm("softmax", make_op(OpType::kSoftmax, SoftmaxAttrs{-1, 1.f}));
  sm.random_input(DType::kF32, {1, 16800, 2});
  EXPECT_EQ(out_shape(sm), (Shape{1, 16800, 2}));

  OpCase fc("fc", make_op(OpType::kFullyConnected, FullyConnectedAttrs{Activation::kNone, true}));
  fc.random_input(DType::kF32, {2, 3, 13}).random_input(DType::kF32, {5, 13});
  EXPECT_EQ(out_shape(fc), (Shape{2, 3, 5}));
  OpCase flat("fc", make_op(OpType::kFullyConnected, FullyConnectedAttrs{Activation::kNone, false}));
  flat.random_input(DType::kF32, {2, 3, 13}).random_input(DType::kF32, {5, 39});
  EXPECT_EQ(out_shape(flat), (Shape{2, 5}));
  OpCase fc_bad("fc", make_op(OpType::kFullyConnected, FullyConnectedAttrs{Activation::kNone, true}));
  fc_bad.random_input(DType::kF32, {2, 12}).random_input(DType::kF32, {5, 13});
  EXPECT_CONTAINS(infer_error(fc_bad), "K = 13");
}

TEST(ShapeInference, RejectsUnresolvedInputShapes) {
  OpCase c("dyn", make_op(OpType::kRelu));
  c.random_input(DType::kF32, {1});
  std::vector<TensorView> views = c.inputs();
  views[0].shape = Shape{-1, 3};
  std::vector<TensorDesc> out(1);
  EXPECT_THROW(infer_output_descs("m", c.op(), views, out), Error);
}

}  // namespace
}  // namespace facepipe::test
