// Host side of the GPU image kernels: sampling matrices and crop records. This is C++ compiled with
// the same flags as the CPU gold (kernels/image_to_tensor.cpp, same target), not nvcc's host pass
// (which gets no -march, hence no FMA): the matrices must be the CPU's doubles to the last bit.
#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/cuda/image_kernels.h"

namespace facepipe::kernels::cuda {

Status validate(const DeviceImageView& image) {
  if (image.format == PixelFormat::kPacked)
    return kernels::validate(ImageView{image.data, image.width, image.height, image.row_stride, image.channels, image.order});
  if (image.data == nullptr) return Status::error(StatusCode::kInvalidArgument, "image: null data");
  if (image.width <= 0 || image.height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "image: width and height must be positive");
  // The fetch reads chroma pair / macropixel x/2 of every row: a row must hold ceil(w/2) of them.
  const int64_t half_width = (static_cast<int64_t>(image.width) + 1) / 2;
  switch (image.format) {
    case PixelFormat::kNV12:
      if (image.plane1 == nullptr) return Status::error(StatusCode::kInvalidArgument, "image: NV12 without a UV plane");
      if (image.row_stride < image.width)
        return Status::error(StatusCode::kInvalidArgument, "image: NV12 Y stride smaller than width");
      if (image.plane1_stride < half_width * 2)
        return Status::error(StatusCode::kInvalidArgument, "image: NV12 UV stride smaller than 2 * ceil(width / 2)");
      return Status::ok();
    case PixelFormat::kYUYV:
      if (image.row_stride < half_width * 4)
        return Status::error(StatusCode::kInvalidArgument, "image: YUYV stride smaller than 4 * ceil(width / 2)");
      return Status::ok();
    default: return Status::error(StatusCode::kUnsupported, "image: unknown pixel format");
  }
}

DeviceImageView image_view_of(const DeviceFrameView& frame) {
  switch (frame.format) {
    case FrameFormat::kNV12:
      return DeviceImageView::nv12(frame.plane0, frame.stride0, frame.plane1, frame.stride1, frame.width, frame.height);
    case FrameFormat::kYUYV: return DeviceImageView::yuyv(frame.plane0, frame.stride0, frame.width, frame.height);
    default: {
      DeviceImageView v = DeviceImageView::packed(frame.plane0, frame.width, frame.height, 3,
                                                  frame.format == FrameFormat::kBGR24 ? ChannelOrder::kBGR
                                                                                      : ChannelOrder::kRGB);
      v.row_stride = frame.stride0;
      return v;
    }
  }
}

SamplingMatrix sampling_matrix_from_affine(const AffineTransform& t) {
  const auto& a = t.m;
  return {a[0], a[1], a[2], a[3], a[4], a[5], 0.0, 0.0, 1.0};
}

Status sampling_matrix_for_rect(const RotatedRect& rect, const TensorFormat& format, SamplingMatrix& out) {
  if (!(rect.width > 0) || !(rect.height > 0))
    return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: rectangle width and height must be > 0");
  if (format.width <= 0 || format.height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: output size must be positive");
  if (format.sampling == Sampling::kPixelCentres) {
    out = sampling_matrix_from_affine(rect_to_image_transform(rect, format.width, format.height));
    return Status::ok();
  }
  out = opencv_sampling_matrix(rect, format.width, format.height);
  for (double v : out)
    if (!std::isfinite(v)) return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: degenerate rectangle");
  return Status::ok();
}

Status make_warp_crop(const DeviceImageView& image, const RotatedRect& rect, const TensorFormat& format,
                      WarpCrop& crop) {
  FACEPIPE_RETURN_IF_ERROR(validate(image));
  SamplingMatrix m;
  FACEPIPE_RETURN_IF_ERROR(sampling_matrix_for_rect(rect, format, m));
  crop.image = image;
  std::copy(m.begin(), m.end(), crop.m);
  return Status::ok();
}

Status warp_rect_to_tensor_cuda(const DeviceImageView& image, const RotatedRect& rect, const TensorFormat& format,
                                float* out_device, cudaStream_t stream) {
  WarpCrop crop;
  FACEPIPE_RETURN_IF_ERROR(make_warp_crop(image, rect, format, crop));
  return warp_crop_to_tensor_cuda(crop, format, out_device, stream);
}

Status warp_to_tensor_cuda(const DeviceImageView& image, const AffineTransform& output_to_image,
                           const TensorFormat& format, float* out_device, cudaStream_t stream) {
  FACEPIPE_RETURN_IF_ERROR(validate(image));
  for (double v : output_to_image.m)
    if (!std::isfinite(v)) return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor_cuda: non-finite transform");
  WarpCrop crop;
  crop.image = image;
  const SamplingMatrix m = sampling_matrix_from_affine(output_to_image);
  std::copy(m.begin(), m.end(), crop.m);
  return warp_crop_to_tensor_cuda(crop, format, out_device, stream);
}

Status letterbox_to_tensor_cuda(const DeviceImageView& image, const TensorFormat& format, float* out_device,
                                cudaStream_t stream, RotatedRect* region) {
  FACEPIPE_RETURN_IF_ERROR(validate(image));
  if (format.width <= 0 || format.height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "letterbox_to_tensor_cuda: output size must be positive");
  const RotatedRect rect = letterbox_rect(image.width, image.height, format.width, format.height);
  FACEPIPE_RETURN_IF_ERROR(warp_rect_to_tensor_cuda(image, rect, format, out_device, stream));
  if (region) *region = rect;
  return Status::ok();
}

}  // namespace facepipe::kernels::cuda
