// One camera of a worker process: a CaptureThread (source → FrameRing) and a pipeline thread
// (FrameRing → CameraPipeline::process_frame (CPU or CUDA, pipeline_factory.h) → ShmWriter::publish
// with a downscaled preview).
// See docs/runtime.md.
//
// Construction and start() are start-up code (throw facepipe::Error naming the camera); the
// per-frame loops return Status and allocate nothing once frame sizes are stable.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "face/pipeline/face_pipeline.h"
#include "ipc/shm_writer.h"
#include "runtime/config.h"
#include "runtime/frame_ring.h"
#include "runtime/pipeline_factory.h"
#include "runtime/metrics.h"
#include "runtime/preview.h"
#include "runtime/source.h"

namespace facepipe::runtime {

class CameraWorker {
 public:
  // `device`: kCpu or the GPU index of the worker (make_face_pipeline decides what that means).
  CameraWorker(const std::string& instance, const CameraConfig& camera, const GpuConfig& gpu, int device = kCpu);
  ~CameraWorker();
  CameraWorker(const CameraWorker&) = delete;
  CameraWorker& operator=(const CameraWorker&) = delete;

  void start();
  void request_stop();  // non-blocking: capture and pipeline threads start winding down
  void join();          // waits for both threads; then the segment is closed and unlinked

  const CameraConfig& config() const { return config_; }
  const CaptureThread& capture() const { return *capture_; }
  CaptureThread& capture() { return *capture_; }
  const PipelineStats& pipeline_stats() const { return stats_; }
  const char* pipeline_device() const { return pipeline_->device(); }  // "cpu" or "cuda"
  RingCounters ring_counters() const { return ring_.counters(); }
  bool is_live_source() const { return live_; }
  int device() const { return device_; }
  SourceState state(uint64_t now_ns) const;
  // "camera 'x': reconnecting (why)" when the source state changed since the last call, else "".
  std::string state_change(uint64_t now_ns);

 private:
  void pipeline_loop();
  Status process(const CapturedFrame& frame);

  CameraConfig config_;
  int device_ = kCpu;
  int last_logged_state_ = -1;
  bool live_ = false;
  FrameRing<CapturedFrame> ring_;
  std::unique_ptr<CameraPipeline> pipeline_;
  std::unique_ptr<ipc::ShmWriter> writer_;
  std::unique_ptr<CaptureThread> capture_;
  PipelineStats stats_;
  media::Image preview_;
  PreviewScaler scaler_;
  int preview_max_w_ = 0, preview_max_h_ = 0;
  std::atomic<bool> stopping_{false};
  uint64_t stall_after_frames_ = 0;  // fault injection (FACEPIPE_TEST_STALL_CAMERA); 0: never
  std::thread thread_;
  // fps window
  uint64_t window_start_ns_ = 0;
  uint64_t window_frames_ = 0;
};

}  // namespace facepipe::runtime
