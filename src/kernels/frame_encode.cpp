#include "kernels/frame_encode.h"

#include <algorithm>

namespace facepipe::kernels {

namespace {

struct Rgb {
  int r, g, b;
};

Rgb pixel(const ImageView& image, int x, int y) {
  const uint8_t* p = image.data + static_cast<int64_t>(y) * image.row_stride + static_cast<int64_t>(x) * image.channels;
  return image.order == ChannelOrder::kRGB ? Rgb{p[0], p[1], p[2]} : Rgb{p[2], p[1], p[0]};
}

uint8_t luma(const Rgb& c) { return static_cast<uint8_t>(((66 * c.r + 129 * c.g + 25 * c.b + 128) >> 8) + 16); }
uint8_t chroma_u(const Rgb& c) { return static_cast<uint8_t>(((-38 * c.r - 74 * c.g + 112 * c.b + 128) >> 8) + 128); }
uint8_t chroma_v(const Rgb& c) { return static_cast<uint8_t>(((112 * c.r - 94 * c.g - 18 * c.b + 128) >> 8) + 128); }

// The rounded mean colour of the pixels of a block that lie inside the image.
Rgb block_mean(const ImageView& image, int x0, int y0, int bw, int bh) {
  int r = 0, g = 0, b = 0, n = 0;
  for (int y = y0; y < std::min(y0 + bh, image.height); ++y)
    for (int x = x0; x < std::min(x0 + bw, image.width); ++x) {
      const Rgb c = pixel(image, x, y);
      r += c.r;
      g += c.g;
      b += c.b;
      ++n;
    }
  return {(r + n / 2) / n, (g + n / 2) / n, (b + n / 2) / n};
}

}  // namespace

void encode_nv12(const ImageView& image, uint8_t* y_plane, int64_t y_stride, uint8_t* uv, int64_t uv_stride) {
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) y_plane[y * y_stride + x] = luma(pixel(image, x, y));
  for (int by = 0; by < (image.height + 1) / 2; ++by)
    for (int bx = 0; bx < (image.width + 1) / 2; ++bx) {
      const Rgb c = block_mean(image, 2 * bx, 2 * by, 2, 2);
      uv[by * uv_stride + 2 * bx] = chroma_u(c);
      uv[by * uv_stride + 2 * bx + 1] = chroma_v(c);
    }
}

void encode_yuyv(const ImageView& image, uint8_t* out, int64_t stride) {
  for (int y = 0; y < image.height; ++y)
    for (int bx = 0; bx < (image.width + 1) / 2; ++bx) {
      const int x0 = 2 * bx, x1 = std::min(x0 + 1, image.width - 1);
      const Rgb c = block_mean(image, x0, y, 2, 1);
      uint8_t* m = out + y * stride + 4 * bx;
      m[0] = luma(pixel(image, x0, y));
      m[1] = chroma_u(c);
      m[2] = luma(pixel(image, x1, y));
      m[3] = chroma_v(c);
    }
}

}  // namespace facepipe::kernels
