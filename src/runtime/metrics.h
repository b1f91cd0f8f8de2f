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
  LatencyHistogram latency;
};

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
