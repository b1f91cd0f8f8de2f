#include "runtime/gpu_batcher.h"

#include <algorithm>
#include <chrono>

#include "runtime/pipeline_factory.h"
#if FACEPIPE_HAVE_CUDA
#include "face/cuda/cuda_face_pipeline.h"
#endif

namespace facepipe::runtime {

// ---- SlotTable ----------------------------------------------------------------------------------------

SlotTable::SlotTable(int capacity) : ids_(static_cast<size_t>(std::max(capacity, 0))) {}

int SlotTable::acquire(std::string_view camera_id) {
  const std::string id(camera_id);
  if (id.empty()) throw Error("GPU batcher: a camera without an id cannot take a slot");
  if (find(camera_id) >= 0) throw Error("camera '" + id + "': already holds a slot of the GPU batcher");
  for (size_t i = 0; i < ids_.size(); ++i) {
    if (ids_[i].empty()) {
      ids_[i] = id;
      ++used_;
      return static_cast<int>(i);
    }
  }
  throw Error("camera '" + id + "': no free slot in the GPU batcher (all " + std::to_string(ids_.size()) +
              " taken)");
}

void SlotTable::release(int slot) {
  if (!in_use(slot)) return;
  ids_[static_cast<size_t>(slot)].clear();
  --used_;
}

int SlotTable::find(std::string_view camera_id) const {
  for (size_t i = 0; i < ids_.size(); ++i)
    if (!ids_[i].empty() && ids_[i] == camera_id) return static_cast<int>(i);
  return -1;
}

bool SlotTable::in_use(int slot) const {
  return slot >= 0 && slot < capacity() && !ids_[static_cast<size_t>(slot)].empty();
}

// ---- Selection ----------------------------------------------------------------------------------------

BatchKey batch_key(const CameraConfig& camera) { return {camera.detector, camera.max_faces}; }

bool batch_compatible(const BatchKey& key, const CameraConfig& camera) {
  return camera.detector == key.detector && camera.max_faces == key.max_faces;
}

bool use_gpu_batcher(int worker_gpu, int cuda_devices, const GpuConfig& gpu) {
  return gpu.batch_cameras && worker_gpu >= 0 && worker_gpu < cuda_devices;
}

// ---- GpuBatcher ---------------------------------------------------------------------------------------

GpuBatcher::GpuBatcher(std::unique_ptr<BatchedPipeline> pipeline, BatchKey key)
    : pipeline_(std::move(pipeline)),
      key_(std::move(key)),
      capacity_(pipeline_ ? pipeline_->capacity() : 0),
      slots_(capacity_),
      members_(static_cast<size_t>(capacity_), nullptr),
      frames_(static_cast<size_t>(capacity_)),
      taken_(static_cast<size_t>(capacity_), -1),
      batch_(static_cast<size_t>(capacity_)),
      publish_pool_(std::max(1, std::min(capacity_, default_thread_count()))) {
  if (!pipeline_ || capacity_ < 1) throw Error("GPU batcher: a pipeline with at least one camera slot is needed");
  thread_ = std::thread([this] { loop(); });
}

GpuBatcher::~GpuBatcher() {
  stop_.store(true);
  doorbell_.ring();
  if (thread_.joinable()) thread_.join();
  // Cameras still attached (a worker that forgot to remove them) must not ring a dead doorbell.
  for (BatchCamera* m : members_)
    if (m) m->batch_ring().set_doorbell(nullptr);
}

int GpuBatcher::add(const CameraConfig& camera, BatchCamera& member) {
  if (!accepts(camera))
    throw Error("camera '" + camera.id + "': detector '" + camera.detector + "' / max_faces " +
                std::to_string(camera.max_faces) + " differ from the GPU batcher's ('" + key_.detector + "' / " +
                std::to_string(key_.max_faces) + ")");
  std::lock_guard lock(mutex_);
  const int slot = slots_.acquire(camera.id);
  members_[static_cast<size_t>(slot)] = &member;
  member.batch_ring().set_doorbell(&doorbell_);
  doorbell_.ring();  // frames may already wait in its ring
  return slot;
}

void GpuBatcher::remove(int slot) {
  std::lock_guard lock(mutex_);  // the batch in flight (if any) ends first
  if (!slots_.in_use(slot)) return;
  BatchCamera*& m = members_[static_cast<size_t>(slot)];
  m->batch_ring().set_doorbell(nullptr);
  m = nullptr;
  // The next camera in this slot must not inherit the old one's tracks (or its timestamps, which
  // the tracker expects to increase).
  pipeline_->reset_slot(slot);
  slots_.release(slot);
}

int GpuBatcher::cameras() const {
  std::lock_guard lock(mutex_);
  return slots_.used();
}

void GpuBatcher::loop() {
  while (!stop_.load(std::memory_order_relaxed)) {
    // Read before looking at the rings: a frame pushed after the scan moves the count, so the wait
    // below returns at once instead of sleeping on a frame that is already there.
    const uint64_t seen = doorbell_.count();
    int taken = 0;
    {
      std::lock_guard lock(mutex_);
      for (int slot = 0; slot < capacity_; ++slot) {
        BatchCamera* m = members_[static_cast<size_t>(slot)];
        if (!m) continue;
        CapturedFrame& frame = frames_[static_cast<size_t>(slot)];
        FrameRing<CapturedFrame>& ring = m->batch_ring();
        if (m->batch_takes_every_frame() ? ring.try_pop(frame) : ring.pop_latest(frame))
          taken_[static_cast<size_t>(taken++)] = slot;
      }
      if (taken > 0) run_batch(taken);
    }
    // Nothing to do: sleep until a capture thread pushes (the timeout only bounds how late a stop
    // request is noticed if its ring() were ever missed).
    if (taken == 0) doorbell_.wait_past(seen, std::chrono::milliseconds(100));
  }
}

void GpuBatcher::run_batch(int taken) {
  // Every camera of the batch is in flight for as long as the one call runs: a stuck GPU call
  // shows up in each camera's stamp, like a stuck per-camera pipeline.
  const uint64_t now = monotonic_now_ns();
  int count = 0;
  for (int i = 0; i < taken; ++i) {
    const int slot = taken_[static_cast<size_t>(i)];
    BatchCamera* m = members_[static_cast<size_t>(slot)];
    const CapturedFrame& frame = frames_[static_cast<size_t>(slot)];
    if (!m->begin_batch_frame(now)) continue;
    if (frame.image.empty()) {
      m->publish_batch_result(frame, {}, Status::error(StatusCode::kInvalidArgument, "empty frame"), {});
      continue;
    }
    const int w = frame.image.width(), h = frame.image.height();
    // Grows the pipeline's frame buffers on the first frame of a larger size (allocates), here,
    // between two process() calls, where it cannot race with one; a no-op while frames fit.
    const Status grown = pipeline_->ensure_frame_capacity(w, h);
    if (!grown.is_ok()) {
      m->publish_batch_result(frame, {}, grown, {});
      continue;
    }
    BatchFrame& b = batch_[static_cast<size_t>(count++)];
    // The frame as captured (BGR8 or NV12): the pipeline picks the upload path per frame.
    b = BatchFrame{slot, frame.image.view(), frame.media_time_s};
    m->batch_preview_size(w, h, b.preview_width, b.preview_height);
  }
  if (count == 0) return;
  const Status status = pipeline_->process(std::span<const BatchFrame>(batch_.data(), static_cast<size_t>(count)));
  // Each camera publishes its own state (writer, preview, stats): cameras in parallel.
  publish_pool_.parallel_for(count, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int slot = batch_[static_cast<size_t>(i)].slot;
      const std::span<const face::FaceResult> faces =
          status.is_ok() ? pipeline_->faces(slot) : std::span<const face::FaceResult>{};
      const kernels::ImageView preview = status.is_ok() ? pipeline_->preview(slot) : kernels::ImageView{};
      members_[static_cast<size_t>(slot)]->publish_batch_result(frames_[static_cast<size_t>(slot)], faces, status,
                                                                preview);
    }
  });
  batches_.fetch_add(1, std::memory_order_relaxed);
  frames_done_.fetch_add(static_cast<uint64_t>(count), std::memory_order_relaxed);
}

// ---- The CUDA face pipeline behind the seam -------------------------------------------------------------

#if FACEPIPE_HAVE_CUDA
namespace {

class CudaBatchedPipeline final : public BatchedPipeline {
 public:
  explicit CudaBatchedPipeline(const face::cuda::CudaFacePipelineConfig& c)
      : pipeline_(c), frames_(static_cast<size_t>(c.cameras)), raw_(static_cast<size_t>(c.cameras)) {}
  int capacity() const override { return pipeline_.cameras(); }
  Status ensure_frame_capacity(int width, int height) override { return pipeline_.grow_frame_capacity(width, height); }
  Status process(std::span<const BatchFrame> frames) override {
    if (frames.size() > frames_.size())
      return Status::error(StatusCode::kInvalidArgument, "GPU batcher: more frames than camera slots");
    for (size_t i = 0; i < frames.size(); ++i) {
      face::cuda::CameraFrame& f = frames_[i];
      f = face::cuda::CameraFrame{frames[i].slot, {}, frames[i].timestamp_s, nullptr, frames[i].preview_width,
                                  frames[i].preview_height};
      FACEPIPE_RETURN_IF_ERROR(set_frame_pixels(frames[i].image, raw_[i], f));
    }
    return pipeline_.process(std::span<const face::cuda::CameraFrame>(frames_.data(), frames.size()), /*video=*/true);
  }
  std::span<const face::FaceResult> faces(int slot) const override { return pipeline_.faces(slot); }
  kernels::ImageView preview(int slot) const override { return pipeline_.preview(slot); }
  void reset_slot(int slot) override { pipeline_.reset_tracking(slot); }
  const char* device() const override { return "cuda"; }
  bool reads_nv12() const override { return true; }

 private:
  face::cuda::CudaFacePipeline pipeline_;
  std::vector<face::cuda::CameraFrame> frames_;  // sized once: no allocation per batch
  std::vector<face::cuda::HostFrame> raw_;       // NV12 frames of the batch, by position (sized once)
};

}  // namespace
#endif

std::unique_ptr<BatchedPipeline> make_cuda_batched_pipeline(const CameraConfig& camera, const GpuConfig& gpu,
                                                            int device, int slots) {
#if FACEPIPE_HAVE_CUDA
  face::cuda::CudaFacePipelineConfig gc;
  gc.face = face_pipeline_config(camera, gpu);
  gc.device = device;
  gc.cameras = slots;
  gc.max_width = 1920;  // grown by the batcher on the first larger frame
  gc.max_height = 1080;
  // Faces of all cameras share the landmark launches: a batch of 8 at least, whatever a per-camera
  // setting of max_batch_size says.
  gc.max_batch = std::max(8, gpu.max_batch_size);
  gc.fp16 = gpu.enable_fp16;
  // Previews downscaled on the GPU: per camera that is CPU work the batch would otherwise wait for.
  gc.preview_width = gpu.preview_width;
  gc.preview_height = gpu.preview_height;
  return std::make_unique<CudaBatchedPipeline>(gc);
#else
  (void)camera, (void)gpu, (void)slots;
  throw Error("GPU " + std::to_string(device) + ": this build has no CUDA backend");
#endif
}

}  // namespace facepipe::runtime
