// Resize (NHWC f32): nearest neighbour and bilinear. The coordinate mapping and rounding live in
// op_geometry so that every backend maps output pixels to the same source pixels.
#include "engine/cpu/reference/reference_common.h"

namespace facepipe::engine::cpu::ref {

Status resize(const Op& op, Inputs in, const TensorView& out) {
  const TensorView& x = in[0];
  if (x.dtype != DType::kF32) return unsupported("reference Resize supports f32 only");
  const ResizeAttrs& a = attrs_of<ResizeAttrs>(op);
  const Shape& xs = x.shape;
  const Shape& os = out.shape;
  const int64_t ih = xs[1], iw = xs[2], oh = os[1], ow = os[2], channels = xs[3];
  // With a size input the transform's scale is out/in (ONNX 'sizes', TFLite); otherwise the
  // output came from floor(in * scale) and the given scale is used as is (ONNX 'scales').
  const bool sized = in.size() > 1 && in[1].present();
  const float scale_h = sized ? static_cast<float>(oh) / static_cast<float>(ih) : a.scale_h;
  const float scale_w = sized ? static_cast<float>(ow) / static_cast<float>(iw) : a.scale_w;
  const float* px = x.as<const float>();
  float* po = out.as<float>();
  auto at = [&](int64_t n, int64_t y, int64_t xx, int64_t c) { return px[((n * ih + y) * iw + xx) * channels + c]; };
  for (int64_t n = 0; n < os[0]; ++n)
    for (int64_t oy = 0; oy < oh; ++oy) {
      const float sy = resize_source_coordinate(a.coordinates, oy, ih, oh, scale_h);
      for (int64_t ox = 0; ox < ow; ++ox) {
        const float sx = resize_source_coordinate(a.coordinates, ox, iw, ow, scale_w);
        for (int64_t c = 0; c < channels; ++c) {
          float v = 0.f;
          if (a.mode == ResizeMode::kNearest) {
            v = at(n, resize_nearest_index(a.nearest_rounding, sy, ih), resize_nearest_index(a.nearest_rounding, sx, iw), c);
          } else {
            const LinearTaps ty = resize_linear_taps(sy, ih);
            const LinearTaps tx = resize_linear_taps(sx, iw);
            const double top = (1.0 - tx.frac) * at(n, ty.lo, tx.lo, c) + static_cast<double>(tx.frac) * at(n, ty.lo, tx.hi, c);
            const double bottom = (1.0 - tx.frac) * at(n, ty.hi, tx.lo, c) + static_cast<double>(tx.frac) * at(n, ty.hi, tx.hi, c);
            v = static_cast<float>((1.0 - ty.frac) * top + static_cast<double>(ty.frac) * bottom);
          }
          po[((n * oh + oy) * ow + ox) * channels + c] = v;
        }
      }
    }
  return Status::ok();
}

}  // namespace facepipe::engine::cpu::ref
