// The one place that decides which face pipeline a camera gets: the CPU FacePipeline for CPU
// cameras, the CUDA face pipeline (one per camera, its own stream) for cameras of a GPU worker
// when that GPU exists; a simulated GPU (FACEPIPE_SIMULATE_GPUS) runs the CPU pipeline. Cameras of a
// batched GPU worker (gpu_batcher.h) share one pipeline instead and do not come here.
#pragma once

#include <memory>
#include <span>

#include "common/status.h"
#include "face/pipeline/face_pipeline.h"
#include "face/types.h"
#include "kernels/image_view.h"
#include "runtime/config.h"

namespace facepipe::runtime {

// A camera's face pipeline in tracking mode, whatever runs it.
class CameraPipeline {
 public:
  virtual ~CameraPipeline() = default;
  // Hot path: allocates nothing once the frame size is stable.
  virtual Status process_frame(const kernels::ImageView& image, double timestamp_s) = 0;
  virtual std::span<const face::FaceResult> faces() const = 0;
  virtual const char* device() const = 0;  // "cpu" or "cuda"
};

// The face pipeline settings of `camera` under `[gpu]` (shared by every kind of pipeline).
face::FacePipelineConfig face_pipeline_config(const CameraConfig& camera, const GpuConfig& gpu);

// The pipeline for `camera` on `device` (kCpu or a GPU index). Start-up code: throws
// facepipe::Error.
std::unique_ptr<CameraPipeline> make_face_pipeline(const CameraConfig& camera, const GpuConfig& gpu, int device);

}  // namespace facepipe::runtime
