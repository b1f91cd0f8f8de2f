// Host side of the GPU image kernels: sampling matrices and crop records. This is C++ compiled with
// the same flags as the CPU gold (kernels/image_to_tensor.cpp, same target), not nvcc's host pass
// (which gets no -march, hence no FMA): the matrices must be the CPU's doubles to the last bit.
#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/cuda/image_kernels.h"

namespace facepipe::kernels::cuda {

Status validate(const DeviceImageView& image) {
  return kernels::validate(ImageView{image.data, image.width, image.height, image.row_stride, image.channels, image.order});
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
