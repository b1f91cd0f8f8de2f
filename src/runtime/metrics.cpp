#include "runtime/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/status.h"
#include "runtime/source.h"

namespace facepipe::runtime {

void LatencyHistogram::record(uint64_t latency_ns) {
  const double ms = static_cast<double>(latency_ns) / 1e6;
  size_t b = 0;
  while (b < kLatencyBucketsMs.size() && ms > kLatencyBucketsMs[b]) ++b;
  buckets[b].fetch_add(1, std::memory_order_relaxed);
  count.fetch_add(1, std::memory_order_relaxed);
  sum_us.fetch_add(latency_ns / 1000, std::memory_order_relaxed);
}

MetricsServer::MetricsServer(int port, std::function<std::string()> render) : render_(std::move(render)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw Error(std::string("metrics: socket() failed: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 8) != 0) {
    const std::string why = std::strerror(errno);
    ::close(listen_fd_);
    throw Error("metrics: cannot listen on 127.0.0.1:" + std::to_string(port) + " (" + why + ")");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

MetricsServer::~MetricsServer() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void MetricsServer::run() {
  // One connection at a time: scrapes are rare and small, and a single thread cannot be starved
  // into holding many sockets. poll() with a short timeout lets stop() end the loop promptly.
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    answer(client);
    ::close(client);
  }
}

namespace {
void send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}
}  // namespace

void MetricsServer::answer(int client) {
  // Read the request head (up to 4 KiB, 1 s at most): only its first line matters.
  char buffer[4096];
  size_t used = 0;
  for (int waited = 0; used < sizeof buffer - 1 && waited < 10;) {
    pollfd p{client, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      ++waited;
      continue;
    }
    const ssize_t n = ::recv(client, buffer + used, sizeof buffer - 1 - used, 0);
    if (n <= 0) break;
    used += static_cast<size_t>(n);
    buffer[used] = 0;
    if (std::strstr(buffer, "\r\n\r\n") || std::strstr(buffer, "\n\n")) break;
  }
  buffer[used] = 0;
  const std::string request(buffer, used);
  const bool is_get = request.rfind("GET ", 0) == 0;
  const size_t path_end = request.find(' ', 4);
  const std::string path = is_get && path_end != std::string::npos ? request.substr(4, path_end - 4) : "";
  std::string body, status;
  std::string type = "text/plain; charset=utf-8";
  if (!is_get) {
    status = "405 Method Not Allowed";
    body = "only GET /metrics\n";
  } else if (path == "/metrics" || path.rfind("/metrics?", 0) == 0) {
    status = "200 OK";
    body = render_();
    type = "text/plain; version=0.0.4; charset=utf-8";
  } else {
    status = "404 Not Found";
    body = "only GET /metrics\n";
  }
  send_all(client, "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

std::string render_prometheus(const std::string& instance, const std::vector<CameraMetrics>& cameras,
                              const std::vector<WorkerMetrics>& workers) {
  std::ostringstream m;
  auto family = [&](const char* name, const char* type, const char* help) {
    m << "# HELP facepipe_" << name << ' ' << help << "\n# TYPE facepipe_" << name << ' ' << type << '\n';
  };
  auto base = [&](const CameraMetrics& c) { return "instance=\"" + instance + "\",camera=\"" + c.id + "\""; };
  auto series = [&](const char* name, auto value_of) {
    for (const CameraMetrics& c : cameras) m << "facepipe_" << name << '{' << base(c) << "} " << value_of(c) << '\n';
  };
  family("camera_info", "gauge", "1 per camera: its worker process, GPU (-1: CPU) and source.");
  for (const CameraMetrics& c : cameras)
    m << "facepipe_camera_info{" << base(c) << ",worker=\"" << c.worker << "\",gpu=\"" << c.gpu << "\"} 1\n";
  family("camera_fps", "gauge", "Frames published per second (last second).");
  series("camera_fps", [](const CameraMetrics& c) { return c.fps_milli / 1000.0; });
  family("camera_frames_captured_total", "counter", "Frames the source delivered into the ring.");
  series("camera_frames_captured_total", [](const CameraMetrics& c) { return c.frames_captured; });
  family("camera_frames_total", "counter", "Frames processed and published.");
  series("camera_frames_total", [](const CameraMetrics& c) { return c.frames; });
  family("camera_faces_total", "counter", "Faces published, summed over frames.");
  series("camera_faces_total", [](const CameraMetrics& c) { return c.faces; });
  family("camera_faces", "gauge", "Faces in the last published frame.");
  series("camera_faces", [](const CameraMetrics& c) { return c.current_faces; });
  family("camera_drops_total", "counter", "Frames dropped because the pipeline fell behind (ring full).");
  series("camera_drops_total", [](const CameraMetrics& c) { return c.drops; });
  family("camera_skipped_total", "counter", "Frames skipped by the fps cap.");
  series("camera_skipped_total", [](const CameraMetrics& c) { return c.skipped; });
  family("camera_errors_total", "counter", "Frames the pipeline or publisher failed on.");
  series("camera_errors_total", [](const CameraMetrics& c) { return c.errors; });
  family("camera_reconnects_total", "counter", "Reconnect attempts after a failed open or a lost source.");
  series("camera_reconnects_total", [](const CameraMetrics& c) { return c.reconnects; });
  family("camera_heap_allocations_total", "counter",
         "operator new calls of the camera's capture and pipeline threads (flat after warm-up).");
  series("camera_heap_allocations_total", [](const CameraMetrics& c) { return c.heap_allocations; });
  family("camera_source_state", "gauge", "1 for the source's current state.");
  for (const CameraMetrics& c : cameras)
    for (int k = 0; k <= static_cast<int>(SourceState::kStopped); ++k)
      m << "facepipe_camera_source_state{" << base(c) << ",state=\"" << source_state_name(static_cast<SourceState>(k))
        << "\"} " << (k == c.state ? 1 : 0) << '\n';
  family("camera_latency_seconds", "histogram", "Capture to published latency.");
  for (const CameraMetrics& c : cameras) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kLatencyBucketsMs.size(); ++b) {
      cumulative += c.latency_buckets[b];
      m << "facepipe_camera_latency_seconds_bucket{" << base(c) << ",le=\"" << kLatencyBucketsMs[b] / 1000.0 << "\"} "
        << cumulative << '\n';
    }
    cumulative += c.latency_buckets[kLatencyBucketsMs.size()];
    m << "facepipe_camera_latency_seconds_bucket{" << base(c) << ",le=\"+Inf\"} " << cumulative << '\n';
    m << "facepipe_camera_latency_seconds_sum{" << base(c) << "} " << c.latency_sum_us / 1e6 << '\n';
    m << "facepipe_camera_latency_seconds_count{" << base(c) << "} " << c.latency_count << '\n';
  }
  auto worker_series = [&](const char* name, auto value_of) {
    for (const WorkerMetrics& w : workers)
      m << "facepipe_" << name << "{instance=\"" << instance << "\",worker=\"" << w.name << "\",gpu=\"" << w.gpu
        << "\"} " << value_of(w) << '\n';
  };
  family("worker_up", "gauge", "1 while the worker process runs and its heartbeat is fresh.");
  worker_series("worker_up", [](const WorkerMetrics& w) { return w.up ? 1 : 0; });
  family("worker_pid", "gauge", "Process id of the worker (0: not running).");
  worker_series("worker_pid", [](const WorkerMetrics& w) { return w.pid; });
  family("worker_restarts_total", "counter", "Times the supervisor restarted the worker (died or stuck).");
  worker_series("worker_restarts_total", [](const WorkerMetrics& w) { return w.restarts; });
  family("worker_stuck_kills_total", "counter", "Times the worker was killed because its heartbeat went stale.");
  worker_series("worker_stuck_kills_total", [](const WorkerMetrics& w) { return w.stuck_kills; });
  family("worker_restart_backoff_seconds", "gauge", "Wait before the next restart of a crash-looping worker.");
  worker_series("worker_restart_backoff_seconds", [](const WorkerMetrics& w) { return w.backoff_s; });
  return m.str();
}

}  // namespace facepipe::runtime
