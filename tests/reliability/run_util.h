// Helpers for the tests that run `facepipe run` as a real process: files, ports, HTTP scrapes of
// the metrics endpoint, following a camera's frames in shared memory.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "ipc/process_util.h"
#include "ipc/shm_reader.h"
#include "support/test_support.h"

namespace facepipe::test {

namespace fs = std::filesystem;

inline fs::path sample_video() { return testdata_dir() / "video" / "talking_man_glasses_720x1280.mp4"; }

inline std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

inline fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / (std::to_string(::getpid()) + "-" + name);
}

// A port unlikely to clash between parallel test runs.
inline int pick_port(int salt) { return 20000 + (::getpid() * 7 + salt * 131) % 30000; }

// GET path from 127.0.0.1:port; "" when nothing answers.
inline std::string http_get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buf[8192];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return response;
}

// The value of one sample line "name{labels} value" in a Prometheus text page (-1: absent).
inline double metric(const std::string& page, const std::string& series) {
  const size_t at = page.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(page.substr(at + series.size() + 2));
}

// Reads frames until `count` frames with a face came or `timeout` passed; records ids per frame.
struct Observed {
  int frames = 0;
  int frames_with_face = 0;
  std::map<int32_t, int> ids;
  uint32_t landmarks = 0;
  int preview_w = 0, preview_h = 0;
};
inline Observed observe(ipc::ShmReader& reader, int count, std::chrono::milliseconds timeout) {
  Observed o;
  ipc::Frame frame;
  wait_until(
      [&] {
        while (reader.read_next(frame) == ipc::ReadStatus::kFrame) {
          ++o.frames;
          if (!frame.faces().empty()) {
            ++o.frames_with_face;
            o.ids[frame.faces()[0].id]++;
            o.landmarks = frame.faces()[0].num_landmarks;
          }
          o.preview_w = frame.preview().width;
          o.preview_h = frame.preview().height;
        }
        return o.frames_with_face >= count;
      },
      timeout);
  return o;
}

}  // namespace facepipe::test
