// Small synthetic models exercising the importers' op mappings: used by the tests and as the
// fuzzers' seed corpus (fuzz/make_seeds.cpp). Built in code, never copied from real model files.
#pragma once

#include "import_builders.h"

namespace facepipe::test::samples {

// TFLite builtin codes and BuiltinOptions union ids (tensorflow/lite/schema/schema.fbs).
enum : int32_t {
  kAdd = 0, kConcatenation = 2, kConv2D = 3, kDepthwiseConv2D = 4, kDequantize = 6, kLogistic = 14,
  kMaxPool2D = 17, kMul = 18, kRelu = 19, kReshape = 22, kResizeBilinear = 23, kPad = 34, kTranspose = 39,
  kMean = 40, kSub = 41, kStridedSlice = 45, kPRelu = 54, kTopKV2 = 48,
};
enum : uint8_t {
  kConv2DOptions = 1, kDepthwiseConv2DOptions = 2, kPool2DOptions = 5, kConcatenationOptions = 10, kAddOptions = 11,
  kResizeBilinearOptions = 15, kReshapeOptions = 17, kReducerOptions = 27, kStridedSliceOptions = 32,
};
constexpr int8_t kF32 = 0, kF16 = 1, kI32 = 2;

inline Bytes half_bytes(const std::vector<uint16_t>& v) { return TfliteBuilder::bytes_of(v); }

// input [1,8,8,3] -> DEQUANTIZE(f16 weights) -> CONV_2D(SAME, relu6) -> MAX_POOL_2D -> RESHAPE [1,-1].
// Weights are 1.0, 2.0, ... as float16 so the folded values can be checked.
inline TfliteBuilder tflite_conv() {
  TfliteBuilder b;
  const int32_t x = b.tensor("input", {1, 8, 8, 3});
  std::vector<uint16_t> w16;
  for (int i = 0; i < 4 * 3 * 3 * 3; ++i) w16.push_back(static_cast<uint16_t>(0x3c00 + (i % 8) * 0x400 / 8));  // 1.0 .. 1.875
  const int32_t w_half = b.tensor("conv/w_fp16", {4, 3, 3, 3}, kF16, half_bytes(w16));
  const int32_t w = b.tensor("conv/w", {4, 3, 3, 3});
  const int32_t bias = b.tensor("conv/b", {4}, kF32, TfliteBuilder::bytes_of(std::vector<float>{0.5f, -1, 2, 0}));
  const int32_t conv = b.tensor("conv", {1, 8, 8, 4});
  const int32_t pool = b.tensor("pool", {1, 4, 4, 4});
  const int32_t out = b.tensor("output", {1, 64});
  b.op(kDequantize, {w_half}, {w});
  auto conv_opts = fb_table();
  conv_opts->scalar<int8_t>(0, 0).scalar<int32_t>(1, 1).scalar<int32_t>(2, 1).scalar<int8_t>(3, 3);
  b.op(kConv2D, {x, w, bias}, {conv}, conv_opts, kConv2DOptions);
  auto pool_opts = fb_table();
  pool_opts->scalar<int8_t>(0, 1).scalar<int32_t>(1, 2).scalar<int32_t>(2, 2).scalar<int32_t>(3, 2).scalar<int32_t>(4, 2);
  b.op(kMaxPool2D, {conv}, {pool}, pool_opts, kPool2DOptions);
  auto reshape_opts = fb_table();
  reshape_opts->child(0, fb_vector(std::vector<int32_t>{1, -1}));
  b.op(kReshape, {pool}, {out}, reshape_opts, kReshapeOptions);
  b.inputs = {x};
  b.outputs = {out};
  return b;
}

// input [-1,6,6,2] (dynamic batch via shape_signature): PAD, DEPTHWISE_CONV_2D (multiplier 2),
// STRIDED_SLICE with masks, TRANSPOSE, MEAN(keep_dims), RESIZE_BILINEAR(half pixel), CONCATENATION, ADD.
inline TfliteBuilder tflite_misc() {
  TfliteBuilder b;
  const int32_t x = b.tensor("input", {1, 6, 6, 2});
  b.tensors[static_cast<size_t>(x)].shape_signature = {-1, 6, 6, 2};
  auto i32 = [](std::vector<int32_t> v) { return TfliteBuilder::bytes_of(v); };
  const int32_t paddings = b.tensor("paddings", {4, 2}, kI32, i32({0, 0, 1, 1, 2, 2, 0, 0}));
  const int32_t padded = b.tensor("padded", {1, 8, 10, 2});
  b.op(kPad, {x, paddings}, {padded});
  const int32_t dw_w = b.tensor("dw/w", {1, 3, 3, 4}, kF32, TfliteBuilder::bytes_of(std::vector<float>(36, 0.25f)));
  const int32_t dw = b.tensor("dw", {1, 8, 10, 4});
  auto dw_opts = fb_table();
  dw_opts->scalar<int8_t>(0, 0).scalar<int32_t>(1, 1).scalar<int32_t>(2, 1).scalar<int32_t>(3, 2).scalar<int8_t>(4, 1);
  b.op(kDepthwiseConv2D, {padded, dw_w, -1}, {dw}, dw_opts, kDepthwiseConv2DOptions);
  const int32_t begin = b.tensor("begin", {4}, kI32, i32({0, 1, 0, 1}));
  const int32_t end = b.tensor("end", {4}, kI32, i32({0, 7, 0, 3}));
  const int32_t strides = b.tensor("strides", {4}, kI32, i32({1, 1, 2, 1}));
  const int32_t sliced = b.tensor("sliced", {1, 6, 5, 2});
  auto ss_opts = fb_table();
  ss_opts->scalar<int32_t>(0, 0b0101).scalar<int32_t>(1, 0b0101);  // begin/end masks on axes 0 and 2
  b.op(kStridedSlice, {dw, begin, end, strides}, {sliced}, ss_opts, kStridedSliceOptions);
  const int32_t perm = b.tensor("perm", {4}, kI32, i32({0, 2, 1, 3}));
  const int32_t transposed = b.tensor("transposed", {1, 5, 6, 2});
  b.op(kTranspose, {sliced, perm}, {transposed});
  const int32_t axes = b.tensor("axes", {2}, kI32, i32({1, 2}));
  const int32_t mean = b.tensor("mean", {1, 1, 1, 2});
  auto mean_opts = fb_table();
  mean_opts->scalar<uint8_t>(0, 1);
  b.op(kMean, {transposed, axes}, {mean}, mean_opts, kReducerOptions);
  const int32_t size = b.tensor("size", {2}, kI32, i32({5, 6}));
  const int32_t resized = b.tensor("resized", {1, 5, 6, 2});
  auto resize_opts = fb_table();
  resize_opts->scalar<uint8_t>(3, 1);
  b.op(kResizeBilinear, {mean, size}, {resized}, resize_opts, kResizeBilinearOptions);
  const int32_t concat = b.tensor("concat", {1, 5, 6, 4});
  auto concat_opts = fb_table();
  concat_opts->scalar<int32_t>(0, -1);
  b.op(kConcatenation, {transposed, resized}, {concat}, concat_opts, kConcatenationOptions);
  const int32_t sum = b.tensor("output", {1, 5, 6, 4});
  auto add_opts = fb_table();
  add_opts->scalar<int8_t>(0, 1);
  b.op(kAdd, {concat, concat}, {sum}, add_opts, kAddOptions);
  b.inputs = {x};
  b.outputs = {sum};
  return b;
}

// ONNX, fixed [1,3,8,8]: Conv(pads 1) -> LeakyRelu -> depthwise Conv(group 4, M=1) -> Add([4,1,1]
// constant) -> MaxPool -> Transpose(0,2,3,1) -> Reshape[1,-1,4] -> Softmax -> output "scores".
inline OnnxBuilder onnx_conv() {
  OnnxBuilder b;
  std::vector<float> w(4 * 3 * 3 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i);  // value = OIHW flat index
  std::vector<float> dw(4 * 1 * 3 * 3);
  for (size_t i = 0; i < dw.size(); ++i) dw[i] = static_cast<float>(i);
  b.initializers = {onnx_f32("w", {4, 3, 3, 3}, w), onnx_f32("b", {4}, {1, 2, 3, 4}), onnx_f32("dw", {4, 1, 3, 3}, dw),
                    onnx_f32("chan_bias", {4, 1, 1}, {10, 20, 30, 40}), onnx_i64("shape", {3}, {1, -1, 4})};
  b.inputs = {onnx_value_info("x", 1, {1, 3, 8, 8})};
  b.nodes = {
      onnx_node("Conv", {"x", "w", "b"}, {"c1"}, {onnx_attr_ints("pads", {1, 1, 1, 1}), onnx_attr_ints("kernel_shape", {3, 3})}),
      onnx_node("LeakyRelu", {"c1"}, {"r1"}, {onnx_attr_float("alpha", 0.1f)}),
      onnx_node("Conv", {"r1", "dw"}, {"c2"}, {onnx_attr_int("group", 4), onnx_attr_ints("pads", {1, 1, 1, 1})}),
      onnx_node("Add", {"c2", "chan_bias"}, {"a1"}),
      onnx_node("MaxPool", {"a1"}, {"p1"}, {onnx_attr_ints("kernel_shape", {2, 2}), onnx_attr_ints("strides", {2, 2})}),
      onnx_node("Transpose", {"p1"}, {"t1"}, {onnx_attr_ints("perm", {0, 2, 3, 1})}),
      onnx_node("Reshape", {"t1", "shape"}, {"r2"}),
      onnx_node("Softmax", {"r2"}, {"scores"}, {onnx_attr_int("axis", -1)}),
  };
  b.outputs = {onnx_value_info("scores", 1, {1, 16, 4})};
  return b;
}

// ONNX, dynamic [N,3,H,W]: Conv; a head reshape whose batch comes from Shape/Gather/Unsqueeze/
// Concat; an upsample whose size comes from Shape/Slice/Concat of the tensor it is added to.
inline OnnxBuilder onnx_dynamic() {
  OnnxBuilder b;
  b.initializers = {onnx_f32("w", {2, 3, 1, 1}, {1, 0, 0, 0, 1, 0}), onnx_f32("w2", {2, 2, 3, 3}, std::vector<float>(36, 0.1f)),
                    onnx_i64("zero", {}, {0}), onnx_i64("tail", {2}, {-1, 2}), onnx_i64("s_begin", {1}, {2}),
                    onnx_i64("s_end", {1}, {4}), onnx_i64("s_axes", {1}, {0}), onnx_i64("nc", {2}, {1, 2})};
  b.inputs = {onnx_value_info("x", 1, {-1, 3, -1, -1})};
  Pb axes_const = onnx_node("Constant", {}, {"axes0"}, {onnx_attr_tensor("value", onnx_i64("", {1}, {0}))});
  b.nodes = {
      onnx_node("Conv", {"x", "w"}, {"c1"}),
      onnx_node("Conv", {"c1", "w2"}, {"c2"}, {onnx_attr_ints("strides", {2, 2}), onnx_attr_ints("pads", {1, 1, 1, 1})}),
      onnx_node("Shape", {"c1"}, {"c1_shape"}),
      onnx_node("Slice", {"c1_shape", "s_begin", "s_end", "s_axes"}, {"c1_hw"}),
      onnx_node("Concat", {"nc", "c1_hw"}, {"up_size"}, {onnx_attr_int("axis", 0)}),
      onnx_node("Resize", {"c2", "", "", "up_size"}, {"up"},
                {onnx_attr_string("mode", "nearest"), onnx_attr_string("coordinate_transformation_mode", "asymmetric"),
                 onnx_attr_string("nearest_mode", "floor")}),
      onnx_node("Add", {"c1", "up"}, {"merged"}),
      onnx_node("Transpose", {"merged"}, {"nhwc"}, {onnx_attr_ints("perm", {0, 2, 3, 1})}),
      onnx_node("Shape", {"nhwc"}, {"nhwc_shape"}),
      onnx_node("Gather", {"nhwc_shape", "zero"}, {"batch"}, {onnx_attr_int("axis", 0)}),
      axes_const,
      onnx_node("Unsqueeze", {"batch", "axes0"}, {"batch1"}),
      onnx_node("Concat", {"batch1", "tail"}, {"head_shape"}, {onnx_attr_int("axis", 0)}),
      onnx_node("Reshape", {"nhwc", "head_shape"}, {"out"}),
  };
  b.outputs = {onnx_value_info("out", 1, {-1, -1, 2})};
  return b;
}

}  // namespace facepipe::test::samples
