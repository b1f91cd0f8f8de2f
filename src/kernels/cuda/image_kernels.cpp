// Host side of the GPU image kernels: transforms and crop records, computed in C++ with the same
// compiler flags as the CPU gold (kernels/image_to_tensor.cpp), so that the matrices are the same
// doubles to the last bit (nvcc's host pass would compile them without -march's FMA).
#include <cmath>

#include "kernels/cuda/image_kernels.h"

namespace facepipe::kernels::cuda {

Status validate(const DeviceImageView& image) {
  return kernels::validate(ImageView{image.data, image.width, image.height, image.row_stride, image.channels, image.order});
}

Status warp_transform_for_rect(const RotatedRect& rect, const TensorFormat& format, AffineTransform& out) {
  if (!(rect.width > 0) || !(rect.height > 0))
    return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: rectangle width and height must be > 0");
  if (format.width <= 0 || format.height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: output size must be positive");
  if (format.sampling == Sampling::kPixelCentres) {
    out = rect_to_image_transform(rect, format.width, format.height);
    return Status::ok();
  }
  // The CPU's warp_to_tensor_opencv, step for step: the forward map (rectangle corners onto output
  // corners, OpenCV coordinates) and then its inverse, so that positions land where the CPU's do.
  const double c = std::cos(static_cast<double>(rect.rotation)), s = std::sin(static_cast<double>(rect.rotation));
  const double w = rect.width, h = rect.height;
  const double x0 = rect.cx - 0.5 * c * w + 0.5 * s * h, y0 = rect.cy - 0.5 * s * w - 0.5 * c * h;
  const double sx = static_cast<double>(format.width) / w, sy = static_cast<double>(format.height) / h;
  const double f0 = c * sx, f1 = s * sx, f3 = -s * sy, f4 = c * sy;
  const double f2 = -(f0 * x0 + f1 * y0), f5 = -(f3 * x0 + f4 * y0);
  const double det = f0 * f4 - f1 * f3;
  if (!(std::fabs(det) > 0)) return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: degenerate rectangle");
  const double inv = 1.0 / det;
  out.m[0] = f4 * inv;
  out.m[1] = -f1 * inv;
  out.m[3] = -f3 * inv;
  out.m[4] = f0 * inv;
  out.m[2] = (f1 * f5 - f4 * f2) * inv;
  out.m[5] = (f3 * f2 - f0 * f5) * inv;
  return Status::ok();
}

Status make_warp_crop(const DeviceImageView& image, const RotatedRect& rect, const TensorFormat& format,
                      WarpCrop& crop) {
  FACEPIPE_RETURN_IF_ERROR(validate(image));
  AffineTransform t;
  FACEPIPE_RETURN_IF_ERROR(warp_transform_for_rect(rect, format, t));
  crop.image = image;
  for (int k = 0; k < 6; ++k) crop.m[k] = t.m[static_cast<size_t>(k)];
  return Status::ok();
}

Status letterbox_to_tensor_cuda(const DeviceImageView& image, const TensorFormat& format, float* out_device,
                                cudaStream_t stream, RotatedRect* region) {
  FACEPIPE_RETURN_IF_ERROR(validate(image));
  const RotatedRect rect = letterbox_rect(image.width, image.height, format.width, format.height);
  AffineTransform t;
  FACEPIPE_RETURN_IF_ERROR(warp_transform_for_rect(rect, format, t));
  FACEPIPE_RETURN_IF_ERROR(warp_to_tensor_cuda(image, t, format, out_device, stream));
  if (region) *region = rect;
  return Status::ok();
}

}  // namespace facepipe::kernels::cuda
