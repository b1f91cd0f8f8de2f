// warp_to_tensor on the GPU: one thread per output pixel, one grid layer (blockIdx.z) per crop.
//
// Sampling::kOpenCv must be bit-identical to the CPU gold (kernels/image_to_tensor.cpp), so sample
// positions are computed in double with the same operations in the same order as the CPU's
// compiled code. The gold evaluates them as cv::warpPerspective does (from the start of a 64-pixel
// block, then a perspective divide), and GCC contracts each `m0 * x + m1 * y + m2` (its default
// -ffp-contract=fast, -march=x86-64-v3) into fma(m0, x, m1 * y) + m2 and each `b + m0 * x1` into
// fma(m0, x1, b); the kernel writes exactly those with fma / __dmul_rn / __dadd_rn, which nvcc
// never re-contracts. Positions round to 1/32 pixel with rint (ties to even, as std::nearbyint in
// the default rounding mode); the 15-bit weights are rebuilt from the same float expressions as the
// CPU's table, integer-accumulated and rounded like it.
//
// Taps are read through fetch_rgb (pixel_fetch.cuh), so a crop of an NV12 or YUYV view converts
// only the pixels it samples, bit-identical to warping the frame convert_frame_cuda would make.
#include <cmath>

#include "kernels/cuda/image_kernels.h"
#include "kernels/cuda/pixel_fetch.cuh"

namespace facepipe::kernels::cuda {

namespace {

struct WarpParams {
  const WarpCrop* crops = nullptr;  // batched: one record per blockIdx.z; null: use `single`
  WarpCrop single{};
  float* out = nullptr;
  int out_width = 0, out_height = 0;
  float scale = 1.f, offset = 0.f;
  bool zero_border = false;
  ChannelOrder out_order = ChannelOrder::kRGB;
};

// The CPU gold's `a * x + b * y + c`, contracted the way its compiled code is.
__device__ __forceinline__ double affine_row(double a, double b, double c, double x, double y) {
  return __dadd_rn(fma(a, x, __dmul_rn(b, y)), c);
}

constexpr double kDoubleMax = 1.7976931348623157e308;

// OpenCV's INTER_LINEAR weights for a 1/32-pixel fraction, as the CPU's OpenCvBilinearTable makes
// them: float products, rounded to 15 bits; the largest weight absorbs a shortfall of the sum
// below 32768, the smallest an excess.
__device__ __forceinline__ void opencv_weights(int fx, int fy, int w[4]) {
  const float ax = static_cast<float>(fx) / 32.f, ay = static_cast<float>(fy) / 32.f;
  const float bx = __fsub_rn(1.f, ax), by = __fsub_rn(1.f, ay);
  const float wf[4] = {__fmul_rn(bx, by), __fmul_rn(ax, by), __fmul_rn(bx, ay), __fmul_rn(ax, ay)};
  int sum = 0, largest = 0, smallest = 0;
  for (int k = 0; k < 4; ++k) {
    w[k] = __float2int_rn(__fmul_rn(wf[k], 32768.f));
    sum += w[k];
    if (w[k] > w[largest]) largest = k;
    if (w[k] < w[smallest]) smallest = k;
  }
  w[sum < 32768 ? largest : smallest] += 32768 - sum;
}

template <bool kOpenCv>
__global__ void warp_kernel(const WarpParams p) {
  const int ox = blockIdx.x * blockDim.x + threadIdx.x;
  const int oy = blockIdx.y * blockDim.y + threadIdx.y;
  if (ox >= p.out_width || oy >= p.out_height) return;
  const int crop_index = blockIdx.z;
  const WarpCrop& crop = p.crops ? p.crops[crop_index] : p.single;
  const DeviceImageView& img = crop.image;
  const double* m = crop.m;
  const int W = img.width, H = img.height;
  float* dst = p.out + ((static_cast<int64_t>(crop_index) * p.out_height + oy) * p.out_width + ox) * 3;

  if constexpr (kOpenCv) {
    // cv::warpPerspective's evaluation, as the CPU gold writes it.
    const int block_x = ox / 64 * 64;
    const double xb = static_cast<double>(block_x), x1 = static_cast<double>(ox - block_x);
    const double y = static_cast<double>(oy);
    const double bx = affine_row(m[0], m[1], m[2], xb, y);
    const double by = affine_row(m[3], m[4], m[5], xb, y);
    const double bw = affine_row(m[6], m[7], m[8], xb, y);
    double scale_w = fma(m[6], x1, bw);
    scale_w = scale_w != 0 ? __ddiv_rn(32.0, scale_w) : 0.0;
    const double fx = __dmul_rn(fma(m[0], x1, bx), scale_w);
    const double fy = __dmul_rn(fma(m[3], x1, by), scale_w);
    if (!(fabs(fx) <= kDoubleMax) || !(fabs(fy) <= kDoubleMax)) {  // NaN or infinite
      dst[0] = dst[1] = dst[2] = p.offset;
      return;
    }
    const auto qx = static_cast<int64_t>(rint(fmin(fmax(fx, -1e12), 1e12)));
    const auto qy = static_cast<int64_t>(rint(fmin(fmax(fy, -1e12), 1e12)));
    const int64_t x0 = qx >> 5, y0 = qy >> 5;  // arithmetic shift: floor division
    int w[4];
    opencv_weights(static_cast<int>(qx & 31), static_cast<int>(qy & 31), w);
    int acc[3] = {0, 0, 0};
    for (int k = 0; k < 4; ++k) {
      int64_t px = x0 + (k & 1), py = y0 + (k >> 1);
      if (px < 0 || px >= W || py < 0 || py >= H) {
        if (p.zero_border) continue;
        px = px < 0 ? 0 : (px >= W ? W - 1 : px);
        py = py < 0 ? 0 : (py >= H ? H - 1 : py);
      }
      const Rgb8 q = fetch_rgb(img, static_cast<int>(px), static_cast<int>(py));
      for (int c = 0; c < 3; ++c) acc[c] += w[k] * channel(q, p.out_order, c);
    }
    for (int c = 0; c < 3; ++c) {
      int v = (acc[c] + (1 << 14)) >> 15;
      v = v < 0 ? 0 : (v > 255 ? 255 : v);
      dst[c] = static_cast<float>(v) * p.scale + p.offset;
    }
  } else {
    const double xc = static_cast<double>(ox) + 0.5, yc = static_cast<double>(oy) + 0.5;
    const double x = affine_row(m[0], m[1], m[2], xc, yc);
    const double y = affine_row(m[3], m[4], m[5], xc, yc);
    if (p.zero_border && (x < 0.0 || x >= W || y < 0.0 || y >= H || x != x || y != y)) {
      dst[0] = dst[1] = dst[2] = p.offset;
      return;
    }
    const double sx = x - 0.5, sy = y - 0.5;
    const double fxi = floor(sx), fyi = floor(sy);
    const float fx = static_cast<float>(sx - fxi), fy = static_cast<float>(sy - fyi);
    const int xi = static_cast<int>(fmin(fmax(fxi, -1.0), static_cast<double>(W)));
    const int yi = static_cast<int>(fmin(fmax(fyi, -1.0), static_cast<double>(H)));
    const int xa = min(max(xi, 0), W - 1), xb = min(max(xi + 1, 0), W - 1);
    const int ya = min(max(yi, 0), H - 1), yb = min(max(yi + 1, 0), H - 1);
    const Rgb8 p00 = fetch_rgb(img, xa, ya), p01 = fetch_rgb(img, xb, ya);
    const Rgb8 p10 = fetch_rgb(img, xa, yb), p11 = fetch_rgb(img, xb, yb);
    const float w00 = (1.f - fx) * (1.f - fy), w01 = fx * (1.f - fy);
    const float w10 = (1.f - fx) * fy, w11 = fx * fy;
    for (int c = 0; c < 3; ++c) {
      const ChannelOrder o = p.out_order;
      const float v = w00 * channel(p00, o, c) + w01 * channel(p01, o, c) + w10 * channel(p10, o, c) +
                      w11 * channel(p11, o, c);
      dst[c] = v * p.scale + p.offset;
    }
  }
}

Status launch_warp(const WarpParams& p, int count, bool opencv, cudaStream_t stream) {
  const dim3 block(32, 8);
  const dim3 grid((p.out_width + 31) / 32, (p.out_height + 7) / 8, static_cast<unsigned>(count));
  if (opencv) {
    warp_kernel<true><<<grid, block, 0, stream>>>(p);
  } else {
    warp_kernel<false><<<grid, block, 0, stream>>>(p);
  }
  return cudaGetLastError() == cudaSuccess ? Status::ok()
                                           : Status::error(StatusCode::kDeviceError, "warp_to_tensor_cuda: launch failed");
}

Status validate_format(const TensorFormat& format) {
  if (format.width <= 0 || format.height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor_cuda: output size must be positive");
  if (format.height > 65535 * 8)
    return Status::error(StatusCode::kUnsupported, "warp_to_tensor_cuda: output too tall");
  return Status::ok();
}

WarpParams params_for(const TensorFormat& format, float* out) {
  WarpParams p;
  p.out = out;
  p.out_width = format.width;
  p.out_height = format.height;
  p.scale = format.scale;
  p.offset = format.offset;
  p.zero_border = format.border == BorderMode::kZero;
  p.out_order = format.order;
  return p;
}

}  // namespace

Status warp_crop_to_tensor_cuda(const WarpCrop& crop, const TensorFormat& format, float* out_device,
                                cudaStream_t stream) {
  FACEPIPE_RETURN_IF_ERROR(validate(crop.image));
  FACEPIPE_RETURN_IF_ERROR(validate_format(format));
  if (out_device == nullptr) return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor_cuda: null output");
  for (double v : crop.m)
    if (!std::isfinite(v)) return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor_cuda: non-finite matrix");
  WarpParams p = params_for(format, out_device);
  p.single = crop;
  return launch_warp(p, 1, format.sampling == Sampling::kOpenCv, stream);
}

Status warp_batch_to_tensor_cuda(const WarpCrop* crops_device, int count, const TensorFormat& format,
                                 float* out_device, cudaStream_t stream) {
  FACEPIPE_RETURN_IF_ERROR(validate_format(format));
  if (count == 0) return Status::ok();
  if (count < 0 || count > 65535)
    return Status::error(StatusCode::kInvalidArgument, "warp_batch_to_tensor_cuda: count must be in [0, 65535]");
  if (crops_device == nullptr || out_device == nullptr)
    return Status::error(StatusCode::kInvalidArgument, "warp_batch_to_tensor_cuda: null crops or output");
  WarpParams p = params_for(format, out_device);
  p.crops = crops_device;
  return launch_warp(p, count, format.sampling == Sampling::kOpenCv, stream);
}

}  // namespace facepipe::kernels::cuda
