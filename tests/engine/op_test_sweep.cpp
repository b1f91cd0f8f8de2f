// The odd-shape sweep table of op_test_util.h. Shapes are chosen to hit ragged code paths (channels
// 1, 3 and 13; width 1; batch 2; sizes that do not divide by the stride) and the configurations the
// networks use (MODELS.md): BlazeFace's PAD + depthwise stride 2 and 2x2 max pools, the landmark
// networks' PReLU, RetinaFace's stride-2 3x3 convs with LeakyReLU and its nearest 20->39 upsample,
// the full-range detector's bilinear resize, the blendshape MLP's reductions.
#include "engine/op_test_util.h"

namespace facepipe::test {

using engine::Activation;
using engine::DType;
using engine::OpType;
using engine::Padding;
using engine::PaddingMode;
using engine::Shape;

namespace {

engine::ConvAttrs conv_attrs(int stride, PaddingMode mode, Activation act = Activation::kNone, int dilation = 1) {
  engine::ConvAttrs a;
  a.stride_h = a.stride_w = stride;
  a.dilation_h = a.dilation_w = dilation;
  a.padding.mode = mode;
  a.activation = act;
  return a;
}

engine::PoolAttrs pool_attrs(int filter, int stride, PaddingMode mode) {
  engine::PoolAttrs a;
  a.filter_h = a.filter_w = filter;
  a.stride_h = a.stride_w = stride;
  a.padding.mode = mode;
  return a;
}

void add_conv_cases(std::vector<OpCase>& cases) {
  struct ConvCase {
    const char* label;
    Shape x;
    int out_c, k, stride;
    PaddingMode mode;
    Activation act;
    bool bias;
    int groups = 1, dilation = 1;
    Padding explicit_pads = {};
  };
  const ConvCase table[] = {
      {"conv 1x1 s1 3->13", {1, 5, 7, 3}, 13, 1, 1, PaddingMode::kValid, Activation::kNone, true},
      {"conv 1x1 s1 13->1 width1 batch2", {2, 6, 1, 13}, 1, 1, 1, PaddingMode::kValid, Activation::kRelu, true},
      {"conv 3x3 s1 SAME 3->13", {1, 7, 5, 3}, 13, 3, 1, PaddingMode::kSame, Activation::kNone, true},
      {"conv 3x3 s2 SAME odd 13->3", {1, 9, 7, 13}, 3, 3, 2, PaddingMode::kSame, Activation::kRelu6, true},
      {"conv 3x3 s2 SAME even 3->8 (BlazeFace stem)", {1, 16, 16, 3}, 8, 3, 2, PaddingMode::kSame, Activation::kRelu, true},
      {"conv 3x3 s2 pad1 3->8 leaky (RetinaFace stem)", {1, 15, 13, 3}, 8, 3, 2, PaddingMode::kExplicit,
       Activation::kLeakyRelu, false, 1, 1, {PaddingMode::kExplicit, 1, 1, 1, 1}},
      {"conv 3x3 s1 pad1 16->16 no bias", {1, 6, 6, 16}, 16, 3, 1, PaddingMode::kExplicit, Activation::kNone, false, 1, 1,
       {PaddingMode::kExplicit, 1, 1, 1, 1}},
      {"conv 5x5 s2 asymmetric pads 3->5", {1, 11, 9, 3}, 5, 5, 2, PaddingMode::kExplicit, Activation::kTanh, true, 1, 1,
       {PaddingMode::kExplicit, 1, 2, 2, 1}},
      {"conv 5x5 s1 VALID width1 1->4", {1, 9, 5, 1}, 4, 5, 1, PaddingMode::kValid, Activation::kSigmoid, true},
      {"conv 3x3 groups3 dilation2 6->9", {2, 9, 8, 6}, 9, 3, 1, PaddingMode::kValid, Activation::kReluN1To1, true, 3, 2},
      {"conv 3x3 s2 SAME 1x1 input", {1, 1, 1, 3}, 4, 3, 2, PaddingMode::kSame, Activation::kNone, true},
      // The CUDA direct kernel's 16-byte paths (conv_direct.cu): 1x1 layers of RetinaFace and the
      // landmark network on pixel counts that are no multiple of a block (2x37x53 = 3922), the
      // stems with vector stores, and shapes that must fall back (C 12 for f16 loads, OC 13 / 24).
      {"conv 1x1 8->16 relu (vector direct)", {2, 37, 53, 8}, 16, 1, 1, PaddingMode::kValid, Activation::kRelu, true},
      {"conv 1x1 16->32 leaky (vector direct)", {2, 37, 53, 16}, 32, 1, 1, PaddingMode::kValid, Activation::kLeakyRelu,
       true},
      {"conv 1x1 32->32 no bias (vector direct)", {2, 37, 53, 32}, 32, 1, 1, PaddingMode::kValid, Activation::kNone,
       false},
      {"conv 1x1 16->8 relu6 (vector direct)", {2, 37, 53, 16}, 8, 1, 1, PaddingMode::kValid, Activation::kRelu6, true},
      {"conv 1x1 24->8 (vector direct, 3 input vectors)", {1, 19, 23, 24}, 8, 1, 1, PaddingMode::kValid,
       Activation::kNone, true},
      {"conv 1x1 8->16 one pixel (vector direct)", {1, 1, 1, 8}, 16, 1, 1, PaddingMode::kValid, Activation::kRelu, true},
      {"conv 1x1 12->16 (f16: scalar loads, vector stores)", {2, 37, 53, 12}, 16, 1, 1, PaddingMode::kValid,
       Activation::kRelu, true},
      {"conv 1x1 16->13 (scalar direct)", {2, 37, 53, 16}, 13, 1, 1, PaddingMode::kValid, Activation::kRelu, true},
      {"conv 1x1 8->24 (f16 scalar direct)", {1, 19, 23, 8}, 24, 1, 1, PaddingMode::kValid, Activation::kNone, true},
      {"conv 1x1 s2 16->32 (vector stores, strided taps)", {2, 37, 53, 16}, 32, 1, 2, PaddingMode::kSame,
       Activation::kRelu, true},
      {"conv 3x3 s2 pad1 3->8 leaky 2x73x97 (stem, vector stores)", {2, 73, 97, 3}, 8, 3, 2, PaddingMode::kExplicit,
       Activation::kLeakyRelu, false, 1, 1, {PaddingMode::kExplicit, 1, 1, 1, 1}},
      {"conv 3x3 s2 SAME 3->16 (stem, vector stores)", {2, 37, 53, 3}, 16, 3, 2, PaddingMode::kSame, Activation::kRelu,
       true},
      {"conv 3x3 s1 SAME 8->32 (K 72, vector stores)", {1, 13, 11, 8}, 32, 3, 1, PaddingMode::kSame, Activation::kNone,
       true},
  };
  for (const ConvCase& t : table) {
    engine::ConvAttrs a = conv_attrs(t.stride, t.mode, t.act, t.dilation);
    a.groups = t.groups;
    a.activation_alpha = 0.1f;
    if (t.mode == PaddingMode::kExplicit) a.padding = t.explicit_pads;
    OpCase c(t.label, make_op(OpType::kConv2D, a));
    c.random_input(DType::kF32, t.x).random_input(DType::kF32, {t.out_c, t.k, t.k, t.x[3] / t.groups}).constant();
    if (t.bias) c.random_input(DType::kF32, {t.out_c}).constant();
    else c.absent_input();
    cases.push_back(std::move(c));
  }
}

// Layers with few outputs and K >= 16: the CUDA backend computes them with lane groups splitting
// K (conv_warp.cu) in vectors of 8/4/2/1 elements, chosen by what divides the channels and K.
void add_small_output_conv_cases(std::vector<OpCase>& cases) {
  struct SmallConvCase {
    const char* label;
    Shape x;
    int out_c, kh, kw, stride;
    Activation act;
  };
  const SmallConvCase table[] = {
      {"conv 1x1 64->12 (lanes, vector 8)", {1, 3, 5, 64}, 12, 1, 1, 1, Activation::kNone},
      {"conv 2x2 s2 16->10 (landmark downsample)", {1, 6, 6, 16}, 10, 2, 2, 2, Activation::kRelu},
      {"conv 2x2 24->37 to 1x1 (landmark head)", {1, 2, 2, 24}, 37, 2, 2, 1, Activation::kNone},
      {"conv 3x3 s1 SAME 12->7 (vector 4)", {1, 5, 4, 12}, 7, 3, 3, 1, Activation::kRelu6},
      {"conv 3x3 s2 SAME 6->5 batch2 (vector 2)", {2, 5, 5, 6}, 5, 3, 3, 2, Activation::kNone},
      {"conv 3x3 s1 SAME 5->6 (scalar)", {1, 4, 4, 5}, 6, 3, 3, 1, Activation::kTanh},
      {"conv 1x1 146->9 (blendshape embedding)", {1, 1, 2, 146}, 9, 1, 1, 1, Activation::kNone},
      {"conv 1x1 300->3 (long K)", {1, 1, 3, 300}, 3, 1, 1, 1, Activation::kSigmoid},
  };
  for (const SmallConvCase& t : table) {
    engine::ConvAttrs a = conv_attrs(t.stride, t.kh == 1 && t.kw == 1 ? PaddingMode::kValid : PaddingMode::kSame, t.act);
    if (t.kh == 2) a.padding.mode = PaddingMode::kValid;
    OpCase c(t.label, make_op(OpType::kConv2D, a));
    c.random_input(DType::kF32, t.x).random_input(DType::kF32, {t.out_c, t.kh, t.kw, t.x[3]}).constant();
    c.random_input(DType::kF32, {t.out_c}).constant();
    cases.push_back(std::move(c));
  }
  OpCase fc("fully connected K40 (lanes)", make_op(OpType::kFullyConnected, engine::FullyConnectedAttrs{Activation::kRelu, false}));
  fc.random_input(DType::kF32, {3, 40}).random_input(DType::kF32, {6, 40}).constant().random_input(DType::kF32, {6}).constant();
  cases.push_back(std::move(fc));
}

void add_depthwise_cases(std::vector<OpCase>& cases) {
  struct DwCase {
    const char* label;
    Shape x;
    int multiplier, k, stride;
    PaddingMode mode;
    Activation act;
    int dilation = 1;
    Padding explicit_pads = {};
  };
  const DwCase table[] = {
      {"dw 3x3 s1 SAME c13", {1, 7, 5, 13}, 1, 3, 1, PaddingMode::kSame, Activation::kRelu},
      {"dw 3x3 s2 SAME odd c3 m2", {1, 9, 7, 3}, 2, 3, 2, PaddingMode::kSame, Activation::kNone},
      {"dw 3x3 s2 VALID after pad (BlazeFace) c8", {1, 10, 10, 8}, 1, 3, 2, PaddingMode::kValid, Activation::kNone},
      {"dw 5x5 s1 SAME c1 width1", {1, 9, 1, 1}, 1, 5, 1, PaddingMode::kSame, Activation::kNone},
      {"dw 5x5 s2 SAME batch2 c13", {2, 11, 6, 13}, 1, 5, 2, PaddingMode::kSame, Activation::kRelu6},
      {"dw 3x3 s1 pad1 dilation2 c3 m3", {1, 8, 7, 3}, 3, 3, 1, PaddingMode::kExplicit, Activation::kLeakyRelu, 2,
       {PaddingMode::kExplicit, 1, 0, 2, 1}},
      // The CUDA vector kernel (depthwise_vec.cu: multiplier 1, C % 8 == 0 for f16, C % 4 for f32):
      // odd sizes so that the last column group is partial, both paddings, strides 1 and 2, 5x5,
      // and the loop path (dilation, stride 3, 2x2); C 12 runs f32 vectors but f16 scalars.
      {"dw 3x3 s1 SAME c8 odd (vector)", {2, 13, 11, 8}, 1, 3, 1, PaddingMode::kSame, Activation::kRelu},
      {"dw 3x3 s2 SAME c16 odd (vector)", {2, 17, 21, 16}, 1, 3, 2, PaddingMode::kSame, Activation::kRelu6},
      {"dw 3x3 s2 pad1 c32 leaky (vector, RetinaFace)", {2, 15, 19, 32}, 1, 3, 2, PaddingMode::kExplicit,
       Activation::kLeakyRelu, 1, {PaddingMode::kExplicit, 1, 1, 1, 1}},
      {"dw 3x3 s1 pad1 c32 (vector)", {1, 9, 10, 32}, 1, 3, 1, PaddingMode::kExplicit, Activation::kNone, 1,
       {PaddingMode::kExplicit, 1, 1, 1, 1}},
      {"dw 3x3 s1 VALID c64 (vector)", {1, 9, 14, 64}, 1, 3, 1, PaddingMode::kValid, Activation::kNone},
      {"dw 3x3 s2 VALID c64 odd (vector)", {2, 11, 13, 64}, 1, 3, 2, PaddingMode::kValid, Activation::kRelu},
      {"dw 5x5 s1 SAME c16 (vector)", {2, 11, 9, 16}, 1, 5, 1, PaddingMode::kSame, Activation::kRelu},
      {"dw 5x5 s2 SAME c24 (vector)", {1, 13, 10, 24}, 1, 5, 2, PaddingMode::kSame, Activation::kNone},
      {"dw 3x3 s1 dilation2 c8 (vector, tap loop)", {1, 9, 10, 8}, 1, 3, 1, PaddingMode::kSame, Activation::kNone, 2},
      {"dw 3x3 s3 SAME c16 (vector, tap loop)", {1, 10, 11, 16}, 1, 3, 3, PaddingMode::kSame, Activation::kRelu},
      {"dw 2x2 s2 VALID c8 (vector, tap loop)", {1, 7, 9, 8}, 1, 2, 2, PaddingMode::kValid, Activation::kNone},
      {"dw 3x3 s1 SAME c12 (f32 vector, f16 scalar)", {1, 7, 9, 12}, 1, 3, 1, PaddingMode::kSame, Activation::kNone},
      {"dw 3x3 s1 SAME c8 m2 (scalar)", {1, 7, 9, 8}, 2, 3, 1, PaddingMode::kSame, Activation::kNone},
  };
  for (const DwCase& t : table) {
    engine::ConvAttrs a = conv_attrs(t.stride, t.mode, t.act, t.dilation);
    a.depth_multiplier = t.multiplier;
    a.activation_alpha = 0.2f;
    if (t.mode == PaddingMode::kExplicit) a.padding = t.explicit_pads;
    const int64_t out_c = t.x[3] * t.multiplier;
    OpCase c(t.label, make_op(OpType::kDepthwiseConv2D, a));
    c.random_input(DType::kF32, t.x)
        .random_input(DType::kF32, {1, t.k, t.k, out_c})
        .constant()
        .random_input(DType::kF32, {out_c})
        .constant();
    cases.push_back(std::move(c));
  }
}

void add_pool_cases(std::vector<OpCase>& cases) {
  struct PoolCase {
    const char* label;
    OpType type;
    Shape x;
    int filter, stride;
    PaddingMode mode;
  };
  const PoolCase table[] = {
      {"max 2x2 s2 VALID c13 (BlazeFace)", OpType::kMaxPool2D, {1, 8, 8, 13}, 2, 2, PaddingMode::kValid},
      {"max 2x2 s2 VALID odd c3", OpType::kMaxPool2D, {1, 7, 5, 3}, 2, 2, PaddingMode::kValid},
      {"max 3x3 s2 SAME c1", OpType::kMaxPool2D, {1, 9, 6, 1}, 3, 2, PaddingMode::kSame},
      {"max 2x2 s2 SAME width1 batch2", OpType::kMaxPool2D, {2, 5, 1, 3}, 2, 2, PaddingMode::kSame},
      {"avg 3x3 s1 SAME c13 (padding excluded)", OpType::kAvgPool2D, {1, 6, 5, 13}, 3, 1, PaddingMode::kSame},
      {"avg 2x2 s2 SAME odd batch2", OpType::kAvgPool2D, {2, 5, 7, 3}, 2, 2, PaddingMode::kSame},
      {"avg 5x5 s1 VALID c1", OpType::kAvgPool2D, {1, 5, 6, 1}, 5, 1, PaddingMode::kValid},
  };
  for (const PoolCase& t : table) {
    OpCase c(t.label, make_op(t.type, pool_attrs(t.filter, t.stride, t.mode)));
    c.random_input(DType::kF32, t.x);
    cases.push_back(std::move(c));
  }
}

void add_resize_cases(std::vector<OpCase>& cases) {
  using engine::ResizeCoordinates;
  using engine::ResizeMode;
  using engine::ResizeNearestRounding;
  struct ResizeCase {
    const char* label;
    Shape x;
    int64_t out_h, out_w;  // 0: from the scales
    ResizeMode mode;
    ResizeCoordinates coordinates;
    ResizeNearestRounding rounding;
    float scale = 1.f;
  };
  const ResizeCase table[] = {
      {"nearest asym floor 20->39 (RetinaFace FPN)", {1, 20, 20, 13}, 39, 39, ResizeMode::kNearest,
       ResizeCoordinates::kAsymmetric, ResizeNearestRounding::kFloor},
      {"nearest asym floor 39->78 c3", {1, 39, 5, 3}, 78, 10, ResizeMode::kNearest, ResizeCoordinates::kAsymmetric,
       ResizeNearestRounding::kFloor},
      {"nearest x2 by scale c1 batch2", {2, 4, 3, 1}, 0, 0, ResizeMode::kNearest, ResizeCoordinates::kAsymmetric,
       ResizeNearestRounding::kFloor, 2.f},
      {"nearest half-pixel round-prefer-floor downscale", {1, 9, 7, 3}, 4, 5, ResizeMode::kNearest,
       ResizeCoordinates::kHalfPixel, ResizeNearestRounding::kRoundPreferFloor},
      {"nearest tf-half-pixel floor", {1, 5, 6, 3}, 7, 9, ResizeMode::kNearest, ResizeCoordinates::kTfHalfPixelForNearest,
       ResizeNearestRounding::kFloor},
      {"nearest align-corners round-prefer-ceil", {1, 5, 6, 3}, 7, 11, ResizeMode::kNearest,
       ResizeCoordinates::kAlignCorners, ResizeNearestRounding::kRoundPreferCeil},
      {"bilinear half-pixel c13", {1, 5, 7, 13}, 9, 13, ResizeMode::kBilinear, ResizeCoordinates::kHalfPixel,
       ResizeNearestRounding::kFloor},
      {"bilinear half-pixel x2 (full-range detector)", {1, 6, 6, 8}, 12, 12, ResizeMode::kBilinear,
       ResizeCoordinates::kHalfPixel, ResizeNearestRounding::kFloor},
      {"bilinear align-corners c1", {1, 4, 4, 1}, 7, 7, ResizeMode::kBilinear, ResizeCoordinates::kAlignCorners,
       ResizeNearestRounding::kFloor},
      {"bilinear asymmetric width1 batch2", {2, 3, 1, 3}, 5, 2, ResizeMode::kBilinear, ResizeCoordinates::kAsymmetric,
       ResizeNearestRounding::kFloor},
      {"bilinear pytorch-half-pixel to 1 column", {1, 4, 5, 3}, 6, 1, ResizeMode::kBilinear,
       ResizeCoordinates::kPytorchHalfPixel, ResizeNearestRounding::kFloor},
  };
  for (const ResizeCase& t : table) {
    engine::ResizeAttrs a;
    a.mode = t.mode;
    a.coordinates = t.coordinates;
    a.nearest_rounding = t.rounding;
    a.scale_h = a.scale_w = t.scale;
    OpCase c(t.label, make_op(OpType::kResize, a));
    c.random_input(DType::kF32, t.x);
    if (t.out_h > 0) c.input_i64({2}, {t.out_h, t.out_w}).constant();
    cases.push_back(std::move(c));
  }
}

void add_elementwise_cases(std::vector<OpCase>& cases) {
  struct BinCase {
    const char* label;
    OpType type;
    Shape a, b;
    Activation act = Activation::kNone;
  };
  const BinCase table[] = {
      {"add same shape c13", OpType::kAdd, {1, 5, 7, 13}, {1, 5, 7, 13}},
      {"add bias-like broadcast relu", OpType::kAdd, {2, 3, 5, 13}, {13}, Activation::kRelu},
      {"sub scalar", OpType::kSub, {3, 1, 13}, {}},
      {"mul two-sided broadcast", OpType::kMul, {1, 7, 1, 3}, {5, 3}},
      {"div broadcast rows", OpType::kDiv, {4, 13}, {4, 1}},
      {"squared difference broadcast", OpType::kSquaredDifference, {1, 146, 3}, {1, 1, 3}},
      {"maximum width1", OpType::kMaximum, {2, 6, 1, 3}, {2, 6, 1, 3}},
      {"minimum broadcast", OpType::kMinimum, {2, 1, 3}, {1, 4, 1}},
  };
  for (const BinCase& t : table) {
    engine::BinaryAttrs a;
    a.activation = t.act;
    OpCase c(t.label, make_op(t.type, a));
    c.random_input(DType::kF32, t.a);
    if (t.type == OpType::kDiv) c.random_input(DType::kF32, t.b, 0.5f, 2.f);  // away from 0
    else c.random_input(DType::kF32, t.b);
    cases.push_back(std::move(c));
  }
  {
    OpCase c("add i64 broadcast", make_op(OpType::kAdd));
    c.random_input(DType::kI64, {2, 3}, -50, 50).random_input(DType::kI64, {3}, -50, 50);
    cases.push_back(std::move(c));
  }
  {
    OpCase c("mul i32 scalar", make_op(OpType::kMul));
    c.random_input(DType::kI32, {5}, -50, 50).random_input(DType::kI32, {}, -5, 5);
    cases.push_back(std::move(c));
  }
  const OpType unary_ops[] = {OpType::kRelu, OpType::kRelu6, OpType::kLeakyRelu, OpType::kLogistic,
                              OpType::kTanh, OpType::kNeg, OpType::kExp, OpType::kSqrt, OpType::kRsqrt};
  for (OpType t : unary_ops) {
    OpCase c(std::string("unary ") + std::string(engine::op_type_name(t)),
             make_op(t, t == OpType::kLeakyRelu ? engine::OpAttrs(engine::LeakyReluAttrs{0.1f}) : engine::OpAttrs{}));
    const bool positive = t == OpType::kSqrt || t == OpType::kRsqrt;
    c.random_input(DType::kF32, {2, 3, 13}, positive ? 0.05f : -8.f, 8.f);
    cases.push_back(std::move(c));
  }
  {
    OpCase c("prelu per-channel c13", make_op(OpType::kPRelu));
    c.random_input(DType::kF32, {1, 5, 7, 13}).random_input(DType::kF32, {13}).constant();
    cases.push_back(std::move(c));
  }
  {
    OpCase c("prelu alpha 1x1xC width1", make_op(OpType::kPRelu));
    c.random_input(DType::kF32, {1, 4, 1, 3}).random_input(DType::kF32, {1, 1, 3}).constant();
    cases.push_back(std::move(c));
  }
  {
    OpCase c("dequantize f16", make_op(OpType::kDequantize));
    c.random_input(DType::kF16, {13, 3, 3, 3}, -4.f, 4.f);
    cases.push_back(std::move(c));
  }
  {
    OpCase c("cast f32->i32", make_op(OpType::kCast, engine::CastAttrs{static_cast<uint8_t>(DType::kI32)}));
    c.random_input(DType::kF32, {3, 13}, -100.f, 100.f);
    cases.push_back(std::move(c));
  }
}

void add_layout_and_reduce_cases(std::vector<OpCase>& cases) {
  {
    OpCase c("transpose NHWC->NCHW", make_op(OpType::kTranspose, engine::TransposeAttrs{{0, 3, 1, 2}}));
    c.random_input(DType::kF32, {2, 3, 5, 13});
    cases.push_back(std::move(c));
  }
  {
    OpCase c("transpose 3-d i64", make_op(OpType::kTranspose, engine::TransposeAttrs{{2, 0, 1}}));
    c.random_input(DType::kI64, {3, 1, 4}, -9, 9);
    cases.push_back(std::move(c));
  }
  {
    OpCase c("concat channels 1+3+13", make_op(OpType::kConcat, engine::ConcatAttrs{-1, Activation::kNone}));
    c.random_input(DType::kF32, {1, 4, 5, 1}).random_input(DType::kF32, {1, 4, 5, 3}).random_input(DType::kF32, {1, 4, 5, 13});
    cases.push_back(std::move(c));
  }
  {
    OpCase c("concat anchors axis 1", make_op(OpType::kConcat, engine::ConcatAttrs{1, Activation::kNone}));
    c.random_input(DType::kF32, {2, 512, 16}).random_input(DType::kF32, {2, 384, 16});
    cases.push_back(std::move(c));
  }
  {
    engine::SliceAttrs a;
    a.axes = {1, 2};
    a.begin = {-1, 1};
    a.end = {engine::SliceAttrs::kSliceEnd, 12};
    a.strides = {-2, 3};
    OpCase c("slice negative stride", make_op(OpType::kSlice, a));
    c.random_input(DType::kF32, {2, 7, 13, 3});
    cases.push_back(std::move(c));
  }
  {
    engine::SliceAttrs a;
    a.axes = {0, 2};
    a.begin = {0, 0};
    a.end = {1, 2};
    a.strides = {1, 1};
    a.shrink_axis_mask = 1;
    OpCase c("slice with shrink (blendshapes)", make_op(OpType::kSlice, a));
    c.random_input(DType::kF32, {1, 146, 3});
    cases.push_back(std::move(c));
  }
  {
    OpCase c("pad spatial (BlazeFace)", make_op(OpType::kPad, engine::PadAttrs{{0, 0, 0, 1, 0, 1, 0, 0}, 0.f}));
    c.random_input(DType::kF32, {1, 9, 7, 13});
    cases.push_back(std::move(c));
  }
  {
    OpCase c("pad channels width1", make_op(OpType::kPad, engine::PadAttrs{{0, 0, 1, 2, 0, 0, 0, 5}, 0.5f}));
    c.random_input(DType::kF32, {2, 3, 1, 3});
    cases.push_back(std::move(c));
  }
  {
    OpCase c("gather axis1 negative indices", make_op(OpType::kGather, engine::GatherAttrs{1}));
    c.random_input(DType::kF32, {2, 7, 3}).input_i64({2, 2}, {-1, 0, 6, -7}).constant();
    cases.push_back(std::move(c));
  }
  {
    OpCase c("reshape -1", make_op(OpType::kReshape, engine::ReshapeAttrs{{2, -1, 13}, false}));
    c.random_input(DType::kF32, {2, 3, 5, 13});
    cases.push_back(std::move(c));
  }
  {
    OpCase c("mean spatial keep_dims", make_op(OpType::kMean, engine::ReduceAttrs{{1, 2}, true}));
    c.random_input(DType::kF32, {2, 7, 5, 13});
    cases.push_back(std::move(c));
  }
  {
    OpCase c("sum last axis", make_op(OpType::kSum, engine::ReduceAttrs{{-1}, false}));
    c.random_input(DType::kF32, {3, 146, 13});
    cases.push_back(std::move(c));
  }
  {
    OpCase c("mean all axes", make_op(OpType::kMean, engine::ReduceAttrs{{}, false}));
    c.random_input(DType::kF32, {2, 3, 13});
    cases.push_back(std::move(c));
  }
  {
    OpCase c("layer norm gamma beta", make_op(OpType::kLayerNorm, engine::LayerNormAttrs{1e-5f}));
    c.random_input(DType::kF32, {2, 5, 64}, -3.f, 5.f).random_input(DType::kF32, {64}).constant();
    c.random_input(DType::kF32, {64}).constant();
    cases.push_back(std::move(c));
  }
  {
    OpCase c("layer norm plain, rows longer than a warp", make_op(OpType::kLayerNorm, engine::LayerNormAttrs{1e-3f}));
    c.random_input(DType::kF32, {3, 70});
    cases.push_back(std::move(c));
  }
  {
    OpCase c("softmax last axis (RetinaFace scores)", make_op(OpType::kSoftmax, engine::SoftmaxAttrs{-1, 1.f}));
    c.random_input(DType::kF32, {1, 33, 2}, -10.f, 10.f);
    cases.push_back(std::move(c));
  }
  {
    OpCase c("softmax middle axis beta 0.5", make_op(OpType::kSoftmax, engine::SoftmaxAttrs{1, 0.5f}));
    c.random_input(DType::kF32, {2, 13, 3}, -10.f, 10.f);
    cases.push_back(std::move(c));
  }
  {
    OpCase c("fully connected keep dims", make_op(OpType::kFullyConnected, engine::FullyConnectedAttrs{Activation::kRelu, true}));
    c.random_input(DType::kF32, {2, 3, 13}).random_input(DType::kF32, {5, 13}).constant().random_input(DType::kF32, {5}).constant();
    cases.push_back(std::move(c));
  }
  {
    // The CUDA direct kernel's vector path with H = W = 1 (FullyConnected is a 1x1 conv there).
    OpCase c("fully connected 16->8 (vector direct)", make_op(OpType::kFullyConnected, engine::FullyConnectedAttrs{Activation::kRelu, true}));
    c.random_input(DType::kF32, {3, 5, 16}).random_input(DType::kF32, {8, 16}).constant().random_input(DType::kF32, {8}).constant();
    cases.push_back(std::move(c));
  }
  {
    OpCase c("fully connected flatten", make_op(OpType::kFullyConnected, engine::FullyConnectedAttrs{Activation::kNone, false}));
    c.random_input(DType::kF32, {1, 1, 1, 26}).random_input(DType::kF32, {3, 13}).constant().absent_input();
    cases.push_back(std::move(c));
  }
}

}  // namespace

std::vector<OpCase> sweep_cases() {
  std::vector<OpCase> cases;
  add_conv_cases(cases);
  add_small_output_conv_cases(cases);
  add_depthwise_cases(cases);
  add_pool_cases(cases);
  add_resize_cases(cases);
  add_elementwise_cases(cases);
  add_layout_and_reduce_cases(cases);
  return cases;
}

std::vector<OpCase> sweep_cases(OpType type) {
  std::vector<OpCase> all = sweep_cases();
  std::vector<OpCase> selected;
  for (OpCase& c : all)
    if (c.op().type == type) selected.push_back(std::move(c));
  return selected;
}

}  // namespace facepipe::test
