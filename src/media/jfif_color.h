// Internal to src/media: JFIF YCbCr -> RGB the way libjpeg decodes it.
//
// swscale's bilinear chroma upsampling differs from libjpeg's "fancy" (triangle) upsampling by up to
// ~40 levels on sharp colour edges, while browsers, PIL and OpenCV all use libjpeg(-turbo). So for
// full-range 8-bit JPEG output we upsample and convert ourselves with the same arithmetic as the JFIF
// spec and libjpeg's documented defaults (triangle filter, 16-bit fixed-point BT.601 full range).
#pragma once

extern "C" {
#include <libavutil/frame.h>
}

#include "media/image.h"

namespace facepipe::media::detail {

// True when `frame` is a full-range 8-bit 4:2:0, 4:2:2 or 4:4:4 planar YCbCr picture that
// jfif_to_rgb can convert.
bool jfif_convertible(const AVFrame& frame);
// Converts into dst (same size as the frame; RGB or BGR per dst.format).
void jfif_to_rgb(const AVFrame& frame, ImageView dst);

}  // namespace facepipe::media::detail
