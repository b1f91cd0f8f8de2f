#include "media/image.h"

#include <cstring>
#include <string>
#include <utility>

#include "common/status.h"
#include "kernels/yuv.h"

namespace facepipe::media {

namespace {

// 2^15 pixels per side is beyond any camera or photo we expect and keeps stride * height far
// from overflowing; a larger header value means a corrupt or hostile file.
constexpr int kMaxSide = 1 << 15;

ptrdiff_t aligned_row(size_t bytes) {
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
    case PixelFormat::kNV12: return "nv12";
  }
  return "?";
}

Image::Image(int width, int height, PixelFormat format) { reset(width, height, format); }

Image::Image(Image&& other) noexcept
    : storage_(std::move(other.storage_)),
      width_(std::exchange(other.width_, 0)),
      height_(std::exchange(other.height_, 0)),
      stride_(std::exchange(other.stride_, 0)),
      format_(other.format_),
      uv_offset_(std::exchange(other.uv_offset_, 0)),
      uv_stride_(std::exchange(other.uv_stride_, 0)) {}

Image& Image::operator=(Image&& other) noexcept {
  if (this != &other) {
    storage_ = std::move(other.storage_);
    width_ = std::exchange(other.width_, 0);
    height_ = std::exchange(other.height_, 0);
    stride_ = std::exchange(other.stride_, 0);
    format_ = other.format_;
    uv_offset_ = std::exchange(other.uv_offset_, 0);
    uv_stride_ = std::exchange(other.uv_stride_, 0);
  }
  return *this;
}

void Image::reset(int width, int height, PixelFormat format) {
  check_size(width, height);
  size_t bytes = 0;
  if (format == PixelFormat::kNV12) {
    // Y rows, then UV rows; the Y plane's size is a multiple of 64, so the UV plane is aligned too.
    stride_ = aligned_row(static_cast<size_t>(width));
    uv_stride_ = aligned_row(static_cast<size_t>(nv12_chroma_width(width)) * 2);
    uv_offset_ = static_cast<size_t>(stride_) * static_cast<size_t>(height);
    bytes = uv_offset_ + static_cast<size_t>(uv_stride_) * static_cast<size_t>(nv12_chroma_height(height));
  } else {
    stride_ = aligned_row(static_cast<size_t>(width) * 3);
    uv_stride_ = 0;
    uv_offset_ = 0;
    bytes = static_cast<size_t>(stride_) * static_cast<size_t>(height);
  }
  if (bytes > storage_.size()) storage_.resize(bytes);
  width_ = width;
  height_ = height;
  format_ = format;
}

void Image::set_format(PixelFormat format) {
  if (format != format_ && (format == PixelFormat::kNV12 || format_ == PixelFormat::kNV12)) {
    throw Error(std::string("Image::set_format: cannot relabel ") + pixel_format_name(format_) + " as " +
                pixel_format_name(format) + " (different layouts: convert_pixels converts)");
  }
  format_ = format;
}

size_t Image::byte_size() const {
  if (empty()) return 0;
  if (format_ == PixelFormat::kNV12)
    return uv_offset_ + static_cast<size_t>(uv_stride_) * static_cast<size_t>(nv12_chroma_height(height_));
  return static_cast<size_t>(stride_) * static_cast<size_t>(height_);
}

Image Image::clone() const {
  Image copy;
  if (empty()) return copy;
  copy.reset(width_, height_, format_);
  convert_pixels(view(), copy.view());
  return copy;
}

namespace {

// NV12 planes copied row by row (the strides may differ).
void copy_nv12(ConstImageView src, ImageView dst) {
  for (int y = 0; y < src.height; ++y)
    if (src.row(y) != dst.row(y)) std::memmove(dst.row(y), src.row(y), static_cast<size_t>(src.width));
  const size_t uv_bytes = static_cast<size_t>(nv12_chroma_width(src.width)) * 2;
  for (int cy = 0; cy < nv12_chroma_height(src.height); ++cy)
    if (src.uv_row(cy) != dst.uv_row(cy)) std::memmove(dst.uv_row(cy), src.uv_row(cy), uv_bytes);
}

// kernels/yuv.h's BT.601 conversion with the chroma of the pixel's 2x2 block: exactly the GPU
// pipeline's (convert_frame_cuda), so that what the CPU shows of an NV12 frame is what the GPU
// sampled.
void nv12_to_packed(ConstImageView src, ImageView dst) {
  const int r_at = dst.format == PixelFormat::kRGB8 ? 0 : 2;
  const int b_at = 2 - r_at;
  for (int y = 0; y < src.height; ++y) {
    const uint8_t* luma = src.row(y);
    const uint8_t* chroma = src.uv_row(y / 2);
    uint8_t* out = dst.row(y);
    for (int x = 0; x < src.width; ++x) {
      const kernels::Rgb8 p = kernels::yuv_to_rgb(luma[x], chroma[(x / 2) * 2], chroma[(x / 2) * 2 + 1]);
      out[3 * x + r_at] = p.r;
      out[3 * x + 1] = p.g;
      out[3 * x + b_at] = p.b;
    }
  }
}

}  // namespace

void convert_pixels(ConstImageView src, ImageView dst) {
  if (src.width != dst.width || src.height != dst.height) {
    throw Error("convert_pixels: size mismatch " + std::to_string(src.width) + "x" + std::to_string(src.height) +
                " vs " + std::to_string(dst.width) + "x" + std::to_string(dst.height));
  }
  if (src.format == PixelFormat::kNV12 || dst.format == PixelFormat::kNV12) {
    if (src.format == PixelFormat::kNV12 && dst.format == PixelFormat::kNV12) return copy_nv12(src, dst);
    if (src.format == PixelFormat::kNV12) {
      // Rows of different sizes: an in-place NV12 -> packed conversion would overwrite its input.
      if (static_cast<const void*>(src.data) == static_cast<const void*>(dst.data))
        throw Error("convert_pixels: NV12 -> packed cannot run in place");
      return nv12_to_packed(src, dst);
    }
    throw Error(std::string("convert_pixels: ") + pixel_format_name(src.format) + " -> nv12 is not supported");
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
  if (!is_packed_rgb(image.format())) throw Error("swap_red_blue: an NV12 image has no red and blue to swap");
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

namespace {

// Where the stored sample shown at display position (u, v) of an orientation lies, for a stored
// plane of w x h samples.
inline void oriented_source(int orientation, int u, int v, int w, int h, int& sx, int& sy) {
  sx = u, sy = v;
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
}

// One plane of `Bytes`-byte samples (NV12: Y = 1, interleaved UV = 2) turned into dst, whose size is
// the oriented one.
template <int Bytes>
void orient_plane(const uint8_t* src, ptrdiff_t src_stride, int w, int h, int orientation, uint8_t* dst,
                  ptrdiff_t dst_stride, int out_w, int out_h) {
  for (int v = 0; v < out_h; ++v) {
    uint8_t* out = dst + static_cast<ptrdiff_t>(v) * dst_stride;
    for (int u = 0; u < out_w; ++u) {
      int sx = 0, sy = 0;
      oriented_source(orientation, u, v, w, h, sx, sy);
      const uint8_t* in = src + static_cast<ptrdiff_t>(sy) * src_stride + static_cast<ptrdiff_t>(sx) * Bytes;
      for (int b = 0; b < Bytes; ++b) out[Bytes * u + b] = in[b];
    }
  }
}

}  // namespace

void orient_pixels(ConstImageView src, int orientation, ImageView dst) {
  if (orientation < 1 || orientation > 8) orientation = 1;
  const bool swap = orientation_swaps_axes(orientation);
  const int out_w = swap ? src.height : src.width;
  const int out_h = swap ? src.width : src.height;
  if (dst.width != out_w || dst.height != out_h) {
    throw Error("orient_pixels: destination is " + std::to_string(dst.width) + "x" + std::to_string(dst.height) +
                ", orientation needs " + std::to_string(out_w) + "x" + std::to_string(out_h));
  }
  const int w = src.width, h = src.height;
  if (src.format == PixelFormat::kNV12 || dst.format == PixelFormat::kNV12) {
    if (src.format != dst.format)
      throw Error(std::string("orient_pixels: ") + pixel_format_name(src.format) + " -> " +
                  pixel_format_name(dst.format) + " is not supported (turn, then convert)");
    // The chroma plane turns as a plane of its own: its oriented size is the chroma size of the
    // oriented frame (ceil of halves either way), so every pixel keeps its own block's chroma.
    orient_plane<1>(src.data, src.stride, w, h, orientation, dst.data, dst.stride, out_w, out_h);
    orient_plane<2>(src.uv, src.uv_stride, nv12_chroma_width(w), nv12_chroma_height(h), orientation, dst.uv,
                    dst.uv_stride, nv12_chroma_width(out_w), nv12_chroma_height(out_h));
    return;
  }
  const bool swap_rb = src.format != dst.format;
  for (int v = 0; v < out_h; ++v) {
    uint8_t* out = dst.row(v);
    for (int u = 0; u < out_w; ++u) {
      int sx = 0, sy = 0;
      oriented_source(orientation, u, v, w, h, sx, sy);
      const uint8_t* in = src.pixel(sx, sy);
      out[3 * u] = in[swap_rb ? 2 : 0];
      out[3 * u + 1] = in[1];
      out[3 * u + 2] = in[swap_rb ? 0 : 2];
    }
  }
}

}  // namespace facepipe::media
