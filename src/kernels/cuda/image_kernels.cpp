// Host side of the GPU image kernels: sampling matrices and crop records. This is C++ compiled with
// the same flags as the CPU gold (kernels/image_to_tensor.cpp, same target), not nvcc's host pass
// (which gets no -march, hence no FMA): the matrices must be the CPU's doubles to the last bit.
#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/cuda/image_kernels.h"

namespace facepipe::kernels::cuda {

namespace {

// A copy of image_to_tensor.cpp's opencv_sampling_matrix (file-local there), kept statement for
// statement identical so that the compiler makes the same operations of it: MediaPipe's corners
// (cv::RotatedRect::points, float), cv::getPerspectiveTransform (8x8 Gaussian elimination with
// partial pivoting), then warpPerspective's cofactor inverse. If the CPU version changes, change
// this one too: the GPU tests' bit-exact kOpenCv cases fail otherwise.
// TODO(kernels): expose the CPU function in image_to_tensor.h and drop this copy.
SamplingMatrix opencv_sampling_matrix(const RotatedRect& rect, int out_width, int out_height) {
  const double angle = static_cast<float>(rect.rotation * 180.0 / M_PI) * M_PI / 180.0;
  const float b = static_cast<float>(std::cos(angle)) * 0.5f, a = static_cast<float>(std::sin(angle)) * 0.5f;
  const float cx = rect.cx, cy = rect.cy, w = rect.width, h = rect.height;
  std::array<float, 4> px{}, py{};
  px[0] = cx - a * h - b * w;
  py[0] = cy + b * h - a * w;
  px[1] = cx + a * h - b * w;
  py[1] = cy - b * h - a * w;
  px[2] = 2 * cx - px[0];
  py[2] = 2 * cy - py[0];
  px[3] = 2 * cx - px[1];
  py[3] = 2 * cy - py[1];
  const float ow = static_cast<float>(out_width), oh = static_cast<float>(out_height);
  const std::array<float, 4> qx{0, 0, ow, ow}, qy{oh, 0, 0, oh};  // bottom-left, top-left, top-right, bottom-right

  double A[8][8] = {}, B[8];
  for (int i = 0; i < 4; ++i) {
    A[i][0] = A[i + 4][3] = px[static_cast<size_t>(i)];
    A[i][1] = A[i + 4][4] = py[static_cast<size_t>(i)];
    A[i][2] = A[i + 4][5] = 1;
    A[i][6] = -static_cast<double>(px[static_cast<size_t>(i)]) * qx[static_cast<size_t>(i)];
    A[i][7] = -static_cast<double>(py[static_cast<size_t>(i)]) * qx[static_cast<size_t>(i)];
    A[i + 4][6] = -static_cast<double>(px[static_cast<size_t>(i)]) * qy[static_cast<size_t>(i)];
    A[i + 4][7] = -static_cast<double>(py[static_cast<size_t>(i)]) * qy[static_cast<size_t>(i)];
    B[i] = qx[static_cast<size_t>(i)];
    B[i + 4] = qy[static_cast<size_t>(i)];
  }
  for (int i = 0; i < 8; ++i) {
    int pivot = i;
    for (int j = i + 1; j < 8; ++j)
      if (std::fabs(A[j][i]) > std::fabs(A[pivot][i])) pivot = j;
    if (pivot != i) {
      for (int j = i; j < 8; ++j) std::swap(A[i][j], A[pivot][j]);
      std::swap(B[i], B[pivot]);
    }
    const double d = -1 / A[i][i];
    for (int j = i + 1; j < 8; ++j) {
      const double alpha = A[j][i] * d;
      for (int k = i + 1; k < 8; ++k) A[j][k] += alpha * A[i][k];
      B[j] += alpha * B[i];
    }
  }
  for (int i = 7; i >= 0; --i) {
    double sum = B[i];
    for (int k = i + 1; k < 8; ++k) sum -= A[i][k] * B[k];
    B[i] = sum / A[i][i];
  }
  const double M[9] = {B[0], B[1], B[2], B[3], B[4], B[5], B[6], B[7], 1.0};
  const double det = M[0] * (M[4] * M[8] - M[5] * M[7]) - M[1] * (M[3] * M[8] - M[5] * M[6]) +
                     M[2] * (M[3] * M[7] - M[4] * M[6]);
  const double inv = 1.0 / det;
  return {(M[4] * M[8] - M[5] * M[7]) * inv, (M[2] * M[7] - M[1] * M[8]) * inv, (M[1] * M[5] - M[2] * M[4]) * inv,
          (M[5] * M[6] - M[3] * M[8]) * inv, (M[0] * M[8] - M[2] * M[6]) * inv, (M[2] * M[3] - M[0] * M[5]) * inv,
          (M[3] * M[7] - M[4] * M[6]) * inv, (M[1] * M[6] - M[0] * M[7]) * inv, (M[0] * M[4] - M[1] * M[3]) * inv};
}

}  // namespace

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
