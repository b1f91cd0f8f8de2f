#include "runtime/runtime.h"

#include <filesystem>
#include <sstream>

#include "media/kernel_view.h"

namespace facepipe::runtime {

// ---- CameraWorker -----------------------------------------------------------------------------------

CameraWorker::CameraWorker(const std::string& instance, const CameraConfig& camera, const GpuConfig& gpu)
    : config_(camera), ring_(static_cast<size_t>(gpu.buffer_size)) {
  const SourceKind kind = classify_source(camera.source);
  live_ = kind == SourceKind::kStream || kind == SourceKind::kDevice;
  if (kind == SourceKind::kVideoFile) {
    std::error_code ec;
    if (!std::filesystem::exists(camera.source, ec))
      throw Error("camera '" + camera.id + "': source '" + camera.source + "': no such file or folder");
  }
  face::FacePipelineConfig pc;
  pc.detector = face::parse_detector(camera.detector);
  pc.max_faces = camera.max_faces;
  pc.min_detection_confidence = gpu.detection_confidence;
  pc.detection_size = gpu.detection_size;
  pc.models_dir = gpu.models_dir;
  pc.landmark_model = gpu.landmark_model;
  pc.threads = 1;  // one core per camera: cameras run in parallel on the cores
  try {
    pipeline_ = std::make_unique<face::FacePipeline>(pc);
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
  capture_ = std::make_unique<CaptureThread>(camera.id, so, ring_);
}

CameraWorker::~CameraWorker() {
  request_stop();
  join();
}

void CameraWorker::start() {
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
  if (writer_) writer_->close();
}

void CameraWorker::pipeline_loop() {
  CapturedFrame frame;
  while (!stopping_.load(std::memory_order_relaxed)) {
    if (!ring_.pop(frame, std::chrono::milliseconds(100))) continue;
    if (!process(frame).is_ok()) stats_.errors.fetch_add(1, std::memory_order_relaxed);
  }
}

Status CameraWorker::process(const CapturedFrame& frame) {
  if (frame.image.empty()) return Status::error(StatusCode::kInvalidArgument, "empty frame");
  FACEPIPE_RETURN_IF_ERROR(pipeline_->process_frame(media::kernel_view(frame.image), frame.media_time_s));
  media::ConstImageView preview_view{};
  if (preview_max_w_ > 0 && config_.preview) {
    int pw = 0, ph = 0;
    fit_preview_size(frame.image.width(), frame.image.height(), preview_max_w_, preview_max_h_, pw, ph);
    if (preview_.width() != pw || preview_.height() != ph) preview_.reset(pw, ph, media::PixelFormat::kBGR8);
    scaler_.resize(frame.image.view(), preview_.view());
    preview_view = preview_.view();
  }
  ipc::FrameInfo info;
  info.frame_id = frame.sequence;
  info.capture_ns = frame.capture_ns;
  info.source_width = static_cast<uint32_t>(frame.image.width());
  info.source_height = static_cast<uint32_t>(frame.image.height());
  const auto faces = pipeline_->faces();
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

// ---- Runtime ------------------------------------------------------------------------------------------

Runtime::Runtime(RunConfig config) : config_(std::move(config)) {
  for (const CameraConfig& c : config_.cameras)
    cameras_.push_back(std::make_unique<CameraWorker>(config_.instance, c, config_.gpu));
  last_states_.assign(cameras_.size(), -1);
}

Runtime::~Runtime() { stop(); }

void Runtime::start() {
  for (auto& c : cameras_) c->start();
  // A file that cannot be decoded is a configuration error; a stream or device that is not there
  // yet is not: it keeps reconnecting and reports its state.
  for (auto& c : cameras_) {
    if (c->is_live_source()) continue;
    if (!c->capture().wait_first_attempt(30000)) {
      const std::string why = c->capture().last_error();
      throw Error("camera '" + c->config().id + "': " + (why.empty() ? "source did not open" : why));
    }
  }
  if (config_.metrics_port > 0)
    metrics_ = std::make_unique<MetricsServer>(config_.metrics_port, [this] { return render_metrics(); });
}

void Runtime::stop() {
  if (stopped_) return;
  stopped_ = true;
  metrics_.reset();
  for (auto& c : cameras_) c->request_stop();
  for (auto& c : cameras_) c->join();
}

std::string Runtime::state_changes() {
  std::string out;
  const uint64_t now = monotonic_now_ns();
  for (size_t i = 0; i < cameras_.size(); ++i) {
    const SourceState s = cameras_[i]->capture().state(now);
    if (static_cast<int>(s) == last_states_[i]) continue;
    last_states_[i] = static_cast<int>(s);
    out += "camera '" + cameras_[i]->config().id + "': " + source_state_name(s);
    const std::string why = cameras_[i]->capture().last_error();
    if (s != SourceState::kLive && !why.empty()) out += " (" + why + ")";
    out += "\n";
  }
  return out;
}

std::string Runtime::render_metrics() const {
  std::ostringstream m;
  const uint64_t now = monotonic_now_ns();
  auto family = [&](const char* name, const char* type, const char* help) {
    m << "# HELP facepipe_" << name << ' ' << help << "\n# TYPE facepipe_" << name << ' ' << type << '\n';
  };
  auto labels = [&](const CameraWorker& c) {
    return "{instance=\"" + config_.instance + "\",camera=\"" + c.config().id + "\"}";
  };
  family("camera_fps", "gauge", "Frames published per second (last second).");
  for (const auto& c : cameras_)
    m << "facepipe_camera_fps" << labels(*c) << ' ' << c->pipeline_stats().fps_milli.load() / 1000.0 << '\n';
  family("camera_frames_captured_total", "counter", "Frames the source delivered into the ring.");
  for (const auto& c : cameras_) m << "facepipe_camera_frames_captured_total" << labels(*c) << ' ' << c->capture().stats().frames.load() << '\n';
  family("camera_frames_total", "counter", "Frames processed and published.");
  for (const auto& c : cameras_) m << "facepipe_camera_frames_total" << labels(*c) << ' ' << c->pipeline_stats().frames.load() << '\n';
  family("camera_faces_total", "counter", "Faces published, summed over frames.");
  for (const auto& c : cameras_) m << "facepipe_camera_faces_total" << labels(*c) << ' ' << c->pipeline_stats().faces.load() << '\n';
  family("camera_faces", "gauge", "Faces in the last published frame.");
  for (const auto& c : cameras_) m << "facepipe_camera_faces" << labels(*c) << ' ' << c->pipeline_stats().current_faces.load() << '\n';
  family("camera_drops_total", "counter", "Frames dropped because the pipeline fell behind (ring full).");
  for (const auto& c : cameras_) m << "facepipe_camera_drops_total" << labels(*c) << ' ' << c->ring_counters().dropped << '\n';
  family("camera_skipped_total", "counter", "Frames skipped by the fps cap.");
  for (const auto& c : cameras_) m << "facepipe_camera_skipped_total" << labels(*c) << ' ' << c->capture().stats().skipped.load() << '\n';
  family("camera_errors_total", "counter", "Frames the pipeline or publisher failed on.");
  for (const auto& c : cameras_) m << "facepipe_camera_errors_total" << labels(*c) << ' ' << c->pipeline_stats().errors.load() << '\n';
  family("camera_reconnects_total", "counter", "Reconnect attempts after a failed open or a lost source.");
  for (const auto& c : cameras_) m << "facepipe_camera_reconnects_total" << labels(*c) << ' ' << c->capture().stats().reconnects.load() << '\n';
  family("camera_source_state", "gauge", "1 for the source's current state.");
  for (const auto& c : cameras_) {
    const SourceState s = c->capture().state(now);
    for (int k = 0; k <= static_cast<int>(SourceState::kStopped); ++k) {
      const auto state = static_cast<SourceState>(k);
      m << "facepipe_camera_source_state{instance=\"" << config_.instance << "\",camera=\"" << c->config().id
        << "\",state=\"" << source_state_name(state) << "\"} " << (state == s ? 1 : 0) << '\n';
    }
  }
  family("camera_latency_seconds", "histogram", "Capture to published latency.");
  for (const auto& c : cameras_) {
    const LatencyHistogram& h = c->pipeline_stats().latency;
    uint64_t cumulative = 0;
    const std::string base = "instance=\"" + config_.instance + "\",camera=\"" + c->config().id + "\"";
    for (size_t b = 0; b < kLatencyBucketsMs.size(); ++b) {
      cumulative += h.buckets[b].load();
      m << "facepipe_camera_latency_seconds_bucket{" << base << ",le=\"" << kLatencyBucketsMs[b] / 1000.0 << "\"} "
        << cumulative << '\n';
    }
    cumulative += h.buckets[kLatencyBucketsMs.size()].load();
    m << "facepipe_camera_latency_seconds_bucket{" << base << ",le=\"+Inf\"} " << cumulative << '\n';
    m << "facepipe_camera_latency_seconds_sum{" << base << "} " << h.sum_us.load() / 1e6 << '\n';
    m << "facepipe_camera_latency_seconds_count{" << base << "} " << h.count.load() << '\n';
  }
  return m.str();
}

}  // namespace facepipe::runtime
