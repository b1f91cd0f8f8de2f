// Per-camera counters of `facepipe run` and a tiny Prometheus text endpoint (GET /metrics on
// 127.0.0.1). Counters are relaxed atomics written by the capture and pipeline threads; the HTTP
// responder reads them when scraped, so the per-frame cost is a few atomic adds.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace facepipe::runtime {

// Capture → published latency buckets (upper bounds in milliseconds; the last is +Inf).
inline constexpr std::array<double, 10> kLatencyBucketsMs{5, 10, 20, 35, 50, 75, 100, 200, 500, 1000};

struct LatencyHistogram {
  std::array<std::atomic<uint64_t>, kLatencyBucketsMs.size() + 1> buckets{};  // non-cumulative
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> sum_us{0};
  void record(uint64_t latency_ns);
};

struct PipelineStats {
  std::atomic<uint64_t> frames{0};          // published
  std::atomic<uint64_t> faces{0};           // summed over published frames
  std::atomic<uint64_t> errors{0};          // process_frame / publish failures
  std::atomic<uint64_t> fps_milli{0};       // published frames per second (1 s window)
  std::atomic<int> current_faces{0};
  // CLOCK_MONOTONIC when the pipeline thread took the frame it is working on (0: waiting for one):
  // a frame in flight for too long means the thread is stuck (the supervisor restarts the worker).
  std::atomic<uint64_t> busy_since_ns{0};
  std::atomic<uint64_t> heap_allocations{0};  // operator new calls of the pipeline thread (heap_probe.h)
  LatencyHistogram latency;
};

// Plain numbers of one camera for rendering (the supervisor reads them from its workers).
struct CameraMetrics {
  std::string id;
  std::string source;
  std::string worker;  // "cpu", "gpu0", ...
  int gpu = -1;
  uint64_t frames_captured = 0, frames = 0, faces = 0, drops = 0, skipped = 0, errors = 0, reconnects = 0;
  uint64_t fps_milli = 0;
  uint64_t heap_allocations = 0;  // capture + pipeline threads
  int64_t current_faces = 0;
  int state = 0;  // SourceState
  std::array<uint64_t, kLatencyBucketsMs.size() + 1> latency_buckets{};  // non-cumulative
  uint64_t latency_count = 0, latency_sum_us = 0;
};

struct WorkerMetrics {
  std::string name;
  int gpu = -1;
  bool up = false;
  int64_t pid = 0;
  uint64_t restarts = 0;
  uint64_t stuck_kills = 0;
  double backoff_s = 0;  // wait before the next restart (crash loop)
};

// Prometheus text exposition: per camera (labels instance, camera), facepipe_camera_info with the
// camera's worker and GPU, and per worker (label worker) up, pid, restarts.
std::string render_prometheus(const std::string& instance, const std::vector<CameraMetrics>& cameras,
                              const std::vector<WorkerMetrics>& workers);

// Serves `render()` at GET /metrics on 127.0.0.1:port from its own thread. Start-up throws
// facepipe::Error when the port cannot be bound.
class MetricsServer {
 public:
  MetricsServer(int port, std::function<std::string()> render);
  ~MetricsServer();  // stops and joins
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const { return port_; }

 private:
  void run();
  void answer(int client);
  int listen_fd_ = -1;
  int port_ = 0;
  std::function<std::string()> render_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace facepipe::runtime
