// Conv2D, DepthwiseConv2D, MaxPool2D, AvgPool2D on NHWC f32, written as the textbook sums over the
// window. Accumulation is in double so that the oracle's own rounding error is far below any
// tolerance an optimized kernel is held to.
#include <limits>

#include "engine/cpu/reference/reference_common.h"
#include "engine/plan/shape_inference.h"

namespace facepipe::engine::cpu::ref {

namespace {

bool all_f32(Inputs in) {
  for (const TensorView& t : in)
    if (t.present() && t.dtype != DType::kF32) return false;
  return true;
}

// Element (n, y, x, c) of an NHWC tensor.
inline int64_t nhwc(const Shape& s, int64_t n, int64_t y, int64_t x, int64_t c) {
  return ((n * s[1] + y) * s[2] + x) * s[3] + c;
}

}  // namespace

Status conv2d(const Op& op, Inputs in, const TensorView& out) {
  if (!all_f32(in) || out.dtype != DType::kF32) return unsupported("reference Conv2D supports f32 only");
  const ConvAttrs& a = attrs_of<ConvAttrs>(op);
  const Shape& xs = in[0].shape;
  const Shape& ws = in[1].shape;  // OHWI
  const Shape& os = out.shape;
  const float* x = in[0].as<const float>();
  const float* w = in[1].as<const float>();
  const float* bias = in.size() > 2 && in[2].present() ? in[2].as<const float>() : nullptr;
  const int64_t kh = ws[1], kw = ws[2], group_in = ws[3];
  const int64_t group_out = os[3] / a.groups;
  const Padding p = resolve_padding(a.padding, xs[1], xs[2], static_cast<int32_t>(kh), static_cast<int32_t>(kw),
                                    a.stride_h, a.stride_w, a.dilation_h, a.dilation_w);
  float* y = out.as<float>();
  for (int64_t n = 0; n < os[0]; ++n)
    for (int64_t oy = 0; oy < os[1]; ++oy)
      for (int64_t ox = 0; ox < os[2]; ++ox)
        for (int64_t oc = 0; oc < os[3]; ++oc) {
          const int64_t g = oc / group_out;  // output channel oc reads input channels of group g
          double acc = bias ? bias[oc] : 0.0;
          for (int64_t ky = 0; ky < kh; ++ky) {
            const int64_t iy = oy * a.stride_h - p.top + ky * a.dilation_h;
            if (iy < 0 || iy >= xs[1]) continue;  // padding contributes zero
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t ix = ox * a.stride_w - p.left + kx * a.dilation_w;
              if (ix < 0 || ix >= xs[2]) continue;
              for (int64_t ic = 0; ic < group_in; ++ic) {
                acc += static_cast<double>(x[nhwc(xs, n, iy, ix, g * group_in + ic)]) *
                       w[((oc * kh + ky) * kw + kx) * group_in + ic];
              }
            }
          }
          y[nhwc(os, n, oy, ox, oc)] = activate(static_cast<float>(acc), a.activation, a.activation_alpha);
        }
  return Status::ok();
}

Status depthwise_conv2d(const Op& op, Inputs in, const TensorView& out) {
  if (!all_f32(in) || out.dtype != DType::kF32) return unsupported("reference DepthwiseConv2D supports f32 only");
  const ConvAttrs& a = attrs_of<ConvAttrs>(op);
  const Shape& xs = in[0].shape;
  const Shape& ws = in[1].shape;  // [1, KH, KW, C*M]
  const Shape& os = out.shape;
  const float* x = in[0].as<const float>();
  const float* w = in[1].as<const float>();
  const float* bias = in.size() > 2 && in[2].present() ? in[2].as<const float>() : nullptr;
  const int64_t kh = ws[1], kw = ws[2], m = a.depth_multiplier;
  const Padding p = resolve_padding(a.padding, xs[1], xs[2], static_cast<int32_t>(kh), static_cast<int32_t>(kw),
                                    a.stride_h, a.stride_w, a.dilation_h, a.dilation_w);
  float* y = out.as<float>();
  for (int64_t n = 0; n < os[0]; ++n)
    for (int64_t oy = 0; oy < os[1]; ++oy)
      for (int64_t ox = 0; ox < os[2]; ++ox)
        for (int64_t oc = 0; oc < os[3]; ++oc) {
          const int64_t ic = oc / m;  // output channel c*M + j comes from input channel c
          double acc = bias ? bias[oc] : 0.0;
          for (int64_t ky = 0; ky < kh; ++ky) {
            const int64_t iy = oy * a.stride_h - p.top + ky * a.dilation_h;
            if (iy < 0 || iy >= xs[1]) continue;
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t ix = ox * a.stride_w - p.left + kx * a.dilation_w;
              if (ix < 0 || ix >= xs[2]) continue;
              acc += static_cast<double>(x[nhwc(xs, n, iy, ix, ic)]) * w[(ky * kw + kx) * os[3] + oc];
            }
          }
          y[nhwc(os, n, oy, ox, oc)] = activate(static_cast<float>(acc), a.activation, a.activation_alpha);
        }
  return Status::ok();
}

Status pool2d(const Op& op, Inputs in, const TensorView& out) {
  if (in[0].dtype != DType::kF32) return unsupported("reference pooling supports f32 only");
  const bool is_max = op.type == OpType::kMaxPool2D;
  const PoolAttrs& a = attrs_of<PoolAttrs>(op);
  const Shape& xs = in[0].shape;
  const Shape& os = out.shape;
  const float* x = in[0].as<const float>();
  const Padding p = resolve_padding(a.padding, xs[1], xs[2], a.filter_h, a.filter_w, a.stride_h, a.stride_w, 1, 1);
  float* y = out.as<float>();
  for (int64_t n = 0; n < os[0]; ++n)
    for (int64_t oy = 0; oy < os[1]; ++oy)
      for (int64_t ox = 0; ox < os[2]; ++ox)
        for (int64_t c = 0; c < os[3]; ++c) {
          // Only taps inside the input count: padding is neither a max candidate nor part of
          // the average's divisor (TFLite, and ONNX with count_include_pad = 0).
          double sum = 0;
          float max = -std::numeric_limits<float>::infinity();
          int64_t count = 0;
          for (int64_t ky = 0; ky < a.filter_h; ++ky) {
            const int64_t iy = oy * a.stride_h - p.top + ky;
            if (iy < 0 || iy >= xs[1]) continue;
            for (int64_t kx = 0; kx < a.filter_w; ++kx) {
              const int64_t ix = ox * a.stride_w - p.left + kx;
              if (ix < 0 || ix >= xs[2]) continue;
              const float v = x[nhwc(xs, n, iy, ix, c)];
              sum += v;
              if (v > max) max = v;
              ++count;
            }
          }
          // A window entirely inside the padding (only possible with explicit pads >= the filter)
          // has no value; it yields 0.
          float v = 0.f;
          if (count > 0) v = is_max ? max : static_cast<float>(sum / static_cast<double>(count));
          y[nhwc(os, n, oy, ox, c)] = activate(v, a.activation, a.activation_alpha);
        }
  return Status::ok();
}

}  // namespace facepipe::engine::cpu::ref
