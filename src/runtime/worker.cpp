#include "runtime/worker.h"


#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/config.h"
#include "runtime/gpu_batcher.h"
#include "runtime/runtime.h"
#include "runtime/worker_status.h"
#if FACEPIPE_HAVE_CUDA
#include "common/cuda/cuda_resources.h"
#include "common/cuda/device_affinity.h"
#endif

namespace facepipe::runtime {
namespace {

class Worker {
 public:
  Worker(const WorkerOptions& o, WorkerStatusPage& page) : options_(o), page_(page) {
    prefix_ = "facepipe worker " + o.name + " (pid " + std::to_string(::getpid()) + "): ";
  }
  ~Worker() { stop_all(); }

  void log(const std::string& line) {
    std::fprintf(stderr, "%s%s\n", prefix_.c_str(), line.c_str());
    std::fflush(stderr);
  }

  // Applies a camera list; false when it was the first list and no camera could start.
  bool apply(const RunConfig& next, uint64_t generation) {
    page_.loading_since_ns.store(monotonic_now_ns(), std::memory_order_relaxed);
    const bool gpu_changed = generation_ > 0 && !same_settings(next.gpu, config_.gpu);
    // Stop first what is gone or changed (all at once, then join: each stop takes up to ~100 ms).
    std::vector<size_t> leaving;
    for (size_t i = 0; i < cameras_.size(); ++i) {
      const CameraConfig& have = cameras_[i].worker->config();
      bool keep = !gpu_changed && next.instance == config_.instance;
      if (keep) {
        keep = false;
        for (const CameraConfig& c : next.cameras) keep = keep || (c.id == have.id && same_settings(c, have));
      }
      if (!keep) leaving.push_back(i);
    }
    for (size_t i : leaving) cameras_[i].worker->request_stop();
    for (auto it = leaving.rbegin(); it != leaving.rend(); ++it) {
      Running& r = cameras_[*it];
      r.worker->join();
      log("camera '" + r.worker->config().id + "' stopped");
      clear_slot(r.slot);
      cameras_.erase(cameras_.begin() + static_cast<std::ptrdiff_t>(*it));
    }
    // An empty batcher goes (its GPU memory with it): the next camera makes one with its own
    // detector and the [gpu] settings then in force.
    if (batcher_ && batcher_->cameras() == 0) batcher_.reset();
    const bool first = generation_ == 0;
    config_ = next;
    generation_ = generation;
    pending_.clear();
    size_t failed = 0;
    for (const CameraConfig& c : next.cameras) {
      if (find(c.id)) continue;
      if (!start_camera(c, true)) {
        ++failed;
        pending_.push_back({c, monotonic_now_ns() + kRetryFirstNs, kRetryFirstNs});
      }
      heartbeat();  // loading is flagged, but keep the counters of running cameras moving
    }
    if (first && failed > 0 && failed == next.cameras.size()) return false;  // never reported as applied
    if (failed > 0) log(std::to_string(failed) + " camera(s) could not start: trying again in the background");
    page_.loading_since_ns.store(0, std::memory_order_relaxed);
    page_.applied_generation.store(generation, std::memory_order_release);
    return true;
  }

  // Cameras that could not start (a segment still held by a camera moving away from another
  // worker, a device that is busy, ...) are tried again with a growing pause, without a log line
  // each time.
  void retry_pending() {
    const uint64_t now = monotonic_now_ns();
    for (size_t i = 0; i < pending_.size();) {
      Pending& p = pending_[i];
      if (now < p.next_ns) {
        ++i;
        continue;
      }
      page_.loading_since_ns.store(now, std::memory_order_relaxed);
      const bool ok = start_camera(p.camera, false);
      page_.loading_since_ns.store(0, std::memory_order_relaxed);
      if (ok) {
        pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      p.pause_ns = std::min(p.pause_ns * 2, kRetryMaxNs);
      p.next_ns = monotonic_now_ns() + p.pause_ns;
      ++i;
    }
  }

  // Main-loop tick: heartbeat, counters, state-change log lines.
  void heartbeat() {
    const uint64_t now = monotonic_now_ns();
    for (Running& r : cameras_) {
      WorkerCameraSlot& s = page_.cameras[r.slot];
      const CameraWorker& w = *r.worker;
      const PipelineStats& p = w.pipeline_stats();
      const CaptureStats& c = w.capture().stats();
      constexpr auto rl = std::memory_order_relaxed;
      s.busy_since_ns.store(p.busy_since_ns.load(rl), rl);
      s.frames_captured.store(c.frames.load(rl), rl);
      s.frames.store(p.frames.load(rl), rl);
      s.faces.store(p.faces.load(rl), rl);
      s.drops.store(w.ring_counters().dropped, rl);
      s.skipped.store(c.skipped.load(rl), rl);
      s.errors.store(p.errors.load(rl), rl);
      s.reconnects.store(c.reconnects.load(rl), rl);
      s.fps_milli.store(p.fps_milli.load(rl), rl);
      s.heap_allocations.store(p.heap_allocations.load(rl) + c.heap_allocations.load(rl), rl);
      s.current_faces.store(p.current_faces.load(rl), rl);
      s.state.store(static_cast<int64_t>(w.state(now)), rl);
      for (size_t b = 0; b < p.latency.buckets.size(); ++b) s.latency_buckets[b].store(p.latency.buckets[b].load(rl), rl);
      s.latency_count.store(p.latency.count.load(rl), rl);
      s.latency_sum_us.store(p.latency.sum_us.load(rl), rl);
    }
    page_.heartbeat_ns.store(now, std::memory_order_release);
  }

  void log_state_changes() {
    const uint64_t now = monotonic_now_ns();
    for (Running& r : cameras_)
      if (std::string line = r.worker->state_change(now); !line.empty()) log(line);
  }

  void stop_all() {
    for (Running& r : cameras_) r.worker->request_stop();
    for (Running& r : cameras_) r.worker->join();  // each segment is unlinked here
    cameras_.clear();
    batcher_.reset();  // after its cameras: each left it in join()
  }

 private:
  struct Running {
    std::unique_ptr<CameraWorker> worker;
    int slot = 0;
  };
  struct Pending {
    CameraConfig camera;
    uint64_t next_ns = 0, pause_ns = 0;
  };
  static constexpr uint64_t kRetryFirstNs = 1'000'000'000, kRetryMaxNs = 30'000'000'000;

  bool start_camera(const CameraConfig& c, bool report) {
    try {
      const int slot = free_slot();
      if (slot < 0) throw Error("camera '" + c.id + "': more than " + std::to_string(kMaxCamerasPerWorker) + " cameras on one worker");
      auto w = std::make_unique<CameraWorker>(config_.instance, c, config_.gpu, options_.gpu, batcher_for(c));
      w->start();
      store_slot_id(page_.cameras[slot], c.id);
      cameras_.push_back({std::move(w), slot});
      const CameraWorker& started = *cameras_.back().worker;
      const std::string device = started.pipeline_device();
      std::string how;
      if (started.batched())
        how = " (batched CUDA face pipeline, slot " + std::to_string(started.batch_slot()) + ")";
      else if (device == "cuda")
        how = batcher_ ? " (own CUDA face pipeline: detector or max_faces differ from the batch, or its slots are taken)"
                       : " (CUDA face pipeline)";
      else
        how = " (simulated GPU: CPU face pipeline)";
      // The capture format shows whether the GPU gets the decoder's NV12 or CPU-converted BGR.
      const std::string capture = std::string(", capture ") + media::pixel_format_name(started.capture_format());
      log("camera '" + c.id + "' started (" + c.source + ")" +
          (options_.gpu >= 0 ? " on GPU " + std::to_string(options_.gpu) + how : "") + capture);
      return true;
    } catch (const std::exception& e) {
      if (report) log(std::string("error: ") + e.what());
      if (batcher_ && batcher_->cameras() == 0) batcher_.reset();  // made for this camera only
      return false;
    }
  }
  // The worker's batcher when this camera belongs in it (made by the first such camera: loads the
  // models, so start-up code that may throw); nullptr: the camera gets a pipeline of its own.
  GpuBatcher* batcher_for(const CameraConfig& c) {
    int cuda_devices = 0;
#if FACEPIPE_HAVE_CUDA
    cuda_devices = facepipe::cuda::device_count();
#endif
    if (!use_gpu_batcher(options_.gpu, cuda_devices, config_.gpu)) return nullptr;
    if (!batcher_) {
      // Slots for the cameras configured now, with room to grow by reloads (a power of two, 8 to
      // the worker's limit): every slot holds a 1080p frame buffer, YUV staging and a preview on
      // the GPU. Cameras beyond it get a pipeline of their own.
      int slots = 8;
      while (slots < static_cast<int>(config_.cameras.size()) && slots < static_cast<int>(kMaxCamerasPerWorker)) slots *= 2;
      batcher_ = std::make_unique<GpuBatcher>(make_cuda_batched_pipeline(c, config_.gpu, options_.gpu, slots), batch_key(c));
      log("GPU batcher on GPU " + std::to_string(options_.gpu) + ": " + std::to_string(batcher_->capacity()) +
          " camera slots, detector '" + c.detector + "', max_faces " + std::to_string(c.max_faces));
    }
    return batcher_->accepts(c) && batcher_->cameras() < batcher_->capacity() ? batcher_.get() : nullptr;
  }
  CameraWorker* find(const std::string& id) {
    for (Running& r : cameras_)
      if (r.worker->config().id == id) return r.worker.get();
    return nullptr;
  }
  int free_slot() {
    for (uint32_t i = 0; i < kMaxCamerasPerWorker; ++i) {
      bool used = false;
      for (const Running& r : cameras_) used = used || r.slot == static_cast<int>(i);
      if (!used) {
        if (i + 1 > page_.camera_count.load()) page_.camera_count.store(i + 1);
        return static_cast<int>(i);
      }
    }
    return -1;
  }
  void clear_slot(int slot) {
    WorkerCameraSlot& s = page_.cameras[slot];
    store_slot_id(s, "");
    s.busy_since_ns.store(0);
  }

  WorkerOptions options_;
  WorkerStatusPage& page_;
  std::string prefix_;
  RunConfig config_;
  uint64_t generation_ = 0;
  std::unique_ptr<GpuBatcher> batcher_;  // batched GPU workers only; declared before the cameras, which leave it when destroyed
  std::vector<Running> cameras_;
  std::vector<Pending> pending_;
};

// Splits "CONFIG <generation> <bytes>\n<body>" messages off the front of `buffer`.
bool take_message(std::string& buffer, uint64_t& generation, std::string& body, std::string& error) {
  const size_t eol = buffer.find('\n');
  if (eol == std::string::npos) return false;
  unsigned long long gen = 0, bytes = 0;
  if (std::sscanf(buffer.c_str(), "CONFIG %llu %llu", &gen, &bytes) != 2) {
    error = "unknown command '" + buffer.substr(0, std::min<size_t>(eol, 40)) + "'";
    buffer.clear();
    return false;
  }
  if (buffer.size() < eol + 1 + bytes) return false;
  body = buffer.substr(eol + 1, bytes);
  buffer.erase(0, eol + 1 + bytes);
  generation = gen;
  return true;
}

}  // namespace

int run_worker(const WorkerOptions& options) {
  // Stop signals arrive through a signalfd; they are blocked before any thread exists so that no
  // camera thread ever takes one.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGHUP, SIG_IGN);  // reloads go through the supervisor
  ::signal(SIGPIPE, SIG_IGN);
  // Never outlive the supervisor: SIGTERM when it dies (also if that happened before this line).
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (options.supervisor > 0 && ::getppid() != options.supervisor) return kWorkerExitStopped;
  const std::string title = "fp-" + options.name;
  ::prctl(PR_SET_NAME, title.c_str());
#if FACEPIPE_HAVE_CUDA
  // A GPU worker's threads (capture, pipelines) and their pinned buffers next to its GPU.
  if (options.gpu >= 0 && options.gpu < facepipe::cuda::device_count()) facepipe::cuda::bind_thread_to_device_cpus(options.gpu);
#endif

  WorkerStatusPage& page = *map_worker_status(options.status_fd);
  page.loading_since_ns.store(monotonic_now_ns());
  const int sfd = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) throw Error(std::string("worker: signalfd failed: ") + std::strerror(errno));
  ::fcntl(options.command_fd, F_SETFL, ::fcntl(options.command_fd, F_GETFL) | O_NONBLOCK);

  Worker worker(options, page);
  std::string buffer;
  int exit_code = kWorkerExitStopped;
  bool applied_any = false;
  for (bool running = true; running;) {
    pollfd fds[2] = {{options.command_fd, POLLIN, 0}, {sfd, POLLIN, 0}};
    ::poll(fds, 2, 50);
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(sfd, &info, sizeof info) > 0) {
        worker.log(std::string("stopping (") + strsignal(static_cast<int>(info.ssi_signo)) + ")");
        break;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      char chunk[4096];
      for (;;) {
        const ssize_t n = ::read(options.command_fd, chunk, sizeof chunk);
        if (n > 0) {
          buffer.append(chunk, static_cast<size_t>(n));
          continue;
        }
        if (n == 0) {
          worker.log("supervisor gone (command pipe closed): stopping");
          running = false;
        }
        break;
      }
      uint64_t generation = 0;
      std::string body, error;
      while (running && take_message(buffer, generation, body, error)) {
        RunConfig next;
        try {
          next = parse_run_config(body, "<camera list from the supervisor>");
        } catch (const std::exception& e) {
          worker.log(std::string("error: ") + e.what());
          continue;
        }
        const bool first = !applied_any;
        applied_any = true;
        if (!worker.apply(next, generation) && first) {
          worker.log("no camera could start");
          exit_code = kWorkerExitNothingStarted;
          running = false;
        }
      }
      if (!error.empty()) worker.log("error: " + error);
    }
    worker.retry_pending();
    worker.heartbeat();
    worker.log_state_changes();
  }
  worker.stop_all();
  ::close(sfd);
  return exit_code;
}

}  // namespace facepipe::runtime
