#include "runtime/pipeline_factory.h"

namespace facepipe::runtime {

std::unique_ptr<face::FacePipeline> make_face_pipeline(const CameraConfig& camera, const GpuConfig& gpu, int device) {
  (void)device;  // the CUDA face pipeline is not wired in yet: GPU workers run the CPU one
  face::FacePipelineConfig pc;
  pc.detector = face::parse_detector(camera.detector);
  pc.max_faces = camera.max_faces;
  pc.min_detection_confidence = gpu.detection_confidence;
  pc.detection_size = gpu.detection_size;
  pc.models_dir = gpu.models_dir;
  pc.landmark_model = gpu.landmark_model;
  pc.threads = 1;
  return std::make_unique<face::FacePipeline>(pc);
}

}  // namespace facepipe::runtime
