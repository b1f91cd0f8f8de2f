// The face pipeline on one GPU, for one or many cameras at once: frames are uploaded from host
// memory, the detector runs on all cameras that need it as one batch, the landmark and blendshape
// networks run on every face of every camera as one batch, and only detections (a few hundred
// bytes) and the final landmarks/blendshapes come back to the host, where the tracker, the box and
// the head pose (a 468-point Procrustes fit) finish each face. docs/face_pipeline.md ("On the GPU").
//
// The per-frame calls enqueue everything on the pipeline's stream, synchronize twice (after the
// detector, at the end) and allocate nothing: every device buffer, pinned staging area and plan
// is made by the constructor (throws facepipe::Error), for frames up to max_width x max_height.
// Networks are planned for power-of-two batches up to their maximum and the smallest plan that
// fits is used, so one face costs a batch-1 run.
#pragma once

#include <cuda_runtime.h>

#include <memory>
#include <span>
#include <vector>

#include "common/status.h"
#include "face/pipeline/face_pipeline.h"
#include "face/types.h"
#include "kernels/cuda/image_kernels.h"
#include "kernels/image_view.h"

namespace facepipe::face::cuda {

struct CudaFacePipelineConfig {
  FacePipelineConfig face;   // detector, thresholds, models, tracking (threads: unused)
  int device = 0;
  int cameras = 1;           // frames per call at most (the detector's batch)
  int max_width = 1920;      // largest frame, pixels (device frame buffers)
  int max_height = 1080;
  int max_batch = 64;        // faces per landmark / blendshape launch (more are run in chunks)
  bool fp16 = true;          // f16 storage for the detector and landmark networks
  // Largest preview a frame may ask for (CameraFrame::preview_*): downscaled on the GPU and copied
  // back with the results (0 x 0: previews off, no buffers).
  int preview_width = 0, preview_height = 0;
  // RetinaFace: the network input is detection_size on the long side of max_width x max_height;
  // smaller or differently shaped frames are resized into its top-left corner.
};

// Where a call's time went (milliseconds). GPU stages from events on the stream; host stages wall.
struct CudaStageTimes {
  double upload_ms = 0;       // host frames → device
  double detect_ms = 0;       // preprocessing, network, decode + NMS (GPU)
  double landmarks_ms = 0;    // crops, network, projection (GPU, all faces)
  double blendshapes_ms = 0;  // input gather, network, copy back (GPU, all faces)
  double host_ms = 0;         // ROIs, tracking, boxes, head pose (CPU, all faces)
  double total_ms = 0;        // wall, call to return
  int detector_batch = 0;     // cameras that ran the detector
  int faces = 0;              // crops through the landmark network
};

// A captured frame in host memory in the camera's own pixel format (what V4L2 and video decoders
// deliver): uploaded as is and sampled as is on the GPU (each kernel converts only the pixels it
// reads; no whole-frame conversion). NV12 moves half the bytes of BGR, YUYV two thirds.
struct HostFrame {
  kernels::cuda::FrameFormat format = kernels::cuda::FrameFormat::kNV12;
  int width = 0, height = 0;
  const uint8_t* plane0 = nullptr;  // packed pixels, or the Y plane
  int64_t stride0 = 0;              // bytes
  const uint8_t* plane1 = nullptr;  // NV12's interleaved UV plane
  int64_t stride1 = 0;
};

// One camera's frame of a call.
struct CameraFrame {
  int camera = 0;             // 0 .. cameras-1, at most once per call
  kernels::ImageView image;   // RGB or BGR, host memory (pinned uploads fastest)
  double timestamp_s = 0;     // VIDEO mode: increasing per camera
  const HostFrame* raw = nullptr;  // when set: this frame instead of `image`
  // A downscaled BGR copy of the frame made on the GPU (0: none; at most the configured preview
  // size): preview(camera) after the call.
  int preview_width = 0, preview_height = 0;
};

class CudaFacePipeline {
 public:
  explicit CudaFacePipeline(const CudaFacePipelineConfig& config);
  ~CudaFacePipeline();
  CudaFacePipeline(const CudaFacePipeline&) = delete;
  CudaFacePipeline& operator=(const CudaFacePipeline&) = delete;

  // IMAGE mode: frames[i] is a still image of camera i (RGB or BGR, host memory; pinned memory
  // uploads fastest). Every face the detector finds, up to max_faces per camera.
  Status process_images(std::span<const kernels::ImageView> frames);
  // VIDEO mode: frames[i] is camera i's next frame, timestamps in seconds increasing per camera.
  Status process_frames(std::span<const kernels::ImageView> frames, std::span<const double> timestamps_s);
  // Any subset of the cameras (a runtime batches the cameras whose frames are ready). Cameras not
  // in the call keep the faces of their last call.
  Status process(std::span<const CameraFrame> frames, bool video);
  void reset_tracking();
  // One camera only (a runtime hands a freed camera slot to another camera): its tracks, its last
  // faces and detections are forgotten; the other cameras are not touched. Not during process().
  void reset_tracking(int camera);
  // Start-up code (allocates, may re-plan RetinaFace; throws): room for frames up to width x height.
  void ensure_frame_capacity(int width, int height);
  // The frame path's form: nothing to do (no allocation) while frames fit; a larger frame grows the
  // buffers once, and a failure (device memory) comes back as a Status.
  Status grow_frame_capacity(int width, int height);

  int cameras() const;
  std::span<const FaceResult> faces(int camera) const;
  std::span<const Detection> detections(int camera) const;  // of the last detector run on it
  // The camera's preview (packed BGR, host memory) from its last call; data == nullptr when that
  // call asked for none.
  kernels::ImageView preview(int camera) const;
  const CudaStageTimes& stage_times() const;
  int landmark_count() const;
  bool has_blendshapes() const;
  bool fp16() const;  // f16 storage actually in use by the landmark network
  cudaStream_t stream() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace facepipe::face::cuda
