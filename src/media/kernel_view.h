// A decoded or captured media::Image as the image kernels' input view (kernels never depend on
// src/media; this adapter is the one place that knows both).
#pragma once

#include "kernels/image_view.h"
#include "media/image.h"

namespace facepipe::media {

inline kernels::ImageView kernel_view(const Image& image) {
  return kernels::ImageView{image.data(), image.width(), image.height(), static_cast<int64_t>(image.stride()), 3,
                            image.format() == PixelFormat::kBGR8 ? kernels::ChannelOrder::kBGR
                                                                 : kernels::ChannelOrder::kRGB};
}

}  // namespace facepipe::media
