#include "runtime/source.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "media/image_io.h"
#include "runtime/heap_probe.h"

namespace facepipe::runtime {
namespace fs = std::filesystem;

uint64_t monotonic_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

const char* source_state_name(SourceState state) {
  switch (state) {
    case SourceState::kConnecting: return "connecting";
    case SourceState::kLive: return "live";
    case SourceState::kStalled: return "stalled";
    case SourceState::kReconnecting: return "reconnecting";
    case SourceState::kStopped: return "stopped";
  }
  return "?";
}

SourceKind classify_source(const std::string& source) {
  if (source.rfind("/dev/video", 0) == 0) return SourceKind::kDevice;
  const auto scheme = source.find("://");
  if (scheme != std::string::npos && source.compare(0, scheme, "file") != 0) return SourceKind::kStream;
  std::error_code ec;
  if (fs::is_directory(source, ec)) return SourceKind::kImageFolder;
  return SourceKind::kVideoFile;
}

namespace {

bool is_image_file(const fs::path& p) {
  static const std::set<std::string> kExtensions = {".jpg", ".jpeg", ".png", ".bmp", ".webp",
                                                    ".tif", ".tiff", ".ppm", ".pgm", ".jfif"};
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return kExtensions.count(ext) > 0;
}

// Files, network URLs and devices: everything FFmpeg opens, through media::VideoReader.
class VideoSource final : public FrameSource {
 public:
  VideoSource(const SourceOptions& options, const std::atomic<bool>* abort_flag, bool live)
      : options_(options), live_(live) {
    reader_options_.format = options.video_format;  // BGR8 or NV12 (checked by CaptureThread)
    reader_options_.decoder_threads = 1;  // the pipeline threads want the cores
    reader_options_.io_timeout_ms = live ? options.io_timeout_ms : 0;
    reader_options_.abort_flag = abort_flag;
  }
  void open() override {
    reader_.open(options_.source, reader_options_);
    loop_offset_s_ = 0;
    last_time_s_ = 0;
  }
  void close() override { reader_.close(); }
  Status read(media::Image& image, double& media_time_s) override {
    FACEPIPE_RETURN_IF_ERROR(reader_.read(frame_));
    // The reader's VideoFrame keeps its own image; swapping hands its buffer to the ring and takes
    // a recycled one back, so neither side allocates once sizes are stable.
    using std::swap;
    swap(frame_.image, image);
    media_time_s = loop_offset_s_ + static_cast<double>(frame_.timestamp_ms) / 1000.0;
    last_time_s_ = media_time_s;
    return Status::ok();
  }
  Status rewind() override {
    if (live_) return Status::error(StatusCode::kUnsupported, "live source cannot rewind");
    FACEPIPE_RETURN_IF_ERROR(reader_.seek_to_start());
    const double fps = nominal_fps() > 0 ? nominal_fps() : 30.0;
    loop_offset_s_ = last_time_s_ + 1.0 / fps;
    return Status::ok();
  }
  double nominal_fps() const override { return reader_.is_open() ? reader_.info().fps : 0; }
  bool is_live() const override { return live_; }
  int width() const override { return reader_.is_open() ? reader_.info().width : 0; }
  int height() const override { return reader_.is_open() ? reader_.info().height : 0; }

 private:
  SourceOptions options_;
  bool live_;
  media::VideoReaderOptions reader_options_;
  media::VideoReader reader_;
  media::VideoFrame frame_;
  double loop_offset_s_ = 0, last_time_s_ = 0;
};

// A folder of still images, in name order, at options.folder_fps.
class ImageFolderSource final : public FrameSource {
 public:
  explicit ImageFolderSource(const SourceOptions& options) : options_(options) {}
  void open() override {
    files_.clear();
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(options_.source, ec))
      if (is_image_file(e.path())) files_.push_back(e.path());
    if (ec) throw Error(options_.source + ": cannot list the folder (" + ec.message() + ")");
    if (files_.empty()) throw Error(options_.source + ": no images in the folder");
    std::sort(files_.begin(), files_.end());
    next_ = 0;
    count_ = 0;
    const media::Image first = media::decode_image_file(files_[0]);
    width_ = first.width();
    height_ = first.height();
  }
  void close() override { files_.clear(); }
  Status read(media::Image& image, double& media_time_s) override {
    if (next_ >= files_.size()) return Status::error(StatusCode::kOutOfRange, "end of image folder");
    // Decoding a still allocates (it is a new file each time); folders are test and replay inputs.
    try {
      media::Image decoded = media::decode_image_file(files_[next_]);
      image.reset(decoded.width(), decoded.height(), media::PixelFormat::kBGR8);
      media::convert_pixels(decoded.view(), image.view());
    } catch (const std::exception&) {
      ++next_;
      return Status::error(StatusCode::kInvalidArgument, "undecodable image in folder");
    }
    ++next_;
    media_time_s = static_cast<double>(count_++) / options_.folder_fps;
    return Status::ok();
  }
  Status rewind() override {
    next_ = 0;
    return Status::ok();
  }
  double nominal_fps() const override { return options_.folder_fps; }
  bool is_live() const override { return false; }
  int width() const override { return width_; }
  int height() const override { return height_; }

 private:
  SourceOptions options_;
  std::vector<fs::path> files_;
  size_t next_ = 0;
  uint64_t count_ = 0;
  int width_ = 0, height_ = 0;
};

}  // namespace

std::unique_ptr<FrameSource> make_frame_source(const SourceOptions& options, const std::atomic<bool>* abort_flag) {
  switch (classify_source(options.source)) {
    case SourceKind::kImageFolder: return std::make_unique<ImageFolderSource>(options);
    case SourceKind::kStream:
    case SourceKind::kDevice: return std::make_unique<VideoSource>(options, abort_flag, true);
    case SourceKind::kVideoFile: break;
  }
  return std::make_unique<VideoSource>(options, abort_flag, false);
}

// ---- CaptureThread ---------------------------------------------------------------------------------

CaptureThread::CaptureThread(std::string camera_id, SourceOptions options, FrameRing<CapturedFrame>& ring)
    : camera_id_(std::move(camera_id)), options_(std::move(options)), ring_(ring) {
  // Here, not in the thread: start-up code may throw, the capture thread may not.
  if (options_.video_format != media::PixelFormat::kBGR8 && options_.video_format != media::PixelFormat::kNV12)
    throw Error("camera '" + camera_id_ + "': video sources capture bgr8 or nv12, not " +
                media::pixel_format_name(options_.video_format));
}

CaptureThread::~CaptureThread() { stop(); }

void CaptureThread::start() { thread_ = std::thread([this] { run(); }); }

void CaptureThread::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

SourceState CaptureThread::state(uint64_t now_ns, uint64_t stall_ns) const {
  const auto s = static_cast<SourceState>(stats_.state.load(std::memory_order_relaxed));
  if (s == SourceState::kLive) {
    const uint64_t last = stats_.last_frame_ns.load(std::memory_order_relaxed);
    if (last != 0 && now_ns > last + stall_ns) return SourceState::kStalled;
  }
  return s;
}

std::string CaptureThread::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

bool CaptureThread::wait_first_attempt(int timeout_ms) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return attempts_done_ > 0 || stopping_.load(); });
  return attempts_done_ > 0 && last_error_.empty();
}

bool CaptureThread::sleep_until(uint64_t deadline_ns) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_.load()) return false;
    const uint64_t now = monotonic_now_ns();
    if (now >= deadline_ns) return true;
    wake_.wait_for(lock, std::chrono::nanoseconds(deadline_ns - now));
  }
}

void CaptureThread::run() {
  std::unique_ptr<FrameSource> source = make_frame_source(options_, &stopping_);
  uint64_t sequence = 0;
  int backoff_ms = options_.backoff_initial_ms;
  bool first_attempt_done = false;  // "connecting" until the first open attempt ends, then "reconnecting"
  const uint64_t cap_interval_ns =
      options_.fps_cap > 0 ? static_cast<uint64_t>(1e9 / options_.fps_cap) : 0;
  uint64_t last_push_ns = 0;
  const uint64_t start_ns = monotonic_now_ns();

  while (!stopping_.load()) {
    // ---- (re)open, with capped exponential backoff between failures.
    set_state(first_attempt_done ? SourceState::kReconnecting : SourceState::kConnecting);
    try {
      source->open();
      {
        std::lock_guard lock(mutex_);
        last_error_.clear();
        ++attempts_done_;
      }
      wake_.notify_all();
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(mutex_);
        last_error_ = e.what();
        ++attempts_done_;
      }
      wake_.notify_all();
      first_attempt_done = true;
      set_state(SourceState::kReconnecting);
      if (stopping_.load()) break;
      if (!sleep_until(monotonic_now_ns() + static_cast<uint64_t>(backoff_ms) * 1'000'000ull)) break;
      backoff_ms = std::min(backoff_ms * 2, options_.backoff_max_ms);
      stats_.reconnects.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    first_attempt_done = true;
    stats_.width.store(source->width(), std::memory_order_relaxed);
    stats_.height.store(source->height(), std::memory_order_relaxed);
    stats_.nominal_fps_milli.store(static_cast<uint64_t>(source->nominal_fps() * 1000), std::memory_order_relaxed);
    set_state(SourceState::kLive);

    // Pacing: media time t is due at pace_origin + t (a file or folder plays at its own rate).
    const bool paced = options_.realtime && !source->is_live();
    uint64_t pace_origin_ns = 0;
    bool pace_started = false;
    int consecutive_errors = 0;

    // ---- read loop: the per-frame path (no allocation once frame sizes are stable).
    while (!stopping_.load()) {
      // A file read as fast as possible goes at the pipeline's pace: wait for a free slot instead of
      // decoding frames only to drop them (which would also fill the ring with stale frames).
      if (!paced && !source->is_live()) {
        if (!ring_.wait_for_space(std::chrono::milliseconds(100), 2)) continue;
      }
      CapturedFrame& frame = ring_.staging();
      double media_time = 0;
      Status st = source->read(frame.image, media_time);
      if (st.code() == StatusCode::kOutOfRange && !source->is_live() && options_.loop) {
        st = source->rewind();
        if (st.is_ok()) continue;
      }
      if (!st.is_ok()) {
        if (st.code() == StatusCode::kInvalidArgument && ++consecutive_errors < 8) continue;  // one bad image
        if (st.code() == StatusCode::kOutOfRange && !source->is_live()) {
          set_state(SourceState::kStopped);  // a file played once (loop = false): done
          source->close();
          return;
        }
        break;  // lost: reconnect
      }
      consecutive_errors = 0;
      backoff_ms = options_.backoff_initial_ms;
      if (paced) {
        const uint64_t media_ns = static_cast<uint64_t>(media_time * 1e9);
        if (!pace_started) {
          pace_origin_ns = monotonic_now_ns() - media_ns;
          pace_started = true;
        }
        if (!sleep_until(pace_origin_ns + media_ns)) break;
      }
      const uint64_t now = monotonic_now_ns();
      // Live sources restart their timestamps on reconnect; the pipeline wants one increasing clock.
      if (source->is_live()) media_time = static_cast<double>(now - start_ns) / 1e9;
      if (cap_interval_ns && last_push_ns && now - last_push_ns < cap_interval_ns) {
        stats_.skipped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      last_push_ns = now;
      frame.sequence = ++sequence;
      frame.capture_ns = now;
      frame.media_time_s = media_time;
      ring_.push();
      stats_.frames.fetch_add(1, std::memory_order_relaxed);
      stats_.heap_allocations.store(t_heap_allocations, std::memory_order_relaxed);
      stats_.last_frame_ns.store(now, std::memory_order_relaxed);
      if (static_cast<SourceState>(stats_.state.load(std::memory_order_relaxed)) != SourceState::kLive)
        set_state(SourceState::kLive);
    }
    source->close();
    if (stopping_.load()) break;
    {
      std::lock_guard lock(mutex_);
      last_error_ = "stream lost";
    }
    stats_.reconnects.fetch_add(1, std::memory_order_relaxed);
    set_state(SourceState::kReconnecting);
    if (!sleep_until(monotonic_now_ns() + static_cast<uint64_t>(backoff_ms) * 1'000'000ull)) break;
    backoff_ms = std::min(backoff_ms * 2, options_.backoff_max_ms);
  }
  set_state(SourceState::kStopped);
}

}  // namespace facepipe::runtime
