// Input of the blendshape network (face_blendshapes.tflite) and the names of its 52 outputs.
// The 146-landmark subset and the name order are MediaPipe's (kLandmarksSubsetIdxs and
// kBlendshapeNames in mediapipe/tasks/cc/vision/face_landmarker/face_blendshapes_graph.cc); the
// network reads the subset as (x, y) in image pixels: [1, 146, 2] float32.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.h"
#include "face/types.h"

namespace facepipe::face {

constexpr int kNumBlendshapeInputLandmarks = 146;
constexpr int kBlendshapeInputSize = kNumBlendshapeInputLandmarks * 2;  // floats in [1, 146, 2]

inline constexpr std::array<uint16_t, kNumBlendshapeInputLandmarks> kBlendshapeLandmarkSubset = {
    0,   1,   4,   5,   6,   7,   8,   10,  13,  14,  17,  21,  33,  37,  39,  40,  46,  52,  53,  54,  55,
    58,  61,  63,  65,  66,  67,  70,  78,  80,  81,  82,  84,  87,  88,  91,  93,  95,  103, 105, 107, 109,
    127, 132, 133, 136, 144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160, 161, 162, 163,
    168, 172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246, 249, 251, 263, 267, 269, 270, 276, 282, 283,
    284, 285, 288, 291, 293, 295, 296, 297, 300, 308, 310, 311, 312, 314, 317, 318, 321, 323, 324, 332, 334,
    336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380, 381, 382, 384, 385, 386, 387, 388, 389,
    390, 397, 398, 400, 402, 405, 409, 415, 454, 466, 468, 469, 470, 471, 472, 473, 474, 475, 476, 477};

// "Left"/"Right" are the subject's (ARKit's) sides. Index 0, "_neutral", carries no expression.
inline constexpr std::array<std::string_view, kNumBlendshapes> kBlendshapeNames = {
    "_neutral",         "browDownLeft",       "browDownRight",     "browInnerUp",      "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff",          "cheekSquintLeft",   "cheekSquintRight", "eyeBlinkLeft",
    "eyeBlinkRight",    "eyeLookDownLeft",    "eyeLookDownRight",  "eyeLookInLeft",    "eyeLookInRight",
    "eyeLookOutLeft",   "eyeLookOutRight",    "eyeLookUpLeft",     "eyeLookUpRight",   "eyeSquintLeft",
    "eyeSquintRight",   "eyeWideLeft",        "eyeWideRight",      "jawForward",       "jawLeft",
    "jawOpen",          "jawRight",           "mouthClose",        "mouthDimpleLeft",  "mouthDimpleRight",
    "mouthFrownLeft",   "mouthFrownRight",    "mouthFunnel",       "mouthLeft",        "mouthLowerDownLeft",
    "mouthLowerDownRight", "mouthPressLeft",  "mouthPressRight",   "mouthPucker",      "mouthRight",
    "mouthRollLower",   "mouthRollUpper",     "mouthShrugLower",   "mouthShrugUpper",  "mouthSmileLeft",
    "mouthSmileRight",  "mouthStretchLeft",   "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "noseSneerLeft",    "noseSneerRight"};

// Index of a blendshape by name, -1 if unknown.
constexpr int blendshape_index(std::string_view name) {
  for (int i = 0; i < kNumBlendshapes; ++i)
    if (kBlendshapeNames[i] == name) return i;
  return -1;
}

// Fills `input` (kBlendshapeInputSize floats, the [1,146,2] tensor) from 478 landmarks in image
// pixels (our Landmark convention). Errors: fewer than 478 landmarks or a short buffer.
Status build_blendshape_input(std::span<const Landmark> landmarks, std::span<float> input);

// Same from MediaPipe-style normalized (x, y, z) triplets: x * width, y * height, computed in float
// exactly as MediaPipe's LandmarksToTensorCalculator does.
Status build_blendshape_input_normalized(std::span<const float> xyz, int image_width, int image_height,
                                         std::span<float> input);

}  // namespace facepipe::face
