#include "runtime/preview.h"

#include <algorithm>
#include <cmath>

#include "kernels/yuv.h"

namespace facepipe::runtime {

void fit_preview_size(int width, int height, int max_width, int max_height, int& out_width, int& out_height) {
  const double scale = std::min({1.0, static_cast<double>(max_width) / width, static_cast<double>(max_height) / height});
  out_width = std::max(1, static_cast<int>(std::lround(width * scale)));
  out_height = std::max(1, static_cast<int>(std::lround(height * scale)));
  out_width = std::min(out_width, max_width);
  out_height = std::min(out_height, max_height);
}

void PreviewScaler::build(std::vector<Tap>& taps, int src, int dst) {
  taps.resize(static_cast<size_t>(dst));
  const double scale = static_cast<double>(src) / dst;
  for (int i = 0; i < dst; ++i) {
    const double s = std::clamp((i + 0.5) * scale - 0.5, 0.0, static_cast<double>(src - 1));
    const int i0 = static_cast<int>(s);
    const int i1 = std::min(i0 + 1, src - 1);
    taps[static_cast<size_t>(i)] = {i0, i1, static_cast<uint16_t>(std::lround((s - i0) * 256))};
  }
}

void PreviewScaler::resize(media::ConstImageView src, media::ImageView dst) {
  if (src.empty() || dst.empty()) return;
  if (src.width != src_w_ || src.height != src_h_ || dst.width != dst_w_ || dst.height != dst_h_) {
    build(x_taps_, src.width, dst.width);
    build(y_taps_, src.height, dst.height);
    src_w_ = src.width, src_h_ = src.height, dst_w_ = dst.width, dst_h_ = dst.height;
  }
  if (!media::is_packed_rgb(dst.format)) return;
  if (src.format == media::PixelFormat::kNV12) return resize_nv12(src, dst);
  const bool swap = src.format != dst.format;
  for (int y = 0; y < dst.height; ++y) {
    const Tap ty = y_taps_[static_cast<size_t>(y)];
    const uint8_t* r0 = src.row(ty.i0);
    const uint8_t* r1 = src.row(ty.i1);
    const uint32_t wy1 = ty.w1, wy0 = 256 - wy1;
    uint8_t* out = dst.row(y);
    for (int x = 0; x < dst.width; ++x) {
      const Tap tx = x_taps_[static_cast<size_t>(x)];
      const uint32_t wx1 = tx.w1, wx0 = 256 - wx1;
      const uint8_t* a = r0 + tx.i0 * 3;
      const uint8_t* b = r0 + tx.i1 * 3;
      const uint8_t* c = r1 + tx.i0 * 3;
      const uint8_t* d = r1 + tx.i1 * 3;
      uint8_t px[3];
      for (int ch = 0; ch < 3; ++ch) {
        const uint32_t top = a[ch] * wx0 + b[ch] * wx1;
        const uint32_t bottom = c[ch] * wx0 + d[ch] * wx1;
        px[ch] = static_cast<uint8_t>((top * wy0 + bottom * wy1 + (1u << 15)) >> 16);
      }
      out[x * 3 + 0] = swap ? px[2] : px[0];
      out[x * 3 + 1] = px[1];
      out[x * 3 + 2] = swap ? px[0] : px[2];
    }
  }
}

void PreviewScaler::resize_nv12(media::ConstImageView src, media::ImageView dst) const {
  const int r_at = dst.format == media::PixelFormat::kRGB8 ? 0 : 2;
  const int b_at = 2 - r_at;
  for (int y = 0; y < dst.height; ++y) {
    const Tap ty = y_taps_[static_cast<size_t>(y)];
    const uint8_t* y0 = src.row(ty.i0);
    const uint8_t* y1 = src.row(ty.i1);
    const uint8_t* c0 = src.uv_row(ty.i0 / 2);
    const uint8_t* c1 = src.uv_row(ty.i1 / 2);
    const uint32_t wy1 = ty.w1, wy0 = 256 - wy1;
    uint8_t* out = dst.row(y);
    for (int x = 0; x < dst.width; ++x) {
      const Tap tx = x_taps_[static_cast<size_t>(x)];
      const uint32_t wx1 = tx.w1, wx0 = 256 - wx1;
      // Weights in 1/65536; each tap takes its own pixel's luma and its 2x2 block's chroma.
      const uint32_t wa = wx0 * wy0, wb = wx1 * wy0, wc = wx0 * wy1, wd = wx1 * wy1;
      const int ua = (tx.i0 / 2) * 2, ub = (tx.i1 / 2) * 2;
      auto blend = [&](uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
        return static_cast<int>((a * wa + b * wb + c * wc + d * wd + (1u << 15)) >> 16);
      };
      const int luma = blend(y0[tx.i0], y0[tx.i1], y1[tx.i0], y1[tx.i1]);
      const int u = blend(c0[ua], c0[ub], c1[ua], c1[ub]);
      const int v = blend(c0[ua + 1], c0[ub + 1], c1[ua + 1], c1[ub + 1]);
      const kernels::Rgb8 p = kernels::yuv_to_rgb(luma, u, v);  // the GPU's conversion (kernels/yuv.h)
      out[x * 3 + r_at] = p.r;
      out[x * 3 + 1] = p.g;
      out[x * 3 + b_at] = p.b;
    }
  }
}

}  // namespace facepipe::runtime
