// Axis-aligned resize of a whole image into a planar (NCHW) float tensor with per-channel mean
// subtraction: RetinaFace's input (BGR minus (104, 117, 123), no scaling).
//
// The image is resized to content_width x content_height and placed at the tensor's top-left
// corner; the rest of the tensor (when the tensor is larger, e.g. a fixed 640x640 model input) is
// filled with `pad_value` (0 = the mean colour after subtraction). Mapping a point back to the image
// is then a pure per-axis scale: x_image = x_tensor * image_width / content_width.
#pragma once

#include <array>

#include "common/status.h"
#include "kernels/image_view.h"

namespace facepipe {
class ThreadPool;
}

namespace facepipe::kernels {

enum class ResizeFilter : uint8_t {
  // Bilinear between the four nearest pixel centres (half-pixel mapping, clamped at the edges):
  // OpenCV's INTER_LINEAR. Aliases when shrinking by more than 2x.
  kBilinear,
  // Triangle filter whose support grows with the shrink factor (area-weighted when shrinking,
  // bilinear when enlarging): PIL's Image.resize(BILINEAR). Slower, no aliasing.
  kAntialiasBilinear,
};

struct PlanarTensorFormat {
  int width = 0, height = 0;                  // tensor size (batch 1, 3 planes)
  int content_width = 0, content_height = 0;  // size of the resized image inside it (<= width, height)
  ChannelOrder order = ChannelOrder::kBGR;    // plane order
  std::array<float, 3> mean{104.0f, 117.0f, 123.0f};  // per plane (in `order`), subtracted from v
  std::array<float, 3> scale{1.0f, 1.0f, 1.0f};       // per plane, applied after the mean
  float pad_value = 0.0f;
  ResizeFilter filter = ResizeFilter::kBilinear;
};

// Writes 3 * height * width floats to `out`. Allocates nothing; rows are split over `pool`.
// kAntialiasBilinear supports shrink factors up to 30 per axis.
Status resize_to_planar_tensor(const ImageView& image, const PlanarTensorFormat& format, float* out,
                               ThreadPool* pool = nullptr);

}  // namespace facepipe::kernels
