#include "media/image.h"

#include <cstring>
#include <string>
#include <utility>

#include "common/status.h"

namespace facepipe::media {

namespace {

// 2^15 pixels per side is beyond any camera or photo we expect and keeps stride * height far
// from overflowing; a larger header value means a corrupt or hostile file.
constexpr int kMaxSide = 1 << 15;

ptrdiff_t aligned_stride(int width) {
  const size_t bytes = static_cast<size_t>(width) * 3;
  return static_cast<ptrdiff_t>((bytes + Image::kRowAlignment - 1) / Image::kRowAlignment * Image::kRowAlignment);
}

void check_size(int width, int height) {
  if (width <= 0 || height <= 0 || width > kMaxSide || height > kMaxSide) {
    throw Error("image size " + std::to_string(width) + "x" + std::to_string(height) +
                " is outside 1.." + std::to_string(kMaxSide));
  }
}

}  // namespace

const char* pixel_format_name(PixelFormat format) {
  switch (format) {
    case PixelFormat::kRGB8: return "rgb8";
    case PixelFormat::kBGR8: return "bgr8";
  }
  return "?";
}

Image::Image(int width, int height, PixelFormat format) { reset(width, height, format); }

Image::Image(Image&& other) noexcept
    : storage_(std::move(other.storage_)),
      width_(std::exchange(other.width_, 0)),
      height_(std::exchange(other.height_, 0)),
      stride_(std::exchange(other.stride_, 0)),
      format_(other.format_) {}

Image& Image::operator=(Image&& other) noexcept {
  if (this != &other) {
    storage_ = std::move(other.storage_);
    width_ = std::exchange(other.width_, 0);
    height_ = std::exchange(other.height_, 0);
    stride_ = std::exchange(other.stride_, 0);
    format_ = other.format_;
  }
  return *this;
}

void Image::reset(int width, int height, PixelFormat format) {
  check_size(width, height);
  const ptrdiff_t stride = aligned_stride(width);
  const size_t bytes = static_cast<size_t>(stride) * static_cast<size_t>(height);
  if (bytes > storage_.size()) storage_.resize(bytes);
  width_ = width;
  height_ = height;
  stride_ = stride;
  format_ = format;
}

Image Image::clone() const {
  Image copy;
  if (empty()) return copy;
  copy.reset(width_, height_, format_);
  for (int y = 0; y < height_; ++y) std::memcpy(copy.row(y), row(y), static_cast<size_t>(width_) * 3);
  return copy;
}

void convert_pixels(ConstImageView src, ImageView dst) {
  if (src.width != dst.width || src.height != dst.height) {
    throw Error("convert_pixels: size mismatch " + std::to_string(src.width) + "x" + std::to_string(src.height) +
                " vs " + std::to_string(dst.width) + "x" + std::to_string(dst.height));
  }
  const bool swap = src.format != dst.format;
  for (int y = 0; y < src.height; ++y) {
    const uint8_t* in = src.row(y);
    uint8_t* out = dst.row(y);
    if (!swap) {
      if (in != out) std::memmove(out, in, static_cast<size_t>(src.width) * 3);
      continue;
    }
    for (int x = 0; x < src.width; ++x) {
      // Read all three first so that in == out (in-place) works.
      const uint8_t c0 = in[3 * x], c1 = in[3 * x + 1], c2 = in[3 * x + 2];
      out[3 * x] = c2;
      out[3 * x + 1] = c1;
      out[3 * x + 2] = c0;
    }
  }
}

void swap_red_blue(Image& image) {
  const PixelFormat other = image.format() == PixelFormat::kRGB8 ? PixelFormat::kBGR8 : PixelFormat::kRGB8;
  ImageView dst = image.view();
  dst.format = other;
  convert_pixels(image.view(), dst);
  image.set_format(other);
}

Image to_format(ConstImageView src, PixelFormat format) {
  Image out(src.width, src.height, format);
  convert_pixels(src, out.view());
  return out;
}

}  // namespace facepipe::media

namespace facepipe::media {

void orient_pixels(ConstImageView src, int orientation, ImageView dst) {
  if (orientation < 1 || orientation > 8) orientation = 1;
  const bool swap = orientation_swaps_axes(orientation);
  const int out_w = swap ? src.height : src.width;
  const int out_h = swap ? src.width : src.height;
  if (dst.width != out_w || dst.height != out_h) {
    throw Error("orient_pixels: destination is " + std::to_string(dst.width) + "x" + std::to_string(dst.height) +
                ", orientation needs " + std::to_string(out_w) + "x" + std::to_string(out_h));
  }
  const bool swap_rb = src.format != dst.format;
  const int w = src.width, h = src.height;
  for (int v = 0; v < out_h; ++v) {
    uint8_t* out = dst.row(v);
    for (int u = 0; u < out_w; ++u) {
      // (sx, sy): which stored pixel is shown at display position (u, v).
      int sx = u, sy = v;
      switch (orientation) {
        case 2: sx = w - 1 - u; sy = v; break;          // mirrored
        case 3: sx = w - 1 - u; sy = h - 1 - v; break;  // rotated 180
        case 4: sx = u; sy = h - 1 - v; break;          // flipped vertically
        case 5: sx = v; sy = u; break;                  // transposed
        case 6: sx = v; sy = h - 1 - u; break;          // needs 90 deg clockwise
        case 7: sx = w - 1 - v; sy = h - 1 - u; break;  // transverse
        case 8: sx = w - 1 - v; sy = u; break;          // needs 90 deg counter-clockwise
        default: break;
      }
      const uint8_t* in = src.pixel(sx, sy);
      out[3 * u] = in[swap_rb ? 2 : 0];
      out[3 * u + 1] = in[1];
      out[3 * u + 2] = in[swap_rb ? 0 : 2];
    }
  }
}

}  // namespace facepipe::media
