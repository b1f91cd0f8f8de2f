// A decoded or captured media::Image as the image kernels' input view (kernels never depend on
// src/media; this adapter is the one place that knows both).
#pragma once

#include <string>

#include "common/status.h"
#include "kernels/image_view.h"
#include "media/image.h"

namespace facepipe::media {

// kernels::ImageView is packed RGB/BGR only: an NV12 image would be read as garbage, so it throws
// facepipe::Error instead. Per-frame callers that may hold NV12 (the runtime's GPU workers) check
// is_packed_rgb() first and hand NV12 to the GPU pipeline as a raw frame.
inline kernels::ImageView kernel_view(const ConstImageView& image) {
  if (!is_packed_rgb(image.format))
    throw Error(std::string("kernel_view: a ") + pixel_format_name(image.format) +
                " image is not packed RGB/BGR (convert it first, or hand it to the GPU pipeline as a raw frame)");
  return kernels::ImageView{image.data, image.width, image.height, static_cast<int64_t>(image.stride), 3,
                            image.format == PixelFormat::kBGR8 ? kernels::ChannelOrder::kBGR : kernels::ChannelOrder::kRGB};
}
inline kernels::ImageView kernel_view(const Image& image) { return kernel_view(image.view()); }

}  // namespace facepipe::media
