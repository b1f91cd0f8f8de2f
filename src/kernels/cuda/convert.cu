// Captured frame (BGR24, RGB24, NV12, YUYV in device memory) → packed 3-channel 8-bit image.
// YUV is BT.601 limited range in 8.8 fixed point (image_kernels.h states the formula; the CPU gold
// in tests/gpu/kernels_convert_cuda_test.cpp is the spec). Integer arithmetic only: the GPU and
// the gold agree exactly. One thread per output pixel.
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

__global__ void convert_kernel(const ConvertParams p) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  const DeviceFrameView& f = p.frame;
  if (x >= f.width || y >= f.height) return;
  uint8_t rgb[3];
  switch (f.format) {
    case FrameFormat::kBGR24:
    case FrameFormat::kRGB24: {
      const uint8_t* s = f.plane0 + y * f.stride0 + static_cast<int64_t>(x) * 3;
      const bool bgr = f.format == FrameFormat::kBGR24;
      rgb[0] = s[bgr ? 2 : 0];
      rgb[1] = s[1];
      rgb[2] = s[bgr ? 0 : 2];
      break;
    }
    case FrameFormat::kNV12: {
      const int luma = f.plane0[y * f.stride0 + x];
      const uint8_t* uv = f.plane1 + (y >> 1) * f.stride1 + static_cast<int64_t>(x >> 1) * 2;
      yuv_to_rgb(luma, uv[0], uv[1], rgb);
      break;
    }
    case FrameFormat::kYUYV: {
      const uint8_t* mp = f.plane0 + y * f.stride0 + static_cast<int64_t>(x >> 1) * 4;
      yuv_to_rgb(mp[(x & 1) * 2], mp[1], mp[3], rgb);
      break;
    }
  }
  uint8_t* d = p.dst + y * p.dst_stride + static_cast<int64_t>(x) * 3;
  d[0] = rgb[p.dst_bgr ? 2 : 0];
  d[1] = rgb[1];
  d[2] = rgb[p.dst_bgr ? 0 : 2];
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
  const dim3 grid((frame.width + 31) / 32, (frame.height + 7) / 8);
  convert_kernel<<<grid, block, 0, stream>>>(p);
  return cudaGetLastError() == cudaSuccess ? Status::ok()
                                           : Status::error(StatusCode::kDeviceError, "convert_frame_cuda: launch failed");
}

}  // namespace facepipe::kernels::cuda
