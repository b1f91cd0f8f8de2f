// The one place that decides which face pipeline a camera gets, so that GPU workers can switch to
// the CUDA face pipeline (in progress elsewhere) by changing this function alone.
#pragma once

#include <memory>

#include "face/pipeline/face_pipeline.h"
#include "runtime/config.h"

namespace facepipe::runtime {

// The pipeline for `camera` on `device` (kCpu or a GPU index). Start-up code: throws
// facepipe::Error. For now every device gets the CPU FacePipeline with one thread (cameras run in
// parallel on the cores); `device` only labels the worker.
std::unique_ptr<face::FacePipeline> make_face_pipeline(const CameraConfig& camera, const GpuConfig& gpu, int device);

}  // namespace facepipe::runtime
