// 8-bit, 3-channel interleaved images: an owning Image and non-owning views.
//
// Rows are padded to a 64-byte stride so that swscale and SIMD kernels get aligned rows; code that
// walks pixels must use row(y), never data() + y * width * 3.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/aligned_buffer.h"

namespace facepipe::media {

// Channel order of a 3-channel, 8-bit pixel. Decoders produce kRGB8 unless asked otherwise.
enum class PixelFormat : uint8_t { kRGB8, kBGR8 };

const char* pixel_format_name(PixelFormat format);

template <typename Byte>
struct BasicImageView {
  Byte* data = nullptr;
  int width = 0;
  int height = 0;
  ptrdiff_t stride = 0;  // bytes between the starts of two rows
  PixelFormat format = PixelFormat::kRGB8;

  static constexpr int channels() { return 3; }
  bool empty() const { return width <= 0 || height <= 0 || data == nullptr; }
  Byte* row(int y) const { return data + static_cast<ptrdiff_t>(y) * stride; }
  Byte* pixel(int x, int y) const { return row(y) + static_cast<ptrdiff_t>(x) * 3; }
  // A mutable view converts to a read-only one, never the reverse.
  operator BasicImageView<const uint8_t>() const { return {data, width, height, stride, format}; }
};

using ImageView = BasicImageView<uint8_t>;
using ConstImageView = BasicImageView<const uint8_t>;

class Image {
 public:
  static constexpr size_t kRowAlignment = 64;

  Image() = default;
  // Zero-filled. Throws facepipe::Error on a non-positive or absurd size.
  Image(int width, int height, PixelFormat format = PixelFormat::kRGB8);
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;
  Image(Image&&) noexcept;
  Image& operator=(Image&&) noexcept;
  ~Image() = default;

  // Changes the size and format; reuses the storage when it is large enough (so a video reader
  // that calls this every frame allocates only on the first one). Contents are unspecified after.
  void reset(int width, int height, PixelFormat format);
  Image clone() const;

  int width() const { return width_; }
  int height() const { return height_; }
  static constexpr int channels() { return 3; }
  ptrdiff_t stride() const { return stride_; }
  PixelFormat format() const { return format_; }
  bool empty() const { return width_ == 0; }
  // Relabels the channel order without touching pixels.
  void set_format(PixelFormat format) { format_ = format; }

  uint8_t* data() { return storage_.as<uint8_t>(); }
  const uint8_t* data() const { return storage_.as<uint8_t>(); }
  uint8_t* row(int y) { return data() + static_cast<ptrdiff_t>(y) * stride_; }
  const uint8_t* row(int y) const { return data() + static_cast<ptrdiff_t>(y) * stride_; }
  uint8_t* pixel(int x, int y) { return row(y) + static_cast<ptrdiff_t>(x) * 3; }
  const uint8_t* pixel(int x, int y) const { return row(y) + static_cast<ptrdiff_t>(x) * 3; }

  ImageView view() { return {data(), width_, height_, stride_, format_}; }
  ConstImageView view() const { return {data(), width_, height_, stride_, format_}; }

 private:
  AlignedBuffer storage_;
  int width_ = 0;
  int height_ = 0;
  ptrdiff_t stride_ = 0;
  PixelFormat format_ = PixelFormat::kRGB8;
};

// Copies src into dst (same size), swapping R and B when their formats differ; dst may alias src
// exactly (in-place). Throws facepipe::Error on a size mismatch.
void convert_pixels(ConstImageView src, ImageView dst);
// Swaps R and B in place and relabels: RGB becomes BGR and back.
void swap_red_blue(Image& image);
// A new image in `format` (a plain copy when it already is).
Image to_format(ConstImageView src, PixelFormat format);

// EXIF orientation (1..8: how the stored pixels must be turned for display; 6 = rotate 90 deg
// clockwise). 5..8 swap width and height.
constexpr bool orientation_swaps_axes(int exif_orientation) { return exif_orientation >= 5 && exif_orientation <= 8; }
// Writes src turned to display orientation into dst, which must already have the oriented size and
// must not alias src. Values outside 1..8 are treated as 1 (a plain copy). Throws on a size mismatch.
void orient_pixels(ConstImageView src, int exif_orientation, ImageView dst);

}  // namespace facepipe::media
