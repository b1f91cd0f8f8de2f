#include "runtime/runtime.h"

#include <cstdlib>
#include <filesystem>

#include "runtime/heap_probe.h"
#include "runtime/pipeline_factory.h"

namespace facepipe::runtime {

// ---- CameraWorker -----------------------------------------------------------------------------------

CameraWorker::CameraWorker(const std::string& instance, const CameraConfig& camera, const GpuConfig& gpu, int device,
                           GpuBatcher* batcher)
    : config_(camera), device_(device), ring_(static_cast<size_t>(gpu.buffer_size)), batcher_(batcher) {
  const SourceKind kind = classify_source(camera.source);
  live_ = kind == SourceKind::kStream || kind == SourceKind::kDevice;
  if (kind == SourceKind::kVideoFile) {
    std::error_code ec;
    if (!std::filesystem::exists(camera.source, ec))
      throw Error("camera '" + camera.id + "': source '" + camera.source + "': no such file or folder");
  }
  if (batcher_ && !batcher_->accepts(camera)) throw Error("camera '" + camera.id + "': not compatible with the GPU batcher");
  try {
    if (!batcher_) pipeline_ = make_face_pipeline(camera, gpu, device);
  } catch (const std::exception& e) {
    throw Error("camera '" + camera.id + "': " + e.what());
  }
  ipc::WriterOptions wo;
  wo.instance = instance;
  wo.camera = camera.id;
  wo.max_faces = static_cast<uint32_t>(camera.max_faces);
  wo.preview_width = camera.preview ? static_cast<uint32_t>(gpu.preview_width) : 0;
  wo.preview_height = camera.preview ? static_cast<uint32_t>(gpu.preview_height) : 0;
  wo.source = camera.source;
  try {
    writer_ = std::make_unique<ipc::ShmWriter>(ipc::ShmWriter::create(wo));
  } catch (const std::exception& e) {
    throw Error("camera '" + camera.id + "': " + e.what());
  }
  preview_max_w_ = gpu.preview_width;
  preview_max_h_ = gpu.preview_height;
  SourceOptions so;
  so.source = camera.source;
  so.loop = camera.loop;
  so.realtime = camera.realtime;
  so.fps_cap = camera.fps_cap;
  // The capture format follows the pipeline this camera actually got, decided above: NV12 only when
  // it samples NV12 itself (the CUDA pipeline, batched or not). A CPU pipeline (CPU worker, a
  // simulated GPU, a build without CUDA) reads packed BGR, so its camera captures BGR.
  const bool reads_nv12 = batcher_ ? batcher_->reads_nv12() : pipeline_->reads_nv12();
  so.video_format = gpu.capture_format == CaptureFormat::kNV12 && reads_nv12 ? media::PixelFormat::kNV12
                                                                              : media::PixelFormat::kBGR8;
  capture_ = std::make_unique<CaptureThread>(camera.id, so, ring_);
  // FACEPIPE_TEST_STALL_CAMERA=<id>:<n>: this camera's pipeline thread hangs on its n-th frame
  // (tests of the supervisor's stuck-pipeline detection; read once here, one compare per frame).
  if (const char* stall = std::getenv("FACEPIPE_TEST_STALL_CAMERA")) {
    const std::string spec = stall;
    const size_t colon = spec.rfind(':');
    if (colon != std::string::npos && spec.substr(0, colon) == camera.id)
      stall_after_frames_ = std::strtoull(spec.c_str() + colon + 1, nullptr, 10);
  }
}

CameraWorker::~CameraWorker() {
  request_stop();
  join();
}

void CameraWorker::start() {
  if (batcher_) {
    slot_ = batcher_->add(config_, *this);  // before capture: a full batcher starts nothing
    capture_->start();
    return;
  }
  capture_->start();
  thread_ = std::thread([this] { pipeline_loop(); });
}

void CameraWorker::request_stop() {
  stopping_.store(true);
  ring_.close();
}

void CameraWorker::join() {
  capture_->stop();
  if (thread_.joinable()) thread_.join();
  if (batcher_ && slot_ >= 0) {
    batcher_->remove(slot_);  // waits for the batch in flight; it never calls this camera again
    slot_ = -1;
  }
  if (writer_) writer_->close();
}

void CameraWorker::pipeline_loop() {
  CapturedFrame frame;
  while (!stopping_.load(std::memory_order_relaxed)) {
    if (!ring_.pop(frame, std::chrono::milliseconds(100))) continue;
    if (!begin_frame(monotonic_now_ns())) break;
    const Status status = run_pipeline(frame);
    finish_frame(frame, status.is_ok() ? pipeline_->faces() : std::span<const face::FaceResult>{}, status);
  }
}

bool CameraWorker::begin_frame(uint64_t now_ns) {
  stats_.busy_since_ns.store(now_ns, std::memory_order_relaxed);
  if (++frames_taken_ == stall_after_frames_) {
    // Fault injection for the reliability tests: hang on this frame like a deadlocked pipeline
    // (only a stop request ends it; the supervisor is expected to kill the worker first). In a
    // batched worker this hangs the batcher thread, i.e. every camera of the GPU, like a stuck
    // batched call would.
    while (!stopping_.load(std::memory_order_relaxed)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return false;
  }
  return true;
}

Status CameraWorker::run_pipeline(const CapturedFrame& frame) {
  if (frame.image.empty()) return Status::error(StatusCode::kInvalidArgument, "empty frame");
  return pipeline_->process_frame(frame.image, frame.media_time_s);
}

void CameraWorker::finish_frame(const CapturedFrame& frame, std::span<const face::FaceResult> faces,
                                const Status& status, const kernels::ImageView* preview) {
  if (!status.is_ok() || !publish(frame, faces, preview).is_ok()) stats_.errors.fetch_add(1, std::memory_order_relaxed);
  stats_.busy_since_ns.store(0, std::memory_order_relaxed);
  // The calling thread's count: this camera's pipeline thread, or (batched) the batcher thread
  // shared by all cameras of the GPU.
  stats_.heap_allocations.store(t_heap_allocations, std::memory_order_relaxed);
}

void CameraWorker::batch_preview_size(int width, int height, int& preview_width, int& preview_height) const {
  preview_width = preview_height = 0;
  if (preview_max_w_ > 0 && config_.preview)
    fit_preview_size(width, height, preview_max_w_, preview_max_h_, preview_width, preview_height);
}

Status CameraWorker::publish(const CapturedFrame& frame, std::span<const face::FaceResult> faces,
                             const kernels::ImageView* preview) {
  media::ConstImageView preview_view{};
  if (preview && preview->data) {
    // Made by the GPU pipeline with the batch (packed BGR).
    preview_view = media::ConstImageView{preview->data, preview->width, preview->height,
                                         static_cast<ptrdiff_t>(preview->row_stride), media::PixelFormat::kBGR8,
                                         nullptr, 0};
  } else if (preview_max_w_ > 0 && config_.preview) {
    int pw = 0, ph = 0;
    fit_preview_size(frame.image.width(), frame.image.height(), preview_max_w_, preview_max_h_, pw, ph);
    if (preview_.width() != pw || preview_.height() != ph) preview_.reset(pw, ph, media::PixelFormat::kBGR8);
    scaler_.resize(frame.image.view(), preview_.view());  // BGR8 or NV12 frames (preview.h)
    preview_view = preview_.view();
  }
  ipc::FrameInfo info;
  info.frame_id = frame.sequence;
  info.capture_ns = frame.capture_ns;
  info.source_width = static_cast<uint32_t>(frame.image.width());
  info.source_height = static_cast<uint32_t>(frame.image.height());
  FACEPIPE_RETURN_IF_ERROR(writer_->publish(info, faces, preview_view));

  const uint64_t now = monotonic_now_ns();
  stats_.frames.fetch_add(1, std::memory_order_relaxed);
  stats_.faces.fetch_add(faces.size(), std::memory_order_relaxed);
  stats_.current_faces.store(static_cast<int>(faces.size()), std::memory_order_relaxed);
  if (frame.capture_ns && now > frame.capture_ns) stats_.latency.record(now - frame.capture_ns);
  if (window_start_ns_ == 0) window_start_ns_ = now;
  ++window_frames_;
  if (now - window_start_ns_ >= 1'000'000'000ull) {
    stats_.fps_milli.store(window_frames_ * 1'000'000'000'000ull / (now - window_start_ns_), std::memory_order_relaxed);
    window_start_ns_ = now;
    window_frames_ = 0;
  }
  return Status::ok();
}

SourceState CameraWorker::state(uint64_t now_ns) const { return capture_->state(now_ns); }

std::string CameraWorker::state_change(uint64_t now_ns) {
  const SourceState s = capture_->state(now_ns);
  if (static_cast<int>(s) == last_logged_state_) return {};
  last_logged_state_ = static_cast<int>(s);
  std::string line = "camera '" + config_.id + "': " + source_state_name(s);
  const std::string why = capture_->last_error();
  if (s != SourceState::kLive && !why.empty()) line += " (" + why + ")";
  return line;
}

}  // namespace facepipe::runtime
