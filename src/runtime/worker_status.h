// The status page a worker process shares with its supervisor: heartbeat, progress and per-camera
// counters (docs/runtime.md, "Heartbeat").
//
// The supervisor creates it as an anonymous memfd (it has no name, so nothing can be left in
// /dev/shm whoever dies) and hands it to the worker as file descriptor 3. The worker writes, the
// supervisor only reads. As in the shared-memory outputs (docs/ipc.md) every shared field is an
// atomic of at most 64 bits, so a worker killed in the middle of an update leaves nothing torn.
// The supervisor keeps its mapping after the worker died, which lets it carry the counters over to
// the worker's successor (counters never go backwards across restarts).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/config.h"
#include "runtime/metrics.h"

namespace facepipe::runtime {

inline constexpr int kWorkerStatusFd = 3;
inline constexpr uint32_t kMaxCamerasPerWorker = 64;
inline constexpr uint64_t kWorkerStatusMagic = 0x31544154534B5746ull;  // "FWKSTAT1"

// One camera's numbers, copied from its CameraWorker by the worker's main loop every tick.
struct WorkerCameraSlot {
  std::atomic<uint64_t> id_words[8];      // camera id, NUL-padded (64 bytes); all zero: free slot
  std::atomic<uint64_t> busy_since_ns;    // CLOCK_MONOTONIC when the frame in flight was taken (0: idle)
  std::atomic<uint64_t> frames_captured, frames, faces, drops, skipped, errors, reconnects, fps_milli;
  std::atomic<uint64_t> heap_allocations;
  std::atomic<int64_t> current_faces, state;  // state: SourceState
  std::atomic<uint64_t> latency_buckets[kLatencyBucketsMs.size() + 1];
  std::atomic<uint64_t> latency_count, latency_sum_us;
};

struct WorkerStatusPage {
  std::atomic<uint64_t> magic;               // written by the worker once it has mapped the page
  std::atomic<int64_t> pid;
  std::atomic<uint64_t> heartbeat_ns;        // main loop tick (CLOCK_MONOTONIC)
  std::atomic<uint64_t> loading_since_ns;    // opening cameras / loading models since (0: not loading)
  std::atomic<uint64_t> applied_generation;  // last camera list fully applied
  std::atomic<uint64_t> camera_count;        // slots [0, camera_count) may be in use
  WorkerCameraSlot cameras[kMaxCamerasPerWorker];
};
static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<int64_t>::is_always_lock_free,
              "status page fields must be lock-free to be shared between processes");

void store_slot_id(WorkerCameraSlot& slot, std::string_view id);
std::string load_slot_id(const WorkerCameraSlot& slot);

// The supervisor's side: a zero-filled memfd mapped read-write (reset() zeroes it for a new worker).
class WorkerStatusMemory {
 public:
  WorkerStatusMemory();  // throws facepipe::Error
  ~WorkerStatusMemory();
  WorkerStatusMemory(const WorkerStatusMemory&) = delete;
  WorkerStatusMemory& operator=(const WorkerStatusMemory&) = delete;
  int fd() const { return fd_; }
  WorkerStatusPage& page() { return *page_; }
  const WorkerStatusPage& page() const { return *page_; }
  void reset();

 private:
  int fd_ = -1;
  WorkerStatusPage* page_ = nullptr;
};

// The worker's side: maps the page handed over as `fd` (throws facepipe::Error).
WorkerStatusPage* map_worker_status(int fd);

// Why the worker behind `page` counts as stuck at `now_ns` ("" when it does not): its main loop's
// heartbeat is older than the heartbeat limit, or one camera's pipeline thread has been on one frame
// that long, or it has been loading (or silent since `spawned_ns`) longer than the start-up limit.
std::string worker_stuck_reason(const WorkerStatusPage& page, uint64_t spawned_ns, uint64_t now_ns,
                                const SupervisorConfig& limits);

}  // namespace facepipe::runtime
