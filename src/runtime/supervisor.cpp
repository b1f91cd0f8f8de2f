#include "runtime/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "common/status.h"
#include "ipc/segment_name.h"
#include "ipc/shm_layout.h"
#include "runtime/metrics.h"
#include "runtime/placement.h"
#include "runtime/source.h"
#include "runtime/worker.h"
#include "runtime/worker_status.h"

extern char** environ;

namespace facepipe::runtime {

void check_sources(const RunConfig& config) {
  for (const CameraConfig& c : config.cameras) {
    const SourceKind kind = classify_source(c.source);
    if (kind != SourceKind::kVideoFile && kind != SourceKind::kImageFolder) continue;
    std::error_code ec;
    if (!std::filesystem::exists(c.source, ec))
      throw Error("camera '" + c.id + "': source '" + c.source + "': no such file or folder");
  }
}

namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kCrashWindowNs = 10'000 * kMs;  // a worker that dies sooner counts as crash-looping

void say(const std::string& line) {
  std::fprintf(stderr, "facepipe run: %s\n", line.c_str());
  std::fflush(stderr);
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
  return "ended";
}

// Unlinks /facepipe.<instance>.<camera> when the segment was written by `pid` (a worker that died
// without closing it): a segment of another live writer is never touched.
void unlink_segment_of(const std::string& instance, const std::string& camera, pid_t pid) {
  const auto name = ipc::segment_name(instance, camera);
  if (!name) return;
  const int fd = ::shm_open(name->c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return;
  fp_shm_header header{};
  const bool read_ok = ::pread(fd, &header, sizeof header, 0) == static_cast<ssize_t>(sizeof header);
  ::close(fd);
  if (read_ok && static_cast<pid_t>(header.writer_pid) == pid) ::shm_unlink(name->c_str());
}

struct WorkerProc {
  std::string name;
  int gpu = kCpu;
  std::vector<CameraConfig> cameras;  // what it should run
  std::unique_ptr<WorkerStatusMemory> status = std::make_unique<WorkerStatusMemory>();
  pid_t pid = 0;
  int command_fd = -1;
  uint64_t generation = 0;   // last camera list sent
  uint64_t spawned_ns = 0, next_start_ns = 0, kill_sent_ns = 0;
  uint64_t restarts = 0, stuck_kills = 0;
  int failures_in_a_row = 0;
  bool initial = false;      // part of the start-up set: failing before ready is fatal
  bool ever_ready = false, ready_logged = false;
  bool retiring = false;     // removed by a reload: stop, do not restart
  std::map<std::string, CameraMetrics> carried;  // counters of earlier incarnations, by camera
};

class Supervisor {
 public:
  explicit Supervisor(const SupervisorOptions& o) : options_(o) {}

  int run();

 private:
  void start_worker(WorkerProc& w);
  void send_cameras(WorkerProc& w);
  void check_workers(uint64_t now);
  void on_exit(WorkerProc& w, int status, bool was_stuck);
  std::string stuck_reason(const WorkerProc& w, uint64_t now) const;
  void reload();
  void apply(const RunConfig& next, const std::vector<WorkerAssignment>& plan);
  void shutdown();
  std::string render();
  void set_metrics_port(int port);

  SupervisorOptions options_;
  RunConfig config_;
  int num_gpus_ = 0;
  std::mutex mutex_;  // workers_ and config_ against the metrics thread
  std::vector<std::unique_ptr<WorkerProc>> workers_;
  std::unique_ptr<MetricsServer> metrics_;
  int fatal_ = -1;  // exit code once a start-up failure is known
};

void Supervisor::start_worker(WorkerProc& w) {
  w.status->reset();
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw Error(std::string("pipe2 failed: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], 0);
  posix_spawn_file_actions_adddup2(&actions, w.status->fd(), kWorkerStatusFd);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  // Its own process group: a terminal's Ctrl-C reaches only the supervisor, which stops the workers
  // in order instead of racing them.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  const std::string gpu = std::to_string(w.gpu), parent = std::to_string(::getpid());
  std::vector<std::string> args = {"facepipe", "worker", "--name", w.name, "--gpu", gpu, "--supervisor", parent};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, options_.executable.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(pipe_fds[0]);
  if (rc != 0) {
    ::close(pipe_fds[1]);
    throw Error("worker " + w.name + ": cannot start " + options_.executable + ": " + std::strerror(rc));
  }
  // Never block on a worker that does not read: a full pipe is treated like a stuck worker.
  ::fcntl(pipe_fds[1], F_SETFL, O_NONBLOCK);
  w.pid = pid;
  w.command_fd = pipe_fds[1];
  w.spawned_ns = monotonic_now_ns();
  w.kill_sent_ns = 0;
  w.ready_logged = false;
  std::string ids;
  for (const auto& c : w.cameras) ids += (ids.empty() ? "" : ", ") + c.id;
  say("worker " + w.name + " started (pid " + std::to_string(pid) + "): " + ids);
  send_cameras(w);
}

void Supervisor::send_cameras(WorkerProc& w) {
  if (w.pid <= 0 || w.command_fd < 0) return;
  RunConfig part = config_;
  part.metrics_port = 0;
  part.cameras = w.cameras;
  const std::string body = format_run_config(part);
  const std::string message = "CONFIG " + std::to_string(++w.generation) + " " + std::to_string(body.size()) + "\n" + body;
  const ssize_t n = ::write(w.command_fd, message.data(), message.size());
  if (n != static_cast<ssize_t>(message.size()))
    say("worker " + w.name + ": could not send its camera list (" + (n < 0 ? std::strerror(errno) : "pipe full") +
        "): killing it");
  if (n != static_cast<ssize_t>(message.size()) && w.kill_sent_ns == 0) {
    ::kill(w.pid, SIGKILL);
    w.kill_sent_ns = monotonic_now_ns();
  }
}

std::string Supervisor::stuck_reason(const WorkerProc& w, uint64_t now) const {
  return worker_stuck_reason(w.status->page(), w.spawned_ns, now, config_.supervisor);
}

void Supervisor::on_exit(WorkerProc& w, int status, bool was_stuck) {
  const pid_t pid = w.pid;
  const uint64_t now = monotonic_now_ns();
  // Carry the dead worker's counters over, then wipe its page for the next one.
  const WorkerStatusPage& p = w.status->page();
  for (uint64_t i = 0; i < std::min<uint64_t>(p.camera_count.load(), kMaxCamerasPerWorker); ++i) {
    const WorkerCameraSlot& s = p.cameras[i];
    const std::string id = load_slot_id(s);
    if (id.empty()) continue;
    CameraMetrics& c = w.carried[id];
    c.frames_captured += s.frames_captured.load();
    c.frames += s.frames.load();
    c.faces += s.faces.load();
    c.drops += s.drops.load();
    c.skipped += s.skipped.load();
    c.errors += s.errors.load();
    c.reconnects += s.reconnects.load();
    c.heap_allocations += s.heap_allocations.load();
    for (size_t b = 0; b < c.latency_buckets.size(); ++b) c.latency_buckets[b] += s.latency_buckets[b].load();
    c.latency_count += s.latency_count.load();
    c.latency_sum_us += s.latency_sum_us.load();
  }
  w.status->reset();
  ::close(w.command_fd);
  w.command_fd = -1;
  w.pid = 0;
  // A worker that was killed cannot have unlinked its segments: readers then see a stale writer
  // until the successor creates the same names again.
  for (const CameraConfig& c : w.cameras) unlink_segment_of(config_.instance, c.id, pid);
  const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == kWorkerExitStopped;
  if (w.retiring) {
    say("worker " + w.name + " (pid " + std::to_string(pid) + ") stopped");
    return;
  }
  if (w.initial && !w.ever_ready && WIFEXITED(status) && WEXITSTATUS(status) == kWorkerExitNothingStarted) {
    say("worker " + w.name + " could not start any camera: giving up");
    fatal_ = kExitConfigError;
    return;
  }
  w.failures_in_a_row = now - w.spawned_ns < kCrashWindowNs ? w.failures_in_a_row + 1 : 1;
  // The first restart is immediate; a worker that keeps dying young waits 0.25 s, 0.5 s, ... up to
  // the cap, so a broken camera cannot make the supervisor spin.
  uint64_t delay = 0;
  if (w.failures_in_a_row >= 2) {
    delay = 250 * kMs << std::min(w.failures_in_a_row - 2, 16);
    delay = std::min<uint64_t>(delay, static_cast<uint64_t>(config_.supervisor.restart_backoff_max_ms) * kMs);
  }
  w.next_start_ns = now + delay;
  ++w.restarts;
  std::string line = "worker " + w.name + " (pid " + std::to_string(pid) + ") " +
                     (was_stuck ? "was stuck and killed" : describe_exit(status)) + (clean ? " unexpectedly" : "") +
                     ": restarting";
  if (delay) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " in %.2f s (crash loop: %d failures in a row)", delay / 1e9, w.failures_in_a_row);
    line += buf;
  } else {
    line += " now";
  }
  say(line);
}

void Supervisor::check_workers(uint64_t now) {
  for (auto& wp : workers_) {
    WorkerProc& w = *wp;
    if (w.pid > 0) {
      int status = 0;
      const pid_t r = ::waitpid(w.pid, &status, WNOHANG);
      if (r == w.pid) {
        std::lock_guard lock(mutex_);
        on_exit(w, status, w.kill_sent_ns != 0 && !w.retiring);
        continue;
      }
      if (!w.retiring && w.kill_sent_ns == 0) {
        const std::string why = stuck_reason(w, now);
        if (!why.empty()) {
          say("worker " + w.name + " (pid " + std::to_string(w.pid) + ") is stuck (" + why + "): killing it");
          ::kill(w.pid, SIGKILL);
          std::lock_guard lock(mutex_);
          w.kill_sent_ns = now;
          ++w.stuck_kills;
          continue;  // reaped on the next tick (SIGCHLD wakes the loop at once)
        }
      }
      // A worker removed by a reload that ignores SIGTERM gets SIGKILL after the stop limit.
      if (w.retiring && w.kill_sent_ns != 0 &&
          now > w.kill_sent_ns + static_cast<uint64_t>(config_.supervisor.stop_timeout_ms) * kMs) {
        say("worker " + w.name + " (pid " + std::to_string(w.pid) + ") did not stop in time: killing it");
        ::kill(w.pid, SIGKILL);
        std::lock_guard lock(mutex_);
        w.kill_sent_ns = now;  // reaped on the next tick
      }
      const WorkerStatusPage& p = w.status->page();
      if (!w.ready_logged && p.applied_generation.load(std::memory_order_acquire) == w.generation &&
          p.loading_since_ns.load() == 0 && w.generation > 0) {
        w.ready_logged = true;
        w.ever_ready = true;
        say("worker " + w.name + " (pid " + std::to_string(w.pid) + ") ready in " +
            std::to_string((now - w.spawned_ns) / kMs) + " ms");
      }
    } else if (!w.retiring && fatal_ < 0 && now >= w.next_start_ns) {
      std::lock_guard lock(mutex_);
      start_worker(w);
    }
  }
  std::lock_guard lock(mutex_);
  std::erase_if(workers_, [](const auto& w) { return w->retiring && w->pid == 0; });
}

void Supervisor::apply(const RunConfig& next, const std::vector<WorkerAssignment>& plan) {
  std::lock_guard lock(mutex_);
  const bool first = workers_.empty();
  config_ = next;
  for (const WorkerAssignment& a : plan) {
    auto it = std::find_if(workers_.begin(), workers_.end(), [&](const auto& w) { return w->name == a.name && !w->retiring; });
    if (it == workers_.end()) {
      auto w = std::make_unique<WorkerProc>();
      w->name = a.name;
      w->gpu = a.gpu;
      w->cameras = a.cameras;
      w->initial = first;
      workers_.push_back(std::move(w));  // started by check_workers
      continue;
    }
    WorkerProc& w = **it;
    w.cameras = a.cameras;
    send_cameras(w);
  }
  for (auto& w : workers_) {
    const bool planned = std::any_of(plan.begin(), plan.end(), [&](const auto& a) { return a.name == w->name; });
    if (planned || w->retiring) continue;
    w->retiring = true;
    if (w->pid > 0) {
      ::kill(w->pid, SIGTERM);
      w->kill_sent_ns = monotonic_now_ns();
    }
  }
}

void Supervisor::set_metrics_port(int port) {
  const int current = metrics_ ? metrics_->port() : 0;
  if (port == current) return;
  metrics_.reset();
  if (port > 0) metrics_ = std::make_unique<MetricsServer>(port, [this] { return render(); });
  if (port > 0) say("metrics at http://127.0.0.1:" + std::to_string(port) + "/metrics");
}

void Supervisor::reload() {
  if (!options_.reloadable) {
    say("SIGHUP: no configuration file to re-read (started without --config)");
    return;
  }
  RunConfig next;
  std::vector<WorkerAssignment> plan;
  try {
    next = options_.load_config();
    if (next.instance != config_.instance)
      throw Error(next.origin + ": 'instance' cannot change while running ('" + config_.instance + "' -> '" +
                  next.instance + "')");
    check_sources(next);
    // Cameras whose settings did not change stay in their worker, whatever their new position.
    std::vector<std::pair<std::string, int>> sticky;
    if (same_settings(next.gpu, config_.gpu))
      for (const auto& w : workers_)
        for (const CameraConfig& c : w->cameras)
          for (const CameraConfig& n : next.cameras)
            if (n.id == c.id && same_settings(n, c)) sticky.emplace_back(c.id, w->gpu);
    plan = assign_workers(next, num_gpus_, sticky);
    set_metrics_port(next.metrics_port);
  } catch (const std::exception& e) {
    say(std::string("reload failed, keeping the running configuration: ") + e.what());
    return;
  }
  std::string added, removed, changed;
  for (const CameraConfig& n : next.cameras) {
    const auto old = std::find_if(config_.cameras.begin(), config_.cameras.end(), [&](const auto& c) { return c.id == n.id; });
    if (old == config_.cameras.end()) added += " +" + n.id;
    else if (!same_settings(*old, n) || !same_settings(next.gpu, config_.gpu)) changed += " ~" + n.id;
  }
  for (const CameraConfig& c : config_.cameras)
    if (std::none_of(next.cameras.begin(), next.cameras.end(), [&](const auto& n) { return n.id == c.id; }))
      removed += " -" + c.id;
  say("reloaded " + next.origin + ":" + (added + removed + changed).append(added.empty() && removed.empty() && changed.empty() ? " no change" : ""));
  apply(next, plan);
}

std::string Supervisor::render() {
  std::lock_guard lock(mutex_);
  std::vector<CameraMetrics> cameras;
  std::vector<WorkerMetrics> workers;
  const uint64_t now = monotonic_now_ns();
  for (const auto& wp : workers_) {
    const WorkerProc& w = *wp;
    if (w.retiring) continue;
    WorkerMetrics wm;
    wm.name = w.name;
    wm.gpu = w.gpu;
    wm.pid = w.pid;
    wm.up = w.pid > 0 && w.kill_sent_ns == 0 && w.status->page().heartbeat_ns.load() != 0 && stuck_reason(w, now).empty();
    wm.restarts = w.restarts;
    wm.stuck_kills = w.stuck_kills;
    wm.backoff_s = w.pid == 0 && w.next_start_ns > now ? (w.next_start_ns - now) / 1e9 : 0;
    workers.push_back(wm);
    const WorkerStatusPage& p = w.status->page();
    const uint64_t count = std::min<uint64_t>(p.camera_count.load(), kMaxCamerasPerWorker);
    for (const CameraConfig& c : w.cameras) {
      CameraMetrics m;
      if (auto it = w.carried.find(c.id); it != w.carried.end()) m = it->second;
      m.id = c.id;
      m.source = c.source;
      m.worker = w.name;
      m.gpu = w.gpu;
      m.state = static_cast<int>(SourceState::kConnecting);
      for (uint64_t i = 0; i < count && w.pid > 0; ++i) {
        const WorkerCameraSlot& s = p.cameras[i];
        if (load_slot_id(s) != c.id) continue;
        m.frames_captured += s.frames_captured.load();
        m.frames += s.frames.load();
        m.faces += s.faces.load();
        m.drops += s.drops.load();
        m.skipped += s.skipped.load();
        m.errors += s.errors.load();
        m.reconnects += s.reconnects.load();
        m.heap_allocations += s.heap_allocations.load();
        m.fps_milli = s.fps_milli.load();
        m.current_faces = s.current_faces.load();
        m.state = static_cast<int>(s.state.load());
        for (size_t b = 0; b < m.latency_buckets.size(); ++b) m.latency_buckets[b] += s.latency_buckets[b].load();
        m.latency_count += s.latency_count.load();
        m.latency_sum_us += s.latency_sum_us.load();
        break;
      }
      cameras.push_back(std::move(m));
    }
  }
  return render_prometheus(config_.instance, cameras, workers);
}

void Supervisor::shutdown() {
  const uint64_t deadline = monotonic_now_ns() + static_cast<uint64_t>(config_.supervisor.stop_timeout_ms) * kMs;
  for (auto& w : workers_)
    if (w->pid > 0) {
      ::kill(w->pid, SIGTERM);
      ::close(w->command_fd);
      w->command_fd = -1;
    }
  for (auto& w : workers_) {
    if (w->pid <= 0) continue;
    int status = 0;
    pid_t r = 0;
    while ((r = ::waitpid(w->pid, &status, WNOHANG)) == 0 && monotonic_now_ns() < deadline) {
      const timespec pause{0, 5 * 1'000'000};
      ::nanosleep(&pause, nullptr);
    }
    if (r == 0) {
      say("worker " + w->name + " (pid " + std::to_string(w->pid) + ") did not stop in time: killing it");
      ::kill(w->pid, SIGKILL);
      ::waitpid(w->pid, &status, 0);
    } else if (r == w->pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      say("worker " + w->name + " " + describe_exit(status));
    }
    for (const CameraConfig& c : w->cameras) unlink_segment_of(config_.instance, c.id, w->pid);
    w->pid = 0;
  }
}

int Supervisor::run() {
  // Signals are taken synchronously by this thread; blocked before the metrics thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  RunConfig first;
  std::vector<WorkerAssignment> plan;
  try {
    first = options_.load_config();
    check_sources(first);
    bool simulated = false;
    num_gpus_ = available_gpus(&simulated);
    std::vector<std::string> notes;
    plan = assign_workers(first, num_gpus_, {}, &notes);
    for (const auto& n : notes) say("note: " + n);
    say("instance '" + first.instance + "', " + std::to_string(first.cameras.size()) + " camera(s) from " +
        first.origin + ", " + std::to_string(num_gpus_) + (simulated ? " simulated" : "") + " GPU(s)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facepipe run: error: %s\n", e.what());
    return kExitConfigError;
  }
  try {
    config_ = first;
    set_metrics_port(first.metrics_port);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facepipe run: error: %s\n", e.what());
    return kExitFailure;
  }
  apply(first, plan);
  for (const auto& a : plan)
    for (const auto& c : a.cameras)
      say("camera '" + c.id + "' -> worker " + a.name + ", /facepipe." + first.instance + "." + c.id + " (" + c.source + ")");

  const uint64_t started = monotonic_now_ns();
  int exit_code = kExitStopped;
  std::string why = "time limit";
  try {
    for (;;) {
      const timespec tick{0, 20 * 1'000'000};
      const int s = sigtimedwait(&signals, nullptr, &tick);
      if (s == SIGINT || s == SIGTERM) {
        why = strsignal(s);
        break;
      }
      if (s == SIGHUP) reload();
      check_workers(monotonic_now_ns());
      if (fatal_ >= 0) {
        exit_code = fatal_;
        why = "start-up failure";
        break;
      }
      if (options_.seconds > 0 && monotonic_now_ns() - started >= static_cast<uint64_t>(options_.seconds * 1e9)) break;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facepipe run: error: %s\n", e.what());
    exit_code = kExitFailure;
    why = "failure";
  }
  const uint64_t stop_begin = monotonic_now_ns();
  metrics_.reset();
  shutdown();
  char buf[128];
  std::snprintf(buf, sizeof buf, "stopped (%s) in %.0f ms", why.c_str(), (monotonic_now_ns() - stop_begin) / 1e6);
  say(buf);
  return exit_code;
}

}  // namespace

int run_supervisor(const SupervisorOptions& options) {
  Supervisor supervisor(options);
  return supervisor.run();
}

}  // namespace facepipe::runtime
