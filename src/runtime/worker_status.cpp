#include "runtime/worker_status.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "common/status.h"

namespace facepipe::runtime {

void store_slot_id(WorkerCameraSlot& slot, std::string_view id) {
  char bytes[sizeof slot.id_words] = {};
  std::memcpy(bytes, id.data(), std::min(id.size(), sizeof bytes - 1));
  for (size_t w = 0; w < 8; ++w) {
    uint64_t word = 0;
    std::memcpy(&word, bytes + 8 * w, 8);
    slot.id_words[w].store(word, std::memory_order_relaxed);
  }
}

std::string load_slot_id(const WorkerCameraSlot& slot) {
  char bytes[sizeof slot.id_words + 1] = {};
  for (size_t w = 0; w < 8; ++w) {
    const uint64_t word = slot.id_words[w].load(std::memory_order_relaxed);
    std::memcpy(bytes + 8 * w, &word, 8);
  }
  return std::string(bytes);
}

WorkerStatusMemory::WorkerStatusMemory() {
  const int fd = ::memfd_create("facepipe-worker-status", MFD_CLOEXEC);
  if (fd < 0) throw Error(std::string("worker status: memfd_create failed: ") + std::strerror(errno));
  // Above the numbers a worker's file actions dup2 onto (0..3): dup2 onto itself would keep CLOEXEC.
  fd_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  if (fd_ < 0) throw Error(std::string("worker status: fcntl failed: ") + std::strerror(errno));
  if (::ftruncate(fd_, sizeof(WorkerStatusPage)) != 0) {
    const int e = errno;
    ::close(fd_);
    throw Error(std::string("worker status: ftruncate failed: ") + std::strerror(e));
  }
  void* p = ::mmap(nullptr, sizeof(WorkerStatusPage), PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) {
    const int e = errno;
    ::close(fd_);
    throw Error(std::string("worker status: mmap failed: ") + std::strerror(e));
  }
  page_ = static_cast<WorkerStatusPage*>(p);  // zero-filled by ftruncate
}

WorkerStatusMemory::~WorkerStatusMemory() {
  if (page_) ::munmap(page_, sizeof(WorkerStatusPage));
  if (fd_ >= 0) ::close(fd_);
}

// Only called while no worker maps the page (the previous one has been reaped).
void WorkerStatusMemory::reset() { std::memset(static_cast<void*>(page_), 0, sizeof(WorkerStatusPage)); }

WorkerStatusPage* map_worker_status(int fd) {
  void* p = ::mmap(nullptr, sizeof(WorkerStatusPage), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    throw Error(std::string("worker: cannot map the status page (fd ") + std::to_string(fd) + "): " + std::strerror(errno));
  auto* page = static_cast<WorkerStatusPage*>(p);
  page->pid.store(::getpid(), std::memory_order_relaxed);
  page->magic.store(kWorkerStatusMagic, std::memory_order_release);
  return page;
}

std::string worker_stuck_reason(const WorkerStatusPage& p, uint64_t spawned_ns, uint64_t now_ns,
                                const SupervisorConfig& limits) {
  constexpr uint64_t kMs = 1'000'000;
  const uint64_t heartbeat_limit = static_cast<uint64_t>(limits.heartbeat_timeout_ms) * kMs;
  const uint64_t startup_limit = static_cast<uint64_t>(limits.startup_timeout_ms) * kMs;
  const uint64_t loading = p.loading_since_ns.load(std::memory_order_relaxed);
  const uint64_t beat = p.heartbeat_ns.load(std::memory_order_acquire);
  // Opening cameras and loading models block the main loop for seconds: the start-up limit applies.
  if (loading != 0) return now_ns > loading + startup_limit ? "still loading after the start-up limit" : "";
  if (beat == 0) return now_ns > spawned_ns + startup_limit ? "no heartbeat within the start-up limit" : "";
  if (now_ns > beat + heartbeat_limit) return "heartbeat " + std::to_string((now_ns - beat) / kMs) + " ms old";
  const uint64_t count = std::min<uint64_t>(p.camera_count.load(), kMaxCamerasPerWorker);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t busy = p.cameras[i].busy_since_ns.load(std::memory_order_relaxed);
    // The copy is at most one tick old, so compare with the heartbeat that carried it: a pipeline
    // thread that stays on one frame longer than the limit is as stuck as a silent main loop.
    if (busy != 0 && beat > busy + heartbeat_limit)
      return "camera '" + load_slot_id(p.cameras[i]) + "': one frame in the pipeline for " +
             std::to_string((beat - busy) / kMs) + " ms";
  }
  return "";
}

}  // namespace facepipe::runtime
