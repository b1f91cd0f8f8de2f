// Captured frame (BGR24, RGB24, NV12, YUYV in device memory) → packed 3-channel 8-bit image.
// YUV is BT.601 limited range in 8.8 fixed point (image_kernels.h states the formula; the CPU gold
// in tests/gpu/kernels_convert_cuda_test.cpp is the spec). Integer arithmetic only: the GPU and
// the gold agree exactly. Packed RGB/BGR: one thread per pixel; NV12: one thread per 2x2 block
// (one chroma pair, four pixels); YUYV: one thread per macropixel (two pixels): a 1080p frame takes
// a quarter (half) of the threads and loads each chroma sample once.
#include "kernels/cuda/image_kernels.h"

namespace facepipe::kernels::cuda {

namespace {

struct ConvertParams {
  DeviceFrameView frame;
  uint8_t* dst = nullptr;
  int64_t dst_stride = 0;
  bool dst_bgr = false;
};

__device__ __forceinline__ uint8_t clamp_u8(int v) { return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v)); }

__device__ __forceinline__ void yuv_to_rgb(int y, int u, int v, uint8_t rgb[3]) {
  const int c = y - 16, d = u - 128, e = v - 128;
  rgb[0] = clamp_u8((298 * c + 409 * e + 128) >> 8);
  rgb[1] = clamp_u8((298 * c - 100 * d - 208 * e + 128) >> 8);
  rgb[2] = clamp_u8((298 * c + 516 * d + 128) >> 8);
}

__device__ __forceinline__ void store_pixel(const ConvertParams& p, int x, int y, const uint8_t rgb[3]) {
  uint8_t* d = p.dst + y * p.dst_stride + static_cast<int64_t>(x) * 3;
  d[0] = rgb[p.dst_bgr ? 2 : 0];
  d[1] = rgb[1];
  d[2] = rgb[p.dst_bgr ? 0 : 2];
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
  uint8_t rgb[3];
  for (int y = y0; y < min(y0 + 2, f.height); ++y) {
    const uint8_t* luma = f.plane0 + y * f.stride0;
    for (int x = x0; x < min(x0 + 2, f.width); ++x) {
      yuv_to_rgb(luma[x], u, v, rgb);
      store_pixel(p, x, y, rgb);
    }
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
  uint8_t rgb[3];
  yuv_to_rgb(y0v, u, v, rgb);
  store_pixel(p, x0, y, rgb);
  if (x0 + 1 < f.width) {
    yuv_to_rgb(y1v, u, v, rgb);
    store_pixel(p, x0 + 1, y, rgb);
  }
}

// Packed RGB/BGR: one thread per pixel.
__global__ void convert_packed_kernel(const ConvertParams p) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  const DeviceFrameView& f = p.frame;
  if (x >= f.width || y >= f.height) return;
  const uint8_t* s = f.plane0 + y * f.stride0 + static_cast<int64_t>(x) * 3;
  const bool bgr = f.format == FrameFormat::kBGR24;
  const uint8_t rgb[3] = {s[bgr ? 2 : 0], s[1], s[bgr ? 0 : 2]};
  store_pixel(p, x, y, rgb);
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
