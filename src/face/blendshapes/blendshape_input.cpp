#include "face/blendshapes/blendshape_input.h"

namespace facepipe::face {

static_assert(kBlendshapeNames.back() == "noseSneerRight");
static_assert(blendshape_index("eyeBlinkLeft") == 9 && blendshape_index("jawOpen") == 25);

Status build_blendshape_input(std::span<const Landmark> landmarks, std::span<float> input) {
  if (landmarks.size() < static_cast<size_t>(kNumLandmarks))
    return Status::error(StatusCode::kInvalidArgument, "blendshape input: needs the 478-point mesh (with iris)");
  if (input.size() < static_cast<size_t>(kBlendshapeInputSize))
    return Status::error(StatusCode::kInvalidArgument, "blendshape input: buffer smaller than 146 x 2");
  for (int i = 0; i < kNumBlendshapeInputLandmarks; ++i) {
    const Landmark& p = landmarks[kBlendshapeLandmarkSubset[i]];
    input[2 * i] = p.x;
    input[2 * i + 1] = p.y;
  }
  return Status::ok();
}

Status build_blendshape_input_normalized(std::span<const float> xyz, int image_width, int image_height,
                                         std::span<float> input) {
  if (xyz.size() < static_cast<size_t>(3 * kNumLandmarks))
    return Status::error(StatusCode::kInvalidArgument, "blendshape input: needs the 478-point mesh (with iris)");
  if (input.size() < static_cast<size_t>(kBlendshapeInputSize))
    return Status::error(StatusCode::kInvalidArgument, "blendshape input: buffer smaller than 146 x 2");
  if (image_width <= 0 || image_height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "blendshape input: image size must be positive");
  const float w = static_cast<float>(image_width), h = static_cast<float>(image_height);
  for (int i = 0; i < kNumBlendshapeInputLandmarks; ++i) {
    const int k = kBlendshapeLandmarkSubset[i];
    input[2 * i] = xyz[3 * k] * w;
    input[2 * i + 1] = xyz[3 * k + 1] * h;
  }
  return Status::ok();
}

}  // namespace facepipe::face
