// Axis-aligned resizes on the GPU: RetinaFace's planar input (CPU gold: resize_to_planar_tensor,
// ResizeFilter::kBilinear) and the 960x540 BGR8 preview. One thread per output pixel. Taps are
// read through fetch_rgb (pixel_fetch.cuh): an NV12/YUYV view is sampled as it is, converting only
// the taps, bit-identical to resizing the frame convert_frame_cuda would make.
#include "kernels/cuda/image_kernels.h"
#include "kernels/cuda/pixel_fetch.cuh"

namespace facepipe::kernels::cuda {

namespace {

struct PlanarParams {
  DeviceImageView image;
  float* out = nullptr;
  int width = 0, height = 0, content_width = 0, content_height = 0;
  double x_ratio = 1, y_ratio = 1;
  ChannelOrder order = ChannelOrder::kRGB;  // of the planes
  float mean[3] = {0, 0, 0}, scale[3] = {1, 1, 1};
  float pad_value = 0;
};

__global__ void planar_resize_kernel(const PlanarParams p) {
  const int ox = blockIdx.x * blockDim.x + threadIdx.x;
  const int oy = blockIdx.y * blockDim.y + threadIdx.y;
  if (ox >= p.width || oy >= p.height) return;
  const int64_t plane = static_cast<int64_t>(p.width) * p.height;
  float* d = p.out + static_cast<int64_t>(oy) * p.width + ox;
  if (ox >= p.content_width || oy >= p.content_height) {
    d[0] = d[plane] = d[2 * plane] = p.pad_value;
    return;
  }
  const DeviceImageView& img = p.image;
  // Rows: the CPU's bilinear_taps (a single tap when both neighbours clamp to the same row).
  const double sy = (oy + 0.5) * p.y_ratio - 0.5;
  const double fyi = floor(sy);
  const float fy = static_cast<float>(sy - fyi);
  const int yi = static_cast<int>(fyi);
  const int ya = min(max(yi, 0), img.height - 1), yb = min(max(yi + 1, 0), img.height - 1);
  const float wy1 = ya == yb ? 0.f : fy, wy0 = 1.f - wy1;
  // Columns: two taps, both clamped.
  const double sx = (ox + 0.5) * p.x_ratio - 0.5;
  const double fxi = floor(sx);
  const float fx = static_cast<float>(sx - fxi);
  const int xi = static_cast<int>(fxi);
  const int last = img.width - 1;
  const int xa = min(max(xi, 0), last), xb = min(max(xi + 1, 0), last);
  const Rgb8 p00 = fetch_rgb(img, xa, ya), p01 = fetch_rgb(img, xb, ya);
  const Rgb8 p10 = fetch_rgb(img, xa, yb), p11 = fetch_rgb(img, xb, yb);
  const float w00 = (1.f - fx) * wy0, w01 = fx * wy0, w10 = (1.f - fx) * wy1, w11 = fx * wy1;
  for (int k = 0; k < 3; ++k) {
    const ChannelOrder o = p.order;
    const float a = w00 * channel(p00, o, k) + w01 * channel(p01, o, k) + w10 * channel(p10, o, k) +
                    w11 * channel(p11, o, k);
    d[k * plane] = (a - p.mean[k]) * p.scale[k];
  }
}

struct PreviewParams {
  DeviceImageView image;
  uint8_t* dst = nullptr;
  int64_t dst_stride = 0;
  int out_width = 0, out_height = 0;
  float x_ratio = 1, y_ratio = 1;
};

__global__ void preview_kernel(const PreviewParams p) {
  const int ox = blockIdx.x * blockDim.x + threadIdx.x;
  const int oy = blockIdx.y * blockDim.y + threadIdx.y;
  if (ox >= p.out_width || oy >= p.out_height) return;
  const DeviceImageView& img = p.image;
  const float sx = (ox + 0.5f) * p.x_ratio - 0.5f, sy = (oy + 0.5f) * p.y_ratio - 0.5f;
  const float fxi = floorf(sx), fyi = floorf(sy);
  const float fx = sx - fxi, fy = sy - fyi;
  const int xi = static_cast<int>(fxi), yi = static_cast<int>(fyi);
  const int xa = min(max(xi, 0), img.width - 1), xb = min(max(xi + 1, 0), img.width - 1);
  const int ya = min(max(yi, 0), img.height - 1), yb = min(max(yi + 1, 0), img.height - 1);
  const Rgb8 p00 = fetch_rgb(img, xa, ya), p01 = fetch_rgb(img, xb, ya);
  const Rgb8 p10 = fetch_rgb(img, xa, yb), p11 = fetch_rgb(img, xb, yb);
  uint8_t* d = p.dst + oy * p.dst_stride + static_cast<int64_t>(ox) * 3;
  for (int k = 0; k < 3; ++k) {  // B, G, R
    const int a = channel(p00, ChannelOrder::kBGR, k), b = channel(p01, ChannelOrder::kBGR, k);
    const int c = channel(p10, ChannelOrder::kBGR, k), e = channel(p11, ChannelOrder::kBGR, k);
    const float top = a + fx * (b - a);
    const float bottom = c + fx * (e - c);
    const float v = top + fy * (bottom - top);
    d[k] = static_cast<uint8_t>(min(max(__float2int_rn(v), 0), 255));
  }
}

Status launch_status(const char* what) {
  return cudaGetLastError() == cudaSuccess ? Status::ok() : Status::error(StatusCode::kDeviceError, what);
}

}  // namespace

Status resize_to_planar_tensor_cuda(const DeviceImageView& image, const PlanarTensorFormat& format,
                                    float* out_device, cudaStream_t stream) {
  FACEPIPE_RETURN_IF_ERROR(validate(image));
  if (out_device == nullptr) return Status::error(StatusCode::kInvalidArgument, "resize_cuda: null output");
  if (format.width <= 0 || format.height <= 0 || format.content_width <= 0 || format.content_height <= 0 ||
      format.content_width > format.width || format.content_height > format.height)
    return Status::error(StatusCode::kInvalidArgument, "resize_cuda: content size must be positive and fit the tensor");
  if (format.filter != ResizeFilter::kBilinear)
    return Status::error(StatusCode::kUnsupported, "resize_cuda: only ResizeFilter::kBilinear runs on the GPU");
  PlanarParams p;
  p.image = image;
  p.out = out_device;
  p.width = format.width;
  p.height = format.height;
  p.content_width = format.content_width;
  p.content_height = format.content_height;
  p.x_ratio = static_cast<double>(image.width) / format.content_width;
  p.y_ratio = static_cast<double>(image.height) / format.content_height;
  p.order = format.order;
  for (int k = 0; k < 3; ++k) {
    p.mean[k] = format.mean[static_cast<size_t>(k)];
    p.scale[k] = format.scale[static_cast<size_t>(k)];
  }
  p.pad_value = format.pad_value;
  const dim3 block(32, 8);
  const dim3 grid((format.width + 31) / 32, (format.height + 7) / 8);
  planar_resize_kernel<<<grid, block, 0, stream>>>(p);
  return launch_status("resize_to_planar_tensor_cuda: launch failed");
}

Status preview_downscale_cuda(const DeviceImageView& image, int out_width, int out_height, uint8_t* dst_device,
                              int64_t dst_stride, cudaStream_t stream) {
  FACEPIPE_RETURN_IF_ERROR(validate(image));
  if (dst_device == nullptr) return Status::error(StatusCode::kInvalidArgument, "preview_cuda: null output");
  if (out_width <= 0 || out_height <= 0 || dst_stride < static_cast<int64_t>(out_width) * 3)
    return Status::error(StatusCode::kInvalidArgument, "preview_cuda: bad output size or stride");
  PreviewParams p;
  p.image = image;
  p.dst = dst_device;
  p.dst_stride = dst_stride;
  p.out_width = out_width;
  p.out_height = out_height;
  p.x_ratio = static_cast<float>(image.width) / static_cast<float>(out_width);
  p.y_ratio = static_cast<float>(image.height) / static_cast<float>(out_height);
  const dim3 block(32, 8);
  const dim3 grid((out_width + 31) / 32, (out_height + 7) / 8);
  preview_kernel<<<grid, block, 0, stream>>>(p);
  return launch_status("preview_downscale_cuda: launch failed");
}

}  // namespace facepipe::kernels::cuda
