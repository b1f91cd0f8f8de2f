// The operations of facepipe's graph IR and their typed attributes.
//
// Conventions every importer and backend relies on (docs/engine.md has the rationale):
//  * Spatial ops (Conv2D, DepthwiseConv2D, pools, Resize) work on NHWC tensors. The ONNX importer
//    lowers NCHW models to NHWC at import time, so backends see one layout only.
//  * Conv2D weights are OHWI: [out_channels, kernel_h, kernel_w, in_channels / groups].
//    DepthwiseConv2D weights are [1, kernel_h, kernel_w, in_channels * depth_multiplier].
//    Biases are 1-D [out_channels] and optional.
//  * Elementwise binary ops broadcast like numpy (align trailing dimensions, 1 stretches).
//  * Axes stored in attributes may be negative (counted from the end) exactly as the source file
//    had them; shape inference normalizes them against the input rank.
//  * Every op lists its inputs and outputs as tensor ids of the Graph. An input id of -1 means
//    "optional input absent" (for example a Conv2D without bias).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace facepipe::engine {

enum class OpType : uint16_t {
  // Convolution and pooling (NHWC).
  kConv2D,           // in: x, weights(OHWI), bias?    attrs: ConvAttrs
  kDepthwiseConv2D,  // in: x, weights(1HW[C*M]), bias? attrs: ConvAttrs (groups unused, depth_multiplier)
  kMaxPool2D,        // in: x                          attrs: PoolAttrs
  kAvgPool2D,        // in: x                          attrs: PoolAttrs (padding excluded from the average)
  // Elementwise binary, numpy broadcasting.               attrs: BinaryAttrs (fused activation)
  kAdd,
  kSub,
  kMul,
  kDiv,
  kSquaredDifference,  // (a - b)^2
  kMaximum,
  kMinimum,
  // Elementwise unary.                                   attrs: none unless noted
  kRelu,
  kRelu6,
  kLeakyRelu,  // attrs: LeakyReluAttrs
  kPRelu,      // in: x, alpha (broadcast to x)
  kLogistic,   // sigmoid
  kTanh,
  kNeg,
  kSqrt,
  kRsqrt,
  kExp,
  kDequantize,  // in: f16 constant -> f32; the TFLite importer folds fp16 weights at load, planning folds the rest
  kCast,        // attrs: CastAttrs
  // Layout and shape.
  kReshape,    // in: x, shape? (i32/i64, known at plan time) attrs: ReshapeAttrs
  kTranspose,  // in: x                          attrs: TransposeAttrs
  kConcat,     // in: x0..xn                     attrs: ConcatAttrs
  kSlice,      // in: x                          attrs: SliceAttrs (strided, python semantics)
  kPad,        // in: x                          attrs: PadAttrs (constant padding)
  kGather,     // in: data, indices (i32/i64)    attrs: GatherAttrs
  kShape,      // in: x -> i64 [rank(x)] holding x's dims
  kUnsqueeze,  // in: x                          attrs: AxesAttrs (axes of the output to insert)
  kSqueeze,    // in: x                          attrs: AxesAttrs (empty: every dim of size 1)
  kResize,     // in: x(NHWC), size? (i32/i64 [out_h, out_w], known at plan time) attrs: ResizeAttrs
  // Reductions.                                          attrs: ReduceAttrs
  kMean,
  kSum,
  // Normalization.
  kSoftmax,  // attrs: SoftmaxAttrs
  // in: x, gamma? [C], beta? [C] -> (x - mean) / sqrt(var + epsilon) * gamma + beta over the last
  // axis (C). No importer emits it: the CUDA planner fuses TFLite's decomposed chain into it.
  kLayerNorm,  // attrs: LayerNormAttrs
  // Dense.
  kFullyConnected,  // in: x [..., K], weights [N, K], bias? [N] -> [..., N] attrs: FullyConnectedAttrs
  kCount
};

// Name table; a static_assert in op.cpp keeps it in step with the enum.
std::string_view op_type_name(OpType type);

enum class Activation : uint8_t {
  kNone = 0,
  kRelu,
  kRelu6,
  kReluN1To1,  // clamp to [-1, 1]
  kTanh,
  kSigmoid,
  kLeakyRelu,  // uses `activation_alpha`
};

// How spatial padding is chosen.
enum class PaddingMode : uint8_t {
  kExplicit = 0,  // use pad_top/left/bottom/right as given
  kSame,          // TFLite/TF SAME: output = ceil(in / stride); extra padding goes to bottom/right
  kValid,         // no padding
};

struct Padding {
  PaddingMode mode = PaddingMode::kExplicit;
  int32_t top = 0, left = 0, bottom = 0, right = 0;
};

struct ConvAttrs {
  int32_t stride_h = 1, stride_w = 1;
  int32_t dilation_h = 1, dilation_w = 1;
  Padding padding;
  int32_t groups = 1;            // Conv2D only: in_channels / weight in-dim
  int32_t depth_multiplier = 1;  // DepthwiseConv2D only
  Activation activation = Activation::kNone;
  float activation_alpha = 0.f;
};

struct PoolAttrs {
  int32_t filter_h = 1, filter_w = 1;
  int32_t stride_h = 1, stride_w = 1;
  Padding padding;
  Activation activation = Activation::kNone;
  float activation_alpha = 0.f;
};

struct BinaryAttrs {
  Activation activation = Activation::kNone;
  float activation_alpha = 0.f;
};

struct LeakyReluAttrs {
  float alpha = 0.01f;
};

struct CastAttrs {
  uint8_t to = 0;  // a DType value
};

struct ReshapeAttrs {
  // Used when the op has no shape input. May hold one -1 (inferred) and 0s.
  std::vector<int64_t> shape;
  // ONNX semantics: a 0 copies the input's dimension at that index. TFLite: false.
  bool zero_copies_dim = false;
};

struct TransposeAttrs {
  std::vector<int32_t> perm;  // output dim i = input dim perm[i]
};

struct ConcatAttrs {
  int32_t axis = 0;
  Activation activation = Activation::kNone;
};

// Python-style strided slice. axes[i] names the input axis that begin[i]/end[i]/strides[i] apply
// to; axes not listed keep their full range. begin/end may be negative and are clamped to the dimension like numpy; kSliceStart/kSliceEnd mean "from the very
// start/end in the stride's direction". shrink_axis_mask bit i drops output axis i (taking the
// element at begin), as TFLite's STRIDED_SLICE does.
struct SliceAttrs {
  static constexpr int64_t kSliceStart = INT64_MIN;
  static constexpr int64_t kSliceEnd = INT64_MAX;
  std::vector<int32_t> axes;  // which input axes begin/end/strides refer to
  std::vector<int64_t> begin;
  std::vector<int64_t> end;
  std::vector<int64_t> strides;
  uint32_t shrink_axis_mask = 0;  // bits refer to input axes
};

struct PadAttrs {
  // Per input dim, in dimension order: {before_0, after_0, before_1, after_1, ...}.
  std::vector<int64_t> pads;
  float value = 0.f;
};

struct GatherAttrs {
  int32_t axis = 0;
};

struct AxesAttrs {
  std::vector<int32_t> axes;
};

enum class ResizeMode : uint8_t { kNearest = 0, kBilinear };
enum class ResizeCoordinates : uint8_t {
  kAsymmetric = 0,   // in = out / scale
  kHalfPixel,        // in = (out + 0.5) / scale - 0.5
  kPytorchHalfPixel, // like half_pixel, but 0 when the output size is 1
  kAlignCorners,     // in = out * (in_size - 1) / (out_size - 1)
  kTfHalfPixelForNearest,  // in = (out + 0.5) / scale
};
enum class ResizeNearestRounding : uint8_t { kFloor = 0, kRoundPreferFloor, kRoundPreferCeil, kCeil };

struct ResizeAttrs {
  ResizeMode mode = ResizeMode::kNearest;
  ResizeCoordinates coordinates = ResizeCoordinates::kAsymmetric;
  ResizeNearestRounding nearest_rounding = ResizeNearestRounding::kFloor;
  // Used when the op has no size input: output size = floor(in * scale).
  float scale_h = 1.f, scale_w = 1.f;
};

struct ReduceAttrs {
  std::vector<int32_t> axes;  // empty: all axes
  bool keep_dims = false;
};

struct SoftmaxAttrs {
  int32_t axis = -1;
  float beta = 1.f;
};

struct LayerNormAttrs {
  float epsilon = 1e-5f;
};

struct FullyConnectedAttrs {
  Activation activation = Activation::kNone;
  bool keep_num_dims = true;  // false: flatten to [rows, N] as TFLite does
};

using OpAttrs = std::variant<std::monostate, ConvAttrs, PoolAttrs, BinaryAttrs, LeakyReluAttrs, CastAttrs,
                             ReshapeAttrs, TransposeAttrs, ConcatAttrs, SliceAttrs, PadAttrs, GatherAttrs,
                             AxesAttrs, ResizeAttrs, ReduceAttrs, SoftmaxAttrs, LayerNormAttrs,
                             FullyConnectedAttrs>;

struct Op {
  OpType type = OpType::kCount;
  std::vector<int32_t> inputs;   // tensor ids; -1 = absent optional input
  std::vector<int32_t> outputs;  // tensor ids
  OpAttrs attrs;
  std::string name;  // from the source file (node name or first output name), for error messages

  template <typename T> const T& as() const { return std::get<T>(attrs); }
  template <typename T> T& as() { return std::get<T>(attrs); }
};

}  // namespace facepipe::engine
