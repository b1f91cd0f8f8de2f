// Image → float tensor kernels for the MediaPipe networks (CPU gold versions).
//
//  * warp_to_tensor: the pixels inside a rotated rectangle of the image, resampled (bilinear) into
//    an out_width x out_height NHWC float tensor and normalized `v * scale + offset`. This is
//    MediaPipe's ImageToTensorCalculator: the landmark network's crop (rotated ROI, replicate border,
//    [0, 1]) and BlazeFace's letterboxed input (whole image padded to a square, zero border, [-1, 1]).
//  * letterbox_rect: MediaPipe's PadRoi with keep_aspect_ratio: the rectangle that a letterboxed
//    detector input covers, for a given image size.
//
// Geometry conventions (docs/face_detection.md has the derivation):
//  * Continuous pixel coordinates: pixel (i, j) covers [i, i+1) x [j, j+1); its centre is (i+0.5, j+0.5).
//  * A RotatedRect is centred at (cx, cy) in those coordinates; its own x axis points along
//    (cos r, sin r) in the image (y down), i.e. a positive rotation turns the rectangle clockwise as
//    seen on screen. This is MediaPipe's NormalizedRect.rotation (GetRotatedSubRectToRectTransformMatrix).
//  * Output pixel (ox, oy) samples the image at the point where its centre lands: output pixel centres
//    are spread evenly over the rectangle ("half-pixel" mapping), then the image is sampled bilinearly
//    between the centres of the four nearest pixels.
//  * Border kZero: a sample point outside [0, W) x [0, H) reads the value 0 (before normalization);
//    inside, the bilinear neighbours are clamped to the image. kReplicate: always clamp.
// These reproduce the reference tensors of shared/reference/mediapipe/raw byte for byte up to float
// rounding. (MediaPipe's OpenCV path maps rectangle corners to output corners instead of centres: a
// shift of half an output pixel, see the design note.)
#pragma once

#include <array>
#include <cstdint>

#include "common/status.h"
#include "kernels/image_view.h"

namespace facepipe {
class ThreadPool;
}

namespace facepipe::kernels {

struct RotatedRect {
  float cx = 0, cy = 0;          // centre, image pixels (continuous coordinates)
  float width = 0, height = 0;   // pixels
  float rotation = 0;            // radians, MediaPipe's convention (positive = clockwise on screen)
};

// x_in = m[0] * x_out + m[1] * y_out + m[2];  y_in = m[3] * x_out + m[4] * y_out + m[5]
// with continuous coordinates on both sides (output pixel centre = (ox + 0.5, oy + 0.5)).
struct AffineTransform {
  std::array<double, 6> m{1, 0, 0, 0, 1, 0};

  void apply(double x, double y, double& x_out, double& y_out) const {
    x_out = m[0] * x + m[1] * y + m[2];
    y_out = m[3] * x + m[4] * y + m[5];
  }
  AffineTransform inverse() const;
};

// The transform from output-tensor coordinates (0..out_width, 0..out_height) to image coordinates
// that maps the output rectangle onto `rect`.
AffineTransform rect_to_image_transform(const RotatedRect& rect, int out_width, int out_height);

enum class BorderMode : uint8_t { kZero, kReplicate };

// Where output pixels sample the image.
//  * kPixelCentres: output pixel centres spread evenly over the rectangle, float bilinear result
//    (GPU texture sampling; what shared/reference/mediapipe/raw's input tensors were made with).
//  * kOpenCv: MediaPipe's CPU ImageToTensor (cv::warpPerspective, INTER_LINEAR): the rectangle's
//    corners map to the output's corners in OpenCV's integer-centred pixel coordinates (half an
//    output pixel, in image units, away from kPixelCentres), the matrix is computed as OpenCV
//    computes it, sample positions are quantized to 1/32 pixel, weights are 15-bit integers and the
//    interpolated value is rounded to 8 bits before normalization. The face pipeline uses this: it
//    reproduces MediaPipe's landmarks to 0.001-0.03% of the inter-ocular distance.
enum class Sampling : uint8_t { kPixelCentres, kOpenCv };

struct TensorFormat {
  int width = 0, height = 0;  // output tensor size (NHWC, batch 1, 3 channels)
  float scale = 1.0f / 255.0f;  // out = v * scale + offset, v in [0, 255]
  float offset = 0.0f;
  ChannelOrder order = ChannelOrder::kRGB;  // channel order of the output
  BorderMode border = BorderMode::kReplicate;
  Sampling sampling = Sampling::kPixelCentres;
};

// MediaPipe's float ranges: (0 - mean) / std .. (255 - mean) / std, i.e. scale and offset.
inline TensorFormat tensor_format_unit_range(int w, int h, BorderMode border) {  // [0, 1]
  return TensorFormat{w, h, 1.0f / 255.0f, 0.0f, ChannelOrder::kRGB, border};
}
inline TensorFormat tensor_format_signed_range(int w, int h, BorderMode border) {  // [-1, 1]
  return TensorFormat{w, h, 2.0f / 255.0f, -1.0f, ChannelOrder::kRGB, border};
}

// Resamples `rect` of `image` into `out` (format.height * format.width * 3 floats, NHWC).
// Allocates nothing; rows are split over `pool` when given.
Status warp_to_tensor(const ImageView& image, const RotatedRect& rect, const TensorFormat& format,
                      float* out, ThreadPool* pool = nullptr);

// Same with an explicit output→image transform. With Sampling::kOpenCv the transform maps OpenCV
// coordinates (integer pixel indices of the output to integer-centred image coordinates) instead of
// continuous ones.
Status warp_affine_to_tensor(const ImageView& image, const AffineTransform& output_to_image,
                             const TensorFormat& format, float* out, ThreadPool* pool = nullptr);

// Sampling::kOpenCv's output -> image map (3x3, row-major, OpenCV integer-centred coordinates on
// both sides), built as MediaPipe's OpenCV converter builds it: the rectangle's corners in float
// (cv::RotatedRect::points), cv::getPerspectiveTransform's 8x8 Gaussian elimination with partial
// pivoting, then the 3x3 inverse from cofactors. The CPU and CUDA warps both use it, so their
// sample positions agree to the last bit.
std::array<double, 9> opencv_sampling_matrix(const RotatedRect& rect, int out_width, int out_height);

// MediaPipe's PadRoi(keep_aspect_ratio=true) applied to the whole image: the rectangle, centred on
// the image, with the tensor's aspect ratio, that just contains the image. For a 1024x956 image and
// a square tensor: centre (512, 478), 1024 x 1024.
RotatedRect letterbox_rect(int image_width, int image_height, int tensor_width, int tensor_height);

// Same for a sub-rectangle of the image (PadRoi on an arbitrary ROI, rotation kept).
RotatedRect pad_rect_to_aspect(const RotatedRect& rect, int tensor_width, int tensor_height);

}  // namespace facepipe::kernels
