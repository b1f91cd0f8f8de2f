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
#include "media/image.h"
#include "runtime/config.h"

namespace facepipe::face::cuda {
struct HostFrame;
struct CameraFrame;
}

namespace facepipe::runtime {

// A camera's face pipeline in tracking mode, whatever runs it.
class CameraPipeline {
 public:
  virtual ~CameraPipeline() = default;
  // Hot path: allocates nothing once the frame size is stable. `frame` is a captured frame: packed
  // RGB/BGR, or NV12 when reads_nv12() (a pipeline that cannot read it returns kUnsupported).
  virtual Status process_frame(const media::Image& frame, double timestamp_s) = 0;
  // True when process_frame takes NV12 frames as they are (the CUDA pipeline samples them on the
  // GPU): the camera then captures video as NV12 under `[gpu] capture_format = "nv12"`.
  virtual bool reads_nv12() const { return false; }
  virtual std::span<const face::FaceResult> faces() const = 0;
  virtual const char* device() const = 0;  // "cpu" or "cuda"
};

// The face pipeline settings of `camera` under `[gpu]` (shared by every kind of pipeline).
face::FacePipelineConfig face_pipeline_config(const CameraConfig& camera, const GpuConfig& gpu);

// A captured frame as the pixels of the CUDA pipeline's `frame`: NV12 as a raw frame (`raw` gets
// the plane pointers and frame.raw points at it: uploaded as captured, sampled on the GPU, no
// conversion anywhere), packed RGB/BGR as frame.image. The image and `raw` must stay put for the
// call. Hot path: kUnsupported for any other format, no throw. CUDA builds only (defined with the
// CUDA pipeline).
Status set_frame_pixels(media::ConstImageView captured, face::cuda::HostFrame& raw, face::cuda::CameraFrame& frame);

// The pipeline for `camera` on `device` (kCpu or a GPU index). Start-up code: throws
// facepipe::Error.
std::unique_ptr<CameraPipeline> make_face_pipeline(const CameraConfig& camera, const GpuConfig& gpu, int device);

}  // namespace facepipe::runtime
