#include "runtime/pipeline_factory.h"

#include "face/pipeline/face_pipeline.h"
#include "media/kernel_view.h"
#if FACEPIPE_HAVE_CUDA
#include "common/cuda/cuda_resources.h"
#include "face/cuda/cuda_face_pipeline.h"
#endif

namespace facepipe::runtime {

face::FacePipelineConfig face_pipeline_config(const CameraConfig& camera, const GpuConfig& gpu) {
  face::FacePipelineConfig pc;
  pc.detector = face::parse_detector(camera.detector);
  pc.max_faces = camera.max_faces;
  pc.min_detection_confidence = gpu.detection_confidence;
  pc.detection_size = gpu.detection_size;
  pc.models_dir = gpu.models_dir;
  pc.landmark_model = gpu.landmark_model;
  pc.threads = 1;  // cameras run in parallel on the cores
  return pc;
}

namespace {

class CpuCameraPipeline final : public CameraPipeline {
 public:
  explicit CpuCameraPipeline(const face::FacePipelineConfig& c) : pipeline_(c) {}
  Status process_frame(const media::Image& frame, double timestamp_s) override {
    // The camera captures BGR for this pipeline (reads_nv12() is false); anything else is a bug upstream.
    if (!media::is_packed_rgb(frame.format()))
      return Status::error(StatusCode::kUnsupported, "CPU face pipeline: frames must be packed RGB/BGR, not NV12");
    return pipeline_.process_frame(media::kernel_view(frame), timestamp_s);
  }
  std::span<const face::FaceResult> faces() const override { return pipeline_.faces(); }
  const char* device() const override { return "cpu"; }

 private:
  face::FacePipeline pipeline_;
};

#if FACEPIPE_HAVE_CUDA
class CudaCameraPipeline final : public CameraPipeline {
 public:
  explicit CudaCameraPipeline(const face::cuda::CudaFacePipelineConfig& c) : pipeline_(c) {}
  Status process_frame(const media::Image& frame, double timestamp_s) override {
    if (frame.empty()) return Status::error(StatusCode::kInvalidArgument, "empty frame");
    // A camera whose frames grow (a stream changing resolution) re-allocates once, off the steady state.
    FACEPIPE_RETURN_IF_ERROR(pipeline_.grow_frame_capacity(frame.width(), frame.height()));
    face::cuda::CameraFrame f;
    f.timestamp_s = timestamp_s;
    FACEPIPE_RETURN_IF_ERROR(set_frame_pixels(frame.view(), raw_, f));
    return pipeline_.process({&f, 1}, /*video=*/true);
  }
  bool reads_nv12() const override { return true; }
  std::span<const face::FaceResult> faces() const override { return pipeline_.faces(0); }
  const char* device() const override { return "cuda"; }

 private:
  face::cuda::CudaFacePipeline pipeline_;
  face::cuda::HostFrame raw_;  // the NV12 frame of the call in flight (points into the caller's image)
};
#endif

}  // namespace

#if FACEPIPE_HAVE_CUDA
Status set_frame_pixels(media::ConstImageView captured, face::cuda::HostFrame& raw, face::cuda::CameraFrame& frame) {
  if (media::is_packed_rgb(captured.format)) {
    frame.image = media::kernel_view(captured);
    frame.raw = nullptr;
    return Status::ok();
  }
  if (captured.format != media::PixelFormat::kNV12)
    return Status::error(StatusCode::kUnsupported, "CUDA face pipeline: frames must be packed RGB/BGR or NV12");
  raw.format = kernels::cuda::FrameFormat::kNV12;
  raw.width = captured.width;
  raw.height = captured.height;
  raw.plane0 = captured.data;
  raw.stride0 = static_cast<int64_t>(captured.stride);
  raw.plane1 = captured.uv;
  raw.stride1 = static_cast<int64_t>(captured.uv_stride);
  frame.raw = &raw;
  return Status::ok();
}
#endif

std::unique_ptr<CameraPipeline> make_face_pipeline(const CameraConfig& camera, const GpuConfig& gpu, int device) {
  const face::FacePipelineConfig pc = face_pipeline_config(camera, gpu);
#if FACEPIPE_HAVE_CUDA
  if (device >= 0 && device < facepipe::cuda::device_count()) {
    face::cuda::CudaFacePipelineConfig gc;
    gc.face = pc;
    gc.device = device;
    gc.cameras = 1;
    gc.max_width = 1920;  // grown on the first larger frame
    gc.max_height = 1080;
    gc.max_batch = std::max(1, gpu.max_batch_size);
    gc.fp16 = gpu.enable_fp16;
    return std::make_unique<CudaCameraPipeline>(gc);
  }
#endif
  (void)device;  // the CPU, or a simulated GPU (FACEPIPE_SIMULATE_GPUS)
  return std::make_unique<CpuCameraPipeline>(pc);
}

}  // namespace facepipe::runtime
