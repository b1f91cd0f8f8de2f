// One camera of a worker process: a CaptureThread (source → FrameRing) and a pipeline thread
// (FrameRing → CameraPipeline::process_frame (CPU or CUDA, pipeline_factory.h) → ShmWriter::publish
// with a downscaled preview). In a batched GPU worker (gpu_batcher.h) the camera has no pipeline
// and no pipeline thread of its own: the worker's GpuBatcher takes its frames, runs them with the
// other cameras' and hands the faces back to publish_batch_result(), which publishes exactly as the
// pipeline thread does.
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
#include "runtime/gpu_batcher.h"
#include "runtime/pipeline_factory.h"
#include "runtime/metrics.h"
#include "runtime/preview.h"
#include "runtime/source.h"

namespace facepipe::runtime {

class CameraWorker final : public BatchCamera {
 public:
  // `device`: kCpu or the GPU index of the worker (make_face_pipeline decides what that means).
  // `batcher`: run in its batch instead of a pipeline of its own (it must accept the camera).
  CameraWorker(const std::string& instance, const CameraConfig& camera, const GpuConfig& gpu, int device = kCpu,
               GpuBatcher* batcher = nullptr);
  ~CameraWorker();
  CameraWorker(const CameraWorker&) = delete;
  CameraWorker& operator=(const CameraWorker&) = delete;

  void start();         // batched: takes a slot of the batcher (throws when none is free)
  void request_stop();  // non-blocking: capture and pipeline threads start winding down
  void join();          // waits for both threads (batched: leaves the batcher); then the segment is closed and unlinked

  const CameraConfig& config() const { return config_; }
  const CaptureThread& capture() const { return *capture_; }
  CaptureThread& capture() { return *capture_; }
  const PipelineStats& pipeline_stats() const { return stats_; }
  const char* pipeline_device() const { return batcher_ ? batcher_->device() : pipeline_->device(); }  // "cpu" or "cuda"
  bool batched() const { return batcher_ != nullptr; }
  // What the camera's video source delivers (bgr8, or nv12 for a pipeline that samples NV12 itself);
  // an image folder gives bgr8 whatever this says.
  media::PixelFormat capture_format() const { return capture_->options().video_format; }
  int batch_slot() const { return slot_; }  // -1 unless batched and started
  RingCounters ring_counters() const { return ring_.counters(); }
  bool is_live_source() const { return live_; }
  int device() const { return device_; }
  SourceState state(uint64_t now_ns) const;
  // "camera 'x': reconnecting (why)" when the source state changed since the last call, else "".
  std::string state_change(uint64_t now_ns);

 private:
  // BatchCamera (called by the batcher thread).
  FrameRing<CapturedFrame>& batch_ring() override { return ring_; }
  bool batch_takes_every_frame() const override { return !config_.realtime && !live_; }
  bool begin_batch_frame(uint64_t now_ns) override { return begin_frame(now_ns); }
  void batch_preview_size(int width, int height, int& preview_width, int& preview_height) const override;
  void publish_batch_result(const CapturedFrame& frame, std::span<const face::FaceResult> faces,
                            const Status& status, const kernels::ImageView& preview) override {
    finish_frame(frame, faces, status, &preview);
  }

  void pipeline_loop();
  // The three steps of a frame, shared by the pipeline thread and the batcher: mark it in flight
  // (false: fault injection hung here until stopped), run this camera's own pipeline, publish.
  bool begin_frame(uint64_t now_ns);
  Status run_pipeline(const CapturedFrame& frame);
  // `preview`: one the pipeline made (may be null or empty: scaled here on the CPU).
  void finish_frame(const CapturedFrame& frame, std::span<const face::FaceResult> faces, const Status& status,
                    const kernels::ImageView* preview = nullptr);
  Status publish(const CapturedFrame& frame, std::span<const face::FaceResult> faces, const kernels::ImageView* preview);

  CameraConfig config_;
  int device_ = kCpu;
  int last_logged_state_ = -1;
  bool live_ = false;
  FrameRing<CapturedFrame> ring_;
  std::unique_ptr<CameraPipeline> pipeline_;  // null when batched
  GpuBatcher* batcher_ = nullptr;
  int slot_ = -1;
  std::unique_ptr<ipc::ShmWriter> writer_;
  std::unique_ptr<CaptureThread> capture_;
  PipelineStats stats_;
  media::Image preview_;
  PreviewScaler scaler_;
  int preview_max_w_ = 0, preview_max_h_ = 0;
  std::atomic<bool> stopping_{false};
  uint64_t stall_after_frames_ = 0;  // fault injection (FACEPIPE_TEST_STALL_CAMERA); 0: never
  uint64_t frames_taken_ = 0;
  std::thread thread_;
  // fps window
  uint64_t window_start_ns_ = 0;
  uint64_t window_frames_ = 0;
};

}  // namespace facepipe::runtime
