// RGB/BGR → the YUV layouts cameras deliver (NV12, YUYV), BT.601 limited range in 8.8 fixed point,
// chroma the rounded mean of its 2x2 (NV12) or 2x1 (YUYV) block. The inverse of the GPU's
// convert_frame_cuda up to chroma subsampling; used to feed the YUV upload paths real pictures
// (benchmarks, tests). Allocates nothing.
#pragma once

#include <cstdint>

#include "kernels/image_view.h"

namespace facepipe::kernels {

// y: width x height bytes (y_stride per row); uv: ceil(w/2) (U, V) pairs x ceil(h/2) rows.
void encode_nv12(const ImageView& image, uint8_t* y, int64_t y_stride, uint8_t* uv, int64_t uv_stride);
// ceil(w/2) macropixels (Y0 U Y1 V) per row, `stride` bytes per row.
void encode_yuyv(const ImageView& image, uint8_t* out, int64_t stride);

}  // namespace facepipe::kernels
