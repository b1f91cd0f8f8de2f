// Captured frame (BGR24, RGB24, NV12, YUYV in device memory) → packed 3-channel 8-bit image.
// YUV is BT.601 limited range in 8.8 fixed point (image_kernels.h states the formula; the CPU gold
// in tests/gpu/kernels_convert_cuda_test.cpp is the spec). Integer arithmetic only: the GPU and
// the gold agree exactly. Packed RGB/BGR: one thread per pixel; NV12: one thread per 2x2 block
// (one chroma pair, four pixels); YUYV: one thread per macropixel (two pixels): a 1080p frame takes
// a quarter (half) of the threads and loads each chroma sample once. The per-pixel formula is
// kernels/yuv.h's yuv_to_rgb, shared with the sampling kernels that read YUV views directly and
// with the CPU's NV12 conversions.
#include "kernels/cuda/image_kernels.h"
#include "kernels/cuda/pixel_fetch.cuh"

namespace facepipe::kernels::cuda {

namespace {

struct ConvertParams {
  DeviceFrameView frame;
  uint8_t* dst = nullptr;
  int64_t dst_stride = 0;
  bool dst_bgr = false;
};

__device__ __forceinline__ void store_pixel(const ConvertParams& p, int x, int y, const Rgb8& rgb) {
  uint8_t* d = p.dst + y * p.dst_stride + static_cast<int64_t>(x) * 3;
  d[0] = p.dst_bgr ? rgb.b : rgb.r;
  d[1] = rgb.g;
  d[2] = p.dst_bgr ? rgb.r : rgb.b;
}

// NV12: thread (bx, by) converts the pixels of chroma sample (bx, by).
__global__ void convert_nv12_kernel(const ConvertParams p) {
  const int bx = blockIdx.x * blockDim.x + threadIdx.x;
  const int by = blockIdx.y * blockDim.y + threadIdx.y;
  const DeviceFrameView& f = p.frame;
  const int x0 = 2 * bx, y0 = 2 * by;
  if (x0 >= f.width || y0 >= f.height) return;
  const uint8_t* uv = f.plane1 + by * f.stride1 + static_cast<int64_t>(bx) * 2;
  const int u = uv[0], v = uv[1];
  for (int y = y0; y < min(y0 + 2, f.height); ++y) {
    const uint8_t* luma = f.plane0 + y * f.stride0;
    for (int x = x0; x < min(x0 + 2, f.width); ++x) store_pixel(p, x, y, yuv_to_rgb(luma[x], u, v));
  }
}

// YUYV: thread (bx, y) converts macropixel bx of row y (Y0 U Y1 V).
__global__ void convert_yuyv_kernel(const ConvertParams p) {
  const int bx = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  const DeviceFrameView& f = p.frame;
  const int x0 = 2 * bx;
  if (x0 >= f.width || y >= f.height) return;
  const uint8_t* mp = f.plane0 + y * f.stride0 + static_cast<int64_t>(bx) * 4;
  const int y0v = mp[0], u = mp[1], y1v = mp[2], v = mp[3];
  store_pixel(p, x0, y, yuv_to_rgb(y0v, u, v));
  if (x0 + 1 < f.width) store_pixel(p, x0 + 1, y, yuv_to_rgb(y1v, u, v));
}

// Packed RGB/BGR: one thread per pixel.
__global__ void convert_packed_kernel(const ConvertParams p) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  const DeviceFrameView& f = p.frame;
  if (x >= f.width || y >= f.height) return;
  const uint8_t* s = f.plane0 + y * f.stride0 + static_cast<int64_t>(x) * 3;
  const bool bgr = f.format == FrameFormat::kBGR24;
  store_pixel(p, x, y, Rgb8{s[bgr ? 2 : 0], s[1], s[bgr ? 0 : 2]});
}

}  // namespace

Status convert_frame_cuda(const DeviceFrameView& frame, uint8_t* dst_device, int64_t dst_stride,
                          ChannelOrder dst_order, cudaStream_t stream) {
  if (frame.width <= 0 || frame.height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "convert_frame_cuda: width and height must be positive");
  if (frame.plane0 == nullptr || dst_device == nullptr)
    return Status::error(StatusCode::kInvalidArgument, "convert_frame_cuda: null plane or output");
  if (dst_stride < static_cast<int64_t>(frame.width) * 3)
    return Status::error(StatusCode::kInvalidArgument, "convert_frame_cuda: output stride smaller than width * 3");
  const int64_t half_width = (frame.width + 1) / 2;
  switch (frame.format) {
    case FrameFormat::kBGR24:
    case FrameFormat::kRGB24:
      if (frame.stride0 < static_cast<int64_t>(frame.width) * 3)
        return Status::error(StatusCode::kInvalidArgument, "convert_frame_cuda: stride smaller than width * 3");
      break;
    case FrameFormat::kNV12:
      if (frame.plane1 == nullptr || frame.stride0 < frame.width || frame.stride1 < half_width * 2)
        return Status::error(StatusCode::kInvalidArgument, "convert_frame_cuda: NV12 needs a UV plane and strides >= width");
      break;
    case FrameFormat::kYUYV:
      if (frame.stride0 < half_width * 4)
        return Status::error(StatusCode::kInvalidArgument, "convert_frame_cuda: YUYV stride smaller than 4 * ceil(width / 2)");
      break;
    default: return Status::error(StatusCode::kUnsupported, "convert_frame_cuda: unknown frame format");
  }
  ConvertParams p{frame, dst_device, dst_stride, dst_order == ChannelOrder::kBGR};
  const dim3 block(32, 8);
  const int half_height = (frame.height + 1) / 2;
  switch (frame.format) {
    case FrameFormat::kNV12:
      convert_nv12_kernel<<<dim3((half_width + 31) / 32, (half_height + 7) / 8), block, 0, stream>>>(p);
      break;
    case FrameFormat::kYUYV:
      convert_yuyv_kernel<<<dim3((half_width + 31) / 32, (frame.height + 7) / 8), block, 0, stream>>>(p);
      break;
    default:
      convert_packed_kernel<<<dim3((frame.width + 31) / 32, (frame.height + 7) / 8), block, 0, stream>>>(p);
      break;
  }
  return cudaGetLastError() == cudaSuccess ? Status::ok()
                                           : Status::error(StatusCode::kDeviceError, "convert_frame_cuda: launch failed");
}

}  // namespace facepipe::kernels::cuda
