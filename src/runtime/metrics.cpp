#include "runtime/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/status.h"

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

}  // namespace facepipe::runtime
