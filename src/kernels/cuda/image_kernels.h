// GPU versions of the image kernels (CPU gold: kernels/image_to_tensor.h, kernels/resize.h), plus
// the frame-format conversion and the preview downscale that only the GPU path needs.
//
// Every function takes device pointers and an explicit stream, allocates nothing, launches
// asynchronously and returns a Status (argument errors and launch failures; errors of the kernel
// itself surface at the next synchronization). docs/kernels.md has the design note.
#pragma once

#include <cuda_runtime.h>

#include <array>
#include <cstdint>
#include <type_traits>

#include "common/status.h"
#include "kernels/image_to_tensor.h"
#include "kernels/image_view.h"
#include "kernels/resize.h"

namespace facepipe::kernels::cuda {

// How a DeviceImageView's bytes encode its pixels.
enum class PixelFormat : uint8_t {
  kPacked,  // interleaved 3 or 4 channels, `channels` and `order` say which
  kNV12,    // `data`: Y plane; `plane1`: interleaved U, V at half resolution (ceil(w/2) x ceil(h/2) pairs)
  kYUYV,    // `data`: Y0 U Y1 V per two pixels (ceil(w/2) macropixels per row)
};

// An 8-bit image in device memory: packed RGB/BGR(A) (the same fields as ImageView, a distinct
// type so that a host pointer is never handed to a kernel by mistake), or a captured YUV frame that
// the sampling kernels read as it is. Every sampling kernel (warps, letterbox, planar resize,
// preview) fetches pixels through one device function (pixel_fetch.cuh) that converts a YUV pixel
// with convert_frame_cuda's formula and chroma siting, so sampling a YUV view gives bit for bit what
// converting the frame and sampling the packed result gives, without converting the pixels nobody
// reads. Trivially copyable: WarpCrop records holding it go to the device as plain bytes.
struct DeviceImageView {
  const uint8_t* data = nullptr;  // packed pixels, or NV12's Y plane, or the YUYV macropixels
  int width = 0;
  int height = 0;
  int64_t row_stride = 0;  // bytes of a row of `data` (>= width * channels; NV12 >= width; YUYV >= 4 * ceil(w/2))
  int channels = 3;        // kPacked: 3 or 4 (the fourth is ignored); YUV: 3 (unused)
  ChannelOrder order = ChannelOrder::kRGB;  // kPacked only: YUV pixels are fetched as R, G, B
  PixelFormat format = PixelFormat::kPacked;  // one per view: the fetch's branch is uniform per launch / crop
  const uint8_t* plane1 = nullptr;  // NV12: the UV plane (null otherwise)
  int64_t plane1_stride = 0;        // NV12: bytes of a UV row (>= 2 * ceil(w/2))

  static DeviceImageView packed(const uint8_t* data, int width, int height, int channels = 3,
                                ChannelOrder order = ChannelOrder::kRGB) {
    return DeviceImageView{data, width, height, static_cast<int64_t>(width) * channels, channels, order,
                           PixelFormat::kPacked, nullptr, 0};
  }
  static DeviceImageView nv12(const uint8_t* y, int64_t y_stride, const uint8_t* uv, int64_t uv_stride, int width,
                              int height) {
    return DeviceImageView{y, width, height, y_stride, 3, ChannelOrder::kRGB, PixelFormat::kNV12, uv, uv_stride};
  }
  static DeviceImageView yuyv(const uint8_t* data, int64_t stride, int width, int height) {
    return DeviceImageView{data, width, height, stride, 3, ChannelOrder::kRGB, PixelFormat::kYUYV, nullptr, 0};
  }
};

// Fields checked per format: non-null planes, positive size, strides that hold a row (above),
// 3 or 4 channels for packed views. Odd sizes are fine for every format (the last chroma sample
// of a row or column covers one pixel, as in convert_frame_cuda).
Status validate(const DeviceImageView& image);

// ---- Warps into NHWC float tensors -------------------------------------------------------------

// The output→image sampling matrix, 3x3 row-major (x, y, w) = M (ox, oy, 1): for Sampling::kOpenCv
// the projective matrix that the CPU's warp_to_tensor builds (cv::getPerspectiveTransform on the
// rectangle's corners, then the cofactor inverse: OpenCV coordinates on both sides), for
// kPixelCentres rect_to_image_transform with the row (0, 0, 1). Host code; fails on a degenerate
// rectangle.
using SamplingMatrix = std::array<double, 9>;
Status sampling_matrix_for_rect(const RotatedRect& rect, const TensorFormat& format, SamplingMatrix& out);
// An affine output→image transform as a sampling matrix (what warp_affine_to_tensor samples with).
SamplingMatrix sampling_matrix_from_affine(const AffineTransform& t);

// One crop: the CPU's warp_affine_to_tensor(image, output_to_image, format) on the GPU.
// `out_device` receives format.height * format.width * 3 floats. Bit-identical to the CPU for
// Sampling::kOpenCv, within 1e-5 for kPixelCentres. A YUV `image` gives exactly what the same call
// gives on convert_frame_cuda's packed image of it (this holds for every sampling entry point).
Status warp_to_tensor_cuda(const DeviceImageView& image, const AffineTransform& output_to_image,
                           const TensorFormat& format, float* out_device, cudaStream_t stream);
// The CPU's warp_to_tensor(image, rect, format) on the GPU (sampling_matrix_for_rect, then the warp).
Status warp_rect_to_tensor_cuda(const DeviceImageView& image, const RotatedRect& rect, const TensorFormat& format,
                                float* out_device, cudaStream_t stream);

// One crop of a batched warp: its source image and its sampling matrix.
struct WarpCrop {
  DeviceImageView image;
  double m[9];  // SamplingMatrix
};
static_assert(std::is_trivially_copyable_v<WarpCrop>, "WarpCrop records are staged to the device as plain bytes");

// Fills `crop` from a device image view and a rectangle (sampling_matrix_for_rect). Host code.
Status make_warp_crop(const DeviceImageView& image, const RotatedRect& rect, const TensorFormat& format,
                      WarpCrop& crop);

// One crop record, passed by value (no device copy of the record needed).
Status warp_crop_to_tensor_cuda(const WarpCrop& crop, const TensorFormat& format, float* out_device,
                                cudaStream_t stream);

// N crops, possibly from different images of different pixel formats, into one [N, H, W, 3]
// tensor in one launch.
// `crops_device` points at `count` WarpCrop records in device memory (the caller stages them, e.g.
// from a pinned buffer with cudaMemcpyAsync on the same stream). Crop k lands at
// out_device + k * H * W * 3. Image fields are not validated on the device: make_warp_crop does.
Status warp_batch_to_tensor_cuda(const WarpCrop* crops_device, int count, const TensorFormat& format,
                                 float* out_device, cudaStream_t stream);

// BlazeFace's input from a whole frame: the CPU's BlazeFace::preprocess (letterbox_rect + warp),
// format usually tensor_format_signed_range(w, h, kZero) with the detector's sampling. `region`
// (optional) receives the letterbox rectangle, for mapping detections back.
Status letterbox_to_tensor_cuda(const DeviceImageView& image, const TensorFormat& format, float* out_device,
                                cudaStream_t stream, RotatedRect* region = nullptr);

// ---- Planar resize (RetinaFace) ----------------------------------------------------------------

// resize_to_planar_tensor on the GPU, ResizeFilter::kBilinear only (kUnsupported otherwise).
Status resize_to_planar_tensor_cuda(const DeviceImageView& image, const PlanarTensorFormat& format,
                                    float* out_device, cudaStream_t stream);

// ---- Host frame formats → packed 8-bit image -----------------------------------------------------

enum class FrameFormat : uint8_t {
  kBGR24,  // packed B, G, R
  kRGB24,  // packed R, G, B
  kNV12,   // Y plane, then interleaved U, V at half resolution (ceil(w/2) x ceil(h/2) pairs)
  kYUYV,   // Y0 U Y1 V per two pixels (ceil(w/2) macropixels per row)
};

// A captured frame in device memory. plane0: the packed pixels or the Y plane; plane1: NV12's UV
// plane (unused otherwise). Strides in bytes.
struct DeviceFrameView {
  FrameFormat format = FrameFormat::kBGR24;
  int width = 0, height = 0;
  const uint8_t* plane0 = nullptr;
  int64_t stride0 = 0;
  const uint8_t* plane1 = nullptr;
  int64_t stride1 = 0;
};

// The frame as an image view the sampling kernels read directly (no conversion): BGR24/RGB24 as a
// packed 3-channel view in their order, NV12/YUYV as YUV views over the same planes. Host code; the
// result is checked by validate() where it is used.
DeviceImageView image_view_of(const DeviceFrameView& frame);

// Converts `frame` into a packed 3-channel image (dst_stride bytes per row, dst_order). YUV is
// BT.601 limited range in 8.8 fixed point (the spec is the CPU gold in
// tests/gpu/kernels_convert_cuda_test.cpp):
//   c = Y - 16, d = U - 128, e = V - 128
//   R = clamp((298 c + 409 e + 128) >> 8), G = clamp((298 c - 100 d - 208 e + 128) >> 8),
//   B = clamp((298 c + 516 d + 128) >> 8)
// A pixel takes the chroma of its 2x2 (NV12) or 2x1 (YUYV) block: no chroma interpolation.
// The sampling kernels apply the same per-pixel conversion (pixel_fetch.cuh) to YUV views: only
// what must stay packed (e.g. a frame handed to another consumer as BGR) needs this full conversion.
Status convert_frame_cuda(const DeviceFrameView& frame, uint8_t* dst_device, int64_t dst_stride,
                          ChannelOrder dst_order, cudaStream_t stream);

// The viewer's preview: `image` (any pixel format) scaled to out_width x out_height (960x540 for the preview) as
// packed BGR8. Bilinear with half-pixel centres, float weights, rounded to nearest; for an exact
// 2x shrink (1080p → 540p) that is the 2x2 box average (area). Larger shrinks alias: callers that
// need 4K → 540p should convert at half size first.
Status preview_downscale_cuda(const DeviceImageView& image, int out_width, int out_height, uint8_t* dst_device,
                              int64_t dst_stride, cudaStream_t stream);

}  // namespace facepipe::kernels::cuda
