// Shared-memory latency (iceperf style): a writer publishes a full slot — 10 faces and a 960x540 BGR
// preview — every --period-us; a reader with its own mapping (as another process would have) spins
// on read_latest. Reports, in microseconds, median / p99 / max of
//   publish->read   from the start of publish() to the reader holding a complete copy
//   publish         the writer's publish() call (copying ~1.6 MB into the slot)
//   read            the reader's read_latest() call that returned the frame (copy out + checks)
// and, for scale, a plain memcpy of the same bytes.
//   facepipe_ipc_latency [--frames N] [--period-us P] [--faces F] [--no-preview]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ipc/shm_reader.h"
#include "ipc/shm_writer.h"

using namespace facepipe;

namespace {

struct Summary {
  double median = 0, p99 = 0, max = 0;
};
Summary summarize(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)], v.back()};
}
void print(const char* what, const std::vector<double>& us) {
  const Summary s = summarize(us);
  std::printf("%-16s n=%-6zu median %8.1f us   p99 %8.1f us   max %8.1f us\n", what, us.size(), s.median, s.p99, s.max);
}

}  // namespace

int main(int argc, char** argv) {
  int frames = 2000, period_us = 2000, faces_n = 10;
  bool preview_on = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--frames" && i + 1 < argc) frames = std::atoi(argv[++i]);
    else if (a == "--period-us" && i + 1 < argc) period_us = std::atoi(argv[++i]);
    else if (a == "--faces" && i + 1 < argc) faces_n = std::atoi(argv[++i]);
    else if (a == "--no-preview") preview_on = false;
    else {
      std::fprintf(stderr, "usage: %s [--frames N] [--period-us P] [--faces F] [--no-preview]\n", argv[0]);
      return 2;
    }
  }
  try {
    ipc::WriterOptions o;
    o.instance = "bench-" + std::to_string(::getpid());
    o.camera = "cam0";
    o.max_faces = static_cast<uint32_t>(std::max(faces_n, 1));
    ipc::ShmWriter writer = ipc::ShmWriter::create(o);

    std::vector<face::FaceResult> faces(static_cast<size_t>(faces_n));
    for (size_t i = 0; i < faces.size(); ++i) {
      faces[i].id = static_cast<int>(i);
      faces[i].num_landmarks = face::kNumLandmarks;
      for (auto& l : faces[i].landmarks) l = {float(i), 2.f, 3.f};
    }
    std::vector<uint8_t> pixels(960 * 540 * 3, 77);
    const media::ConstImageView preview{pixels.data(), 960, 540, 960 * 3, media::PixelFormat::kBGR8};

    std::atomic<bool> stop{false};
    std::vector<double> latency_us, read_us;
    latency_us.reserve(static_cast<size_t>(frames));
    read_us.reserve(static_cast<size_t>(frames));
    std::thread reader_thread([&] {
      ipc::ShmReader reader(o.instance, o.camera);
      ipc::Frame frame;
      while (!stop.load(std::memory_order_relaxed)) {
        const uint64_t t0 = ipc::monotonic_ns();
        if (reader.read_latest(frame) == ipc::ReadStatus::kFrame) {
          const uint64_t t1 = ipc::monotonic_ns();
          latency_us.push_back(static_cast<double>(t1 - frame.info().publish_ns) * 1e-3);
          read_us.push_back(static_cast<double>(t1 - t0) * 1e-3);
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));

    std::vector<double> publish_us;
    const auto start = std::chrono::steady_clock::now();
    for (int n = 1; n <= frames; ++n) {
      const uint64_t t0 = ipc::monotonic_ns();
      const Status s = writer.publish({static_cast<uint64_t>(n), t0, 1920, 1080}, faces,
                                      preview_on ? preview : media::ConstImageView{});
      publish_us.push_back(static_cast<double>(ipc::monotonic_ns() - t0) * 1e-3);
      if (!s) throw Error(s.message());
      std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<int64_t>(period_us) * n));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop = true;
    reader_thread.join();

    // Plain memcpy of one slot's payload, for scale.
    const size_t bytes = faces.size() * sizeof(fp_shm_face) + (preview_on ? pixels.size() : 0);
    std::vector<uint8_t> a(bytes, 1), b(bytes);
    std::vector<double> memcpy_us;
    for (int i = 0; i < 200; ++i) {
      const uint64_t t0 = ipc::monotonic_ns();
      std::memcpy(b.data(), a.data(), bytes);
      memcpy_us.push_back(static_cast<double>(ipc::monotonic_ns() - t0) * 1e-3);
      a[static_cast<size_t>(i)] = b[bytes - 1 - static_cast<size_t>(i)];
    }

    std::printf("ipc latency: %d frames, one every %d us, %d faces%s, slot payload %.2f MB\n", frames, period_us,
                faces_n, preview_on ? " + 960x540 BGR preview" : "", static_cast<double>(bytes) / 1e6);
    print("publish->read", latency_us);
    print("publish", publish_us);
    print("read", read_us);
    print("memcpy (scale)", memcpy_us);
    std::printf("frames received %zu of %d\n", latency_us.size(), frames);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facepipe_ipc_latency: %s\n", e.what());
    return 1;
  }
  return 0;
}
