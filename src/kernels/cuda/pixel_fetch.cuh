// The one place where device code turns a DeviceImageView's bytes into 8-bit R, G, B: every
// sampling kernel (warp.cu, resize.cu) reads its taps through fetch_rgb, and convert.cu converts
// with the same yuv_to_rgb. Sampling a YUV view is therefore bit-identical to sampling the packed
// image convert_frame_cuda makes of it: each tap gets the very byte the conversion would have
// stored there, and the interpolation that follows is the same code on the same values.
//
// The switch on the format is uniform across a warp: a launch samples one view, a batched warp one
// view per blockIdx.z.
#pragma once

#include <cstdint>

#include "kernels/cuda/image_kernels.h"
#include "kernels/yuv.h"

namespace facepipe::kernels::cuda {

using kernels::Rgb8;
using kernels::yuv_to_rgb;

// Pixel (x, y) of `img`, 0 <= x < width, 0 <= y < height (callers clamp or skip out-of-image taps
// first, exactly as they did on packed images). Chroma siting as convert_frame_cuda: NV12 pixel
// (x, y) takes UV pair (x/2, y/2), a YUYV pixel the U, V of its macropixel x/2; for odd sizes the
// last pair covers one column (row), which these indices give without a special case.
__host__ __device__ __forceinline__ Rgb8 fetch_rgb(const DeviceImageView& img, int x, int y) {
  const uint8_t* row = img.data + static_cast<int64_t>(y) * img.row_stride;
  switch (img.format) {
    case PixelFormat::kNV12: {
      const uint8_t* uv = img.plane1 + static_cast<int64_t>(y >> 1) * img.plane1_stride + (x >> 1) * 2;
      return yuv_to_rgb(row[x], uv[0], uv[1]);
    }
    case PixelFormat::kYUYV: {
      const uint8_t* mp = row + static_cast<int64_t>(x >> 1) * 4;  // Y0 U Y1 V
      return yuv_to_rgb(mp[(x & 1) * 2], mp[1], mp[3]);
    }
    default: {
      const uint8_t* p = row + static_cast<int64_t>(x) * img.channels;
      return img.order == ChannelOrder::kRGB ? Rgb8{p[0], p[1], p[2]} : Rgb8{p[2], p[1], p[0]};
    }
  }
}

// Channel k (0..2) of `p` in `order`: k = 0 is R for kRGB, B for kBGR.
__host__ __device__ __forceinline__ int channel(const Rgb8& p, ChannelOrder order, int k) {
  const int c = order == ChannelOrder::kRGB ? k : 2 - k;
  return c == 0 ? p.r : (c == 1 ? p.g : p.b);
}

}  // namespace facepipe::kernels::cuda
