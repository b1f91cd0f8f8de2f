// Batched GPU workers (docs/runtime.md, "Batched GPU workers"): the cameras of one CUDA GPU worker
// share ONE face pipeline and ONE thread that runs every camera that has a frame as one call, so the
// detector and the landmark/blendshape networks see batches across cameras instead of each camera
// paying for its own batch-1 launches, stream and model copies.
//
//   capture threads ──push──▶ FrameRing per camera ──ring the Doorbell──▶ batcher thread:
//     take a frame from every ring that has one (non-blocking) → BatchedPipeline::process(all of them)
//     → each camera publishes its own faces (BatchCamera::publish_batch_result)
//
// Each camera owns a slot (0 .. capacity-1) of the pipeline while it runs: the slot is its index in
// the pipeline's per-camera state (tracker, last faces). Slots are taken and given back by a reload
// without touching the other cameras; a freed slot's tracking is reset before another camera gets it.
//
// Threading: one mutex guards the membership. The batcher thread holds it for a whole batch (take,
// process, publish), so add()/remove() on the worker's main thread wait for at most the batch in
// flight, and a removed camera is never touched again once remove() returned. The frame path
// allocates nothing: every per-batch array is sized by the capacity when the batcher is made.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_pool.h"
#include "face/types.h"
#include "kernels/image_view.h"
#include "media/image.h"
#include "runtime/config.h"
#include "runtime/frame_ring.h"
#include "runtime/source.h"

namespace facepipe::runtime {

// One camera's frame in a batch; `slot` is the camera's slot, at most once per call.
struct BatchFrame {
  int slot = 0;
  media::ConstImageView image;  // as captured, host memory: packed BGR8, or NV12 (reads_nv12())
  double timestamp_s = 0;    // increasing per slot (tracking)
  int preview_width = 0, preview_height = 0;  // a preview made with the batch (0: none)
};

// The seam between the batcher and what runs the batch: the CUDA face pipeline in a real GPU
// worker (make_cuda_batched_pipeline), a fake in the unit tests.
class BatchedPipeline {
 public:
  virtual ~BatchedPipeline() = default;
  virtual int capacity() const = 0;  // slots
  // Room for frames up to width x height: nothing to do (and no allocation) when an earlier frame
  // was as large; otherwise grows its buffers (allocates: the first frames only, not steady state).
  // The batcher calls it from its own thread, never while process() runs.
  virtual Status ensure_frame_capacity(int width, int height) = 0;
  // Tracking (VIDEO) mode over any subset of the slots; allocates nothing in steady state.
  virtual Status process(std::span<const BatchFrame> frames) = 0;
  // The faces of `slot` from its last process() call.
  virtual std::span<const face::FaceResult> faces(int slot) const = 0;
  // The preview of `slot` from its last process() call, when the pipeline makes them (data ==
  // nullptr: none; the camera then scales its own).
  virtual kernels::ImageView preview(int slot) const { return {}; }
  // Forgets the slot's tracks and faces (its camera left; the next one starts fresh).
  virtual void reset_slot(int slot) = 0;
  virtual const char* device() const = 0;  // "cuda", or a fake's name
  // True when process() takes NV12 frames as they are (the CUDA pipeline samples them on the GPU):
  // the cameras then capture video as NV12 under `[gpu] capture_format = "nv12"`.
  virtual bool reads_nv12() const { return false; }
};

// What the batcher needs of a camera (CameraWorker in batched mode; a fake in the unit tests).
// Every call comes from the batcher thread, with the membership mutex held.
class BatchCamera {
 public:
  virtual ~BatchCamera() = default;
  virtual FrameRing<CapturedFrame>& batch_ring() = 0;
  // True for a producer that waits for ring space instead of dropping (files with realtime =
  // false): its frames are taken oldest first, none skipped. False (cameras, paced files): the
  // newest frame is taken and older ones waiting are dropped, so a batch never runs on stale frames.
  virtual bool batch_takes_every_frame() const = 0;
  // The frame is now in flight (the supervisor's stuck detection reads the stamp). False: leave
  // this camera out of the batch (fault injection hung here and is now stopping).
  virtual bool begin_batch_frame(uint64_t now_ns) = 0;
  // The preview size this camera wants for a frame of width x height (0 x 0: none).
  virtual void batch_preview_size(int width, int height, int& preview_width, int& preview_height) const {
    preview_width = preview_height = 0;
  }
  // The batch is done: publish `faces` (status ok) or count the error; the frame is no longer in
  // flight. `preview`: made by the pipeline (data == nullptr: the camera scales its own).
  virtual void publish_batch_result(const CapturedFrame& frame, std::span<const face::FaceResult> faces,
                                    const Status& status, const kernels::ImageView& preview) = 0;
};

// Which camera holds which slot: a pure bookkeeping class (the batcher guards it with its mutex).
class SlotTable {
 public:
  explicit SlotTable(int capacity);
  // The lowest free slot for `camera_id`. Throws facepipe::Error naming the camera when every slot
  // is taken or the id already holds one.
  int acquire(std::string_view camera_id);
  void release(int slot);  // a free or out-of-range slot is left alone
  int find(std::string_view camera_id) const;  // -1 when it holds none
  bool in_use(int slot) const;
  int used() const { return used_; }
  int capacity() const { return static_cast<int>(ids_.size()); }

 private:
  std::vector<std::string> ids_;  // "" : free
  int used_ = 0;
};

// What all cameras of one batcher must share, because the pipeline has one setting for them.
struct BatchKey {
  std::string detector;
  int max_faces = 0;
};
BatchKey batch_key(const CameraConfig& camera);
bool batch_compatible(const BatchKey& key, const CameraConfig& camera);

// Batched mode is for a worker on a real CUDA device with `[gpu] batch_cameras = true`; the CPU
// worker and simulated GPUs (FACEPIPE_SIMULATE_GPUS) keep one pipeline per camera.
bool use_gpu_batcher(int worker_gpu, int cuda_devices, const GpuConfig& gpu);

class GpuBatcher {
 public:
  // Starts the batcher thread. `key`: the detector and max_faces the pipeline was made for.
  GpuBatcher(std::unique_ptr<BatchedPipeline> pipeline, BatchKey key);
  ~GpuBatcher();  // stops and joins the thread; every camera must have been removed
  GpuBatcher(const GpuBatcher&) = delete;
  GpuBatcher& operator=(const GpuBatcher&) = delete;

  bool accepts(const CameraConfig& camera) const { return batch_compatible(key_, camera); }
  // Gives the camera a slot and attaches its ring's doorbell; from the next batch on its frames are
  // taken. Throws facepipe::Error naming the camera (no free slot, not compatible, id taken).
  int add(const CameraConfig& camera, BatchCamera& member);
  // Waits for the batch in flight, then the slot's camera is never called again, its ring is
  // detached and the slot's tracking reset and freed.
  void remove(int slot);

  int cameras() const;
  int capacity() const { return capacity_; }
  const char* device() const { return pipeline_->device(); }
  bool reads_nv12() const { return pipeline_->reads_nv12(); }
  uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  uint64_t frames() const { return frames_done_.load(std::memory_order_relaxed); }

 private:
  void loop();
  void run_batch(int taken);

  std::unique_ptr<BatchedPipeline> pipeline_;
  const BatchKey key_;
  const int capacity_;
  Doorbell doorbell_;
  mutable std::mutex mutex_;          // membership; held by the batcher thread for a whole batch
  SlotTable slots_;
  std::vector<BatchCamera*> members_;  // by slot; nullptr: free
  // Per-batch state, sized by the capacity once (the frame path never allocates).
  std::vector<CapturedFrame> frames_;  // by slot: the frame taken from its ring (buffers recycled)
  std::vector<int> taken_;             // slots with a frame this batch
  std::vector<BatchFrame> batch_;
  // Publishing (preview downscale + shared-memory copy, CPU work per camera) runs on these threads:
  // done one camera after another on the batcher thread it would cap all cameras at the rate one
  // core can publish them.
  ThreadPool publish_pool_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> batches_{0}, frames_done_{0};
  std::thread thread_;
};

// The CUDA face pipeline behind the seam: one CudaFacePipeline on `device` with `slots` cameras,
// VIDEO mode, max_batch = max([gpu] max_batch_size, 8), fp16 = enable_fp16, the detector and
// max_faces of `camera`. Start-up code: throws facepipe::Error (also in a build without CUDA).
// Previews of [gpu] preview_size are made on the GPU with the batch.
std::unique_ptr<BatchedPipeline> make_cuda_batched_pipeline(const CameraConfig& camera, const GpuConfig& gpu,
                                                            int device, int slots);

}  // namespace facepipe::runtime
