// A non-owning view of an 8-bit interleaved image: the input of every image kernel.
//
// Kernels never depend on src/media: whoever decodes or captures frames wraps its buffer in an
// ImageView. Three channels (RGB or BGR) or four (RGBA or BGRA: the fourth is ignored).
#pragma once

#include <cstdint>

#include "common/status.h"

namespace facepipe::kernels {

// Order of the first three channels in memory.
enum class ChannelOrder : uint8_t { kRGB, kBGR };

struct ImageView {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int64_t row_stride = 0;  // bytes from one row to the next (>= width * channels)
  int channels = 3;        // 3 or 4
  ChannelOrder order = ChannelOrder::kRGB;

  // A tightly packed image (row_stride = width * channels).
  static ImageView packed(const uint8_t* data, int width, int height, int channels = 3,
                          ChannelOrder order = ChannelOrder::kRGB) {
    return ImageView{data, width, height, static_cast<int64_t>(width) * channels, channels, order};
  }

  const uint8_t* row(int y) const { return data + static_cast<int64_t>(y) * row_stride; }
};

// Checks the fields (non-null data, positive size, 3 or 4 channels, stride large enough).
inline Status validate(const ImageView& image) {
  if (image.data == nullptr) return Status::error(StatusCode::kInvalidArgument, "image: null data");
  if (image.width <= 0 || image.height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "image: width and height must be positive");
  if (image.channels != 3 && image.channels != 4)
    return Status::error(StatusCode::kUnsupported, "image: only 3 or 4 interleaved channels are supported");
  if (image.row_stride < static_cast<int64_t>(image.width) * image.channels)
    return Status::error(StatusCode::kInvalidArgument, "image: row stride smaller than width * channels");
  return Status::ok();
}

// Where the R, G and B values of a pixel lie within its `channels` bytes.
struct RgbOffsets {
  int r, g, b;
};
inline RgbOffsets rgb_offsets(ChannelOrder order) {
  return order == ChannelOrder::kRGB ? RgbOffsets{0, 1, 2} : RgbOffsets{2, 1, 0};
}

}  // namespace facepipe::kernels
