// 8-bit images: an owning Image and non-owning views, either 3-channel interleaved (RGB8, BGR8) or
// NV12 (the 4:2:0 YUV layout cameras and video decoders deliver; see PixelFormat::kNV12).
//
// Rows are padded to a 64-byte stride so that swscale and SIMD kernels get aligned rows; code that
// walks pixels must use row(y), never data() + y * width * 3.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/aligned_buffer.h"

namespace facepipe::media {

// Layout of an image's pixels. Decoders produce kRGB8 unless asked otherwise.
//
// kRGB8 / kBGR8: 3 interleaved bytes per pixel in that channel order; `stride` bytes per row.
// kNV12: two planes in one buffer. The Y plane: width x height bytes, `stride` bytes per row, at
//   data. Then the UV plane: ceil(width/2) x ceil(height/2) interleaved (U, V) byte pairs (one pair
//   per 2x2 block of pixels; the last column / row of an odd size has its own pair), `uv_stride`
//   bytes per row, at `uv`. Values are YUV as the source coded them; the GPU pipeline, the one
//   consumer, reads them as BT.601 limited range (docs/media.md). There is no pixel(x, y) for it and
//   no channels(): code that needs packed pixels checks is_packed_rgb() first (kernel_view,
//   convert_pixels and the drawing functions refuse NV12 with an error instead of misreading it).
enum class PixelFormat : uint8_t { kRGB8, kBGR8, kNV12 };

const char* pixel_format_name(PixelFormat format);
constexpr bool is_packed_rgb(PixelFormat format) { return format == PixelFormat::kRGB8 || format == PixelFormat::kBGR8; }
// NV12's chroma plane size for a width x height image.
constexpr int nv12_chroma_width(int width) { return (width + 1) / 2; }
constexpr int nv12_chroma_height(int height) { return (height + 1) / 2; }

template <typename Byte>
struct BasicImageView {
  Byte* data = nullptr;
  int width = 0;
  int height = 0;
  ptrdiff_t stride = 0;  // bytes between the starts of two rows (NV12: of the Y plane)
  PixelFormat format = PixelFormat::kRGB8;
  Byte* uv = nullptr;        // NV12 only: the interleaved UV plane
  ptrdiff_t uv_stride = 0;   // NV12 only: bytes between two UV rows

  static constexpr int channels() { return 3; }  // of the packed formats
  bool empty() const { return width <= 0 || height <= 0 || data == nullptr; }
  Byte* row(int y) const { return data + static_cast<ptrdiff_t>(y) * stride; }  // NV12: a Y row
  Byte* pixel(int x, int y) const { return row(y) + static_cast<ptrdiff_t>(x) * 3; }  // packed only
  Byte* uv_row(int cy) const { return uv + static_cast<ptrdiff_t>(cy) * uv_stride; }  // NV12: chroma row cy
  // A mutable view converts to a read-only one, never the reverse.
  operator BasicImageView<const uint8_t>() const { return {data, width, height, stride, format, uv, uv_stride}; }
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
  // that calls this every frame allocates only on the first one; an NV12 image needs half the
  // bytes of a packed one, so a buffer that held either fits the NV12 frame). Contents are
  // unspecified after.
  void reset(int width, int height, PixelFormat format);
  Image clone() const;

  int width() const { return width_; }
  int height() const { return height_; }
  static constexpr int channels() { return 3; }
  ptrdiff_t stride() const { return stride_; }  // NV12: of the Y plane
  PixelFormat format() const { return format_; }
  bool empty() const { return width_ == 0; }
  // Relabels the channel order (RGB8 <-> BGR8) without touching pixels. Throws facepipe::Error when
  // NV12 is involved (that is a different layout, not a relabelling).
  void set_format(PixelFormat format);
  // Bytes of pixel data in use (both planes for NV12, row padding included).
  size_t byte_size() const;
  // NV12's UV plane (nullptr for the packed formats): nv12_chroma_width(width()) (U, V) pairs per
  // row, nv12_chroma_height(height()) rows of uv_stride() bytes.
  uint8_t* uv_plane() { return format_ == PixelFormat::kNV12 ? data() + uv_offset_ : nullptr; }
  const uint8_t* uv_plane() const { return format_ == PixelFormat::kNV12 ? data() + uv_offset_ : nullptr; }
  ptrdiff_t uv_stride() const { return format_ == PixelFormat::kNV12 ? uv_stride_ : 0; }
  uint8_t* uv_row(int cy) { return uv_plane() + static_cast<ptrdiff_t>(cy) * uv_stride_; }
  const uint8_t* uv_row(int cy) const { return uv_plane() + static_cast<ptrdiff_t>(cy) * uv_stride_; }

  uint8_t* data() { return storage_.as<uint8_t>(); }
  const uint8_t* data() const { return storage_.as<uint8_t>(); }
  uint8_t* row(int y) { return data() + static_cast<ptrdiff_t>(y) * stride_; }
  const uint8_t* row(int y) const { return data() + static_cast<ptrdiff_t>(y) * stride_; }
  uint8_t* pixel(int x, int y) { return row(y) + static_cast<ptrdiff_t>(x) * 3; }
  const uint8_t* pixel(int x, int y) const { return row(y) + static_cast<ptrdiff_t>(x) * 3; }

  ImageView view() { return {data(), width_, height_, stride_, format_, uv_plane(), uv_stride()}; }
  ConstImageView view() const { return {data(), width_, height_, stride_, format_, uv_plane(), uv_stride()}; }

 private:
  AlignedBuffer storage_;
  int width_ = 0;
  int height_ = 0;
  ptrdiff_t stride_ = 0;
  PixelFormat format_ = PixelFormat::kRGB8;
  size_t uv_offset_ = 0;  // NV12: where the UV plane starts in storage_ (64-byte aligned)
  ptrdiff_t uv_stride_ = 0;
};

// Copies src into dst (same size), swapping R and B when their formats differ; dst may alias src
// exactly (in-place). NV12 -> RGB8/BGR8 converts with the GPU pipeline's formula (BT.601 limited
// range, 8.8 fixed point, each pixel takes its 2x2 block's chroma: kernels/cuda/image_kernels.h),
// so a CPU view of an NV12 frame shows what the GPU saw; NV12 -> NV12 copies both planes.
// RGB8/BGR8 -> NV12 is not offered (nothing needs it). Throws facepipe::Error on a size mismatch
// or an unsupported pair (not per-frame code: callers check formats first).
void convert_pixels(ConstImageView src, ImageView dst);
// Swaps R and B in place and relabels: RGB becomes BGR and back. Throws for NV12.
void swap_red_blue(Image& image);
// A new image in `format` (a plain copy when it already is); NV12 -> RGB8/BGR8 as convert_pixels.
Image to_format(ConstImageView src, PixelFormat format);

// EXIF orientation (1..8: how the stored pixels must be turned for display; 6 = rotate 90 deg
// clockwise). 5..8 swap width and height.
constexpr bool orientation_swaps_axes(int exif_orientation) { return exif_orientation >= 5 && exif_orientation <= 8; }
// Writes src turned to display orientation into dst, which must already have the oriented size and
// must not alias src. Values outside 1..8 are treated as 1 (a plain copy). Throws on a size mismatch.
// NV12 -> NV12 turns both planes (a UV pair moves as one sample), packed -> packed as before;
// mixing NV12 and packed throws.
void orient_pixels(ConstImageView src, int exif_orientation, ImageView dst);

}  // namespace facepipe::media
