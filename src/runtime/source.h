// Frame sources of `facepipe run` and the capture thread that drives one (docs/runtime.md).
//
// A FrameSource opens something (file, URL, /dev/videoN through FFmpeg's v4l2 input, a folder of
// images) and reads frames. open() is start-up-like code and throws facepipe::Error with the cause;
// read() is per frame and returns a Status (kOutOfRange at the end of a file or folder).
//
// A CaptureThread owns a source and a FrameRing: it opens the source, reads frames, paces files to
// their frame rate, stamps each frame with the monotonic capture time, and pushes it into the ring.
// On any failure it reconnects by itself with capped exponential backoff; its state is readable at
// any time from other threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "media/image.h"
#include "media/video_reader.h"
#include "runtime/frame_ring.h"

namespace facepipe::runtime {

// One captured frame as it travels through the ring: packed BGR8, or NV12 when the camera's
// pipeline reads NV12 (SourceOptions::video_format; image folders always give BGR8). Consumers look
// at image.format() and never assume packed pixels.
struct CapturedFrame {
  media::Image image;
  uint64_t sequence = 0;    // 1, 2, ... per capture thread (across reconnects)
  uint64_t capture_ns = 0;  // CLOCK_MONOTONIC when the frame left the source
  double media_time_s = 0;  // increasing per camera (pipeline timestamps)

  friend void swap(CapturedFrame& a, CapturedFrame& b) noexcept {
    using std::swap;
    swap(a.image, b.image);
    swap(a.sequence, b.sequence);
    swap(a.capture_ns, b.capture_ns);
    swap(a.media_time_s, b.media_time_s);
  }
};

enum class SourceState : int { kConnecting = 0, kLive, kStalled, kReconnecting, kStopped };
const char* source_state_name(SourceState state);

enum class SourceKind { kVideoFile, kStream, kDevice, kImageFolder };
SourceKind classify_source(const std::string& source);

struct SourceOptions {
  std::string source;
  bool loop = true;          // files and folders start again at the end
  bool realtime = true;      // pace files / folders to their frame rate; false: as fast as the consumer pops
  double fps_cap = 0;        // frames above this rate are skipped (0: none)
  double folder_fps = 10;    // pace of an image folder
  int io_timeout_ms = 3000;  // network / device: no data this long = reconnect
  int backoff_initial_ms = 100;
  int backoff_max_ms = 500;   // keeps "frames again ≤ 2 s after the stream returns"
  // What video sources (files, streams, devices) deliver: kBGR8, or kNV12 for a camera whose
  // pipeline samples NV12 itself (the CUDA pipeline: no CPU colour conversion). Image folders give
  // kBGR8 whatever this says (stills are decoded to RGB anyway; the GPU pipeline takes both).
  media::PixelFormat video_format = media::PixelFormat::kBGR8;
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual void open() = 0;  // throws facepipe::Error
  virtual void close() = 0;
  // Fills `image` (BGR8, or NV12 as SourceOptions::video_format asks of video sources) and the
  // frame's media time (seconds from the source start).
  virtual Status read(media::Image& image, double& media_time_s) = 0;
  // Back to the first frame (files, folders); kUnsupported for live sources.
  virtual Status rewind() = 0;
  virtual double nominal_fps() const = 0;  // 0: unknown
  virtual bool is_live() const = 0;        // streams and devices: never paced, never looped
  virtual int width() const = 0;
  virtual int height() const = 0;
};

// A source for `options.source`; abort_flag makes blocking I/O give up (shutdown).
std::unique_ptr<FrameSource> make_frame_source(const SourceOptions& options, const std::atomic<bool>* abort_flag);

// Counters a capture thread keeps (read from any thread).
struct CaptureStats {
  std::atomic<int> state{static_cast<int>(SourceState::kConnecting)};
  std::atomic<uint64_t> frames{0};      // pushed into the ring
  std::atomic<uint64_t> skipped{0};     // above the fps cap
  std::atomic<uint64_t> reconnects{0};  // times the source was (re)opened after a failure
  std::atomic<uint64_t> last_frame_ns{0};
  std::atomic<int> width{0}, height{0};
  std::atomic<uint64_t> nominal_fps_milli{0};
  std::atomic<uint64_t> heap_allocations{0};  // operator new calls of this thread (heap_probe.h)
};

class CaptureThread {
 public:
  CaptureThread(std::string camera_id, SourceOptions options, FrameRing<CapturedFrame>& ring);
  ~CaptureThread();  // stops and joins

  void start();
  void stop();  // returns once the thread has ended

  // kStalled is derived: live, but no frame for `stall_ms`.
  SourceState state(uint64_t now_ns, uint64_t stall_ns = 2'000'000'000) const;
  const CaptureStats& stats() const { return stats_; }
  const SourceOptions& options() const { return options_; }
  // The last open error (for messages); empty when none.
  std::string last_error() const;
  // Blocks until the first open attempt finished (true: opened) or `timeout_ms` passed.
  bool wait_first_attempt(int timeout_ms);

 private:
  void run();
  void set_state(SourceState s) { stats_.state.store(static_cast<int>(s), std::memory_order_relaxed); }
  // Sleeps until `deadline_ns` (monotonic) or stop; false when stopping.
  bool sleep_until(uint64_t deadline_ns);

  std::string camera_id_;
  SourceOptions options_;
  FrameRing<CapturedFrame>& ring_;
  CaptureStats stats_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string last_error_;
  int attempts_done_ = 0;
  std::thread thread_;
};

uint64_t monotonic_now_ns();

}  // namespace facepipe::runtime
