// Draws face results onto an image: landmark points, the box, the id and the head-pose axes.
#pragma once

#include <span>

#include "face/types.h"
#include "media/image.h"

namespace facepipe::cli {

void draw_face_overlay(media::ImageView image, std::span<const face::FaceResult> faces);

}  // namespace facepipe::cli
