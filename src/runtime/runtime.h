// One `facepipe run` process: per camera a CaptureThread (source → FrameRing) and a pipeline thread
// (FrameRing → FacePipeline::process_frame → ShmWriter::publish with a downscaled preview), plus an
// optional metrics endpoint. See docs/runtime.md.
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
#include "runtime/metrics.h"
#include "runtime/preview.h"
#include "runtime/source.h"

namespace facepipe::runtime {

class CameraWorker {
 public:
  CameraWorker(const std::string& instance, const CameraConfig& camera, const GpuConfig& gpu);
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
  RingCounters ring_counters() const { return ring_.counters(); }
  bool is_live_source() const { return live_; }

 private:
  void pipeline_loop();
  Status process(const CapturedFrame& frame);

  CameraConfig config_;
  bool live_ = false;
  FrameRing<CapturedFrame> ring_;
  std::unique_ptr<face::FacePipeline> pipeline_;
  std::unique_ptr<ipc::ShmWriter> writer_;
  std::unique_ptr<CaptureThread> capture_;
  PipelineStats stats_;
  media::Image preview_;
  PreviewScaler scaler_;
  int preview_max_w_ = 0, preview_max_h_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  // fps window
  uint64_t window_start_ns_ = 0;
  uint64_t window_frames_ = 0;
};

class Runtime {
 public:
  explicit Runtime(RunConfig config);
  ~Runtime();

  // Starts every camera, then the metrics endpoint. Throws when a camera's file source cannot be
  // opened (an unreachable stream or device is reported and keeps reconnecting instead).
  void start();
  void stop();  // idempotent; joins everything and unlinks the segments

  // Prometheus text exposition of every counter.
  std::string render_metrics() const;
  // One line per camera whose state changed since the last call ("" when none).
  std::string state_changes();
  int metrics_port() const { return metrics_ ? metrics_->port() : 0; }
  const RunConfig& config() const { return config_; }
  const std::vector<std::unique_ptr<CameraWorker>>& cameras() const { return cameras_; }

 private:
  RunConfig config_;
  std::vector<std::unique_ptr<CameraWorker>> cameras_;
  std::vector<int> last_states_;
  std::unique_ptr<MetricsServer> metrics_;
  bool stopped_ = false;
};

}  // namespace facepipe::runtime
