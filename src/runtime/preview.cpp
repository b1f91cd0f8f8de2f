#include "runtime/preview.h"

#include <algorithm>
#include <cmath>

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

}  // namespace facepipe::runtime
