// A small fixed thread pool for data-parallel kernels.
//
// parallel_for splits [0, count) into contiguous chunks, runs them on the pool's workers and the
// calling thread, and returns when all are done. It allocates nothing per call, so it can be used on
// per-frame hot paths. One parallel_for at a time per pool (callers are the single thread that runs
// a plan); nested calls run serially on the calling thread.
//
// Latency: a plan runs ~100 small ops back to back, so waking sleeping threads for each (a futex
// round trip, tens of microseconds on a busy VM) would cost milliseconds per frame. Idle workers
// therefore spin for a short while (spin_microseconds, default 20 us: ops of a plan follow each other within microseconds) watching for the next job
// before they block on a condition variable; the caller spins briefly, then blocks on a futex
// (std::atomic::wait) while the last chunks finish. The spins are kept short because on an
// oversubscribed machine a spinning thread burns the time slice the others need. Between frames
// the workers fall asleep and cost nothing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "common/function_ref.h"

namespace facepipe {

class ThreadPool {
 public:
  static constexpr int kDefaultSpinMicroseconds = 20;

  // num_threads counts the calling thread: 1 means "run everything on the caller".
  explicit ThreadPool(int num_threads, int spin_microseconds = kDefaultSpinMicroseconds);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over disjoint ranges covering [0, count). Ranges are at least `grain` long
  // (except the last) so that tiny loops stay on one thread.
  void parallel_for(int64_t count, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn);

 private:
  void worker_loop();
  void run_chunks();
  // Waits until generation_ differs from `seen` (spinning first); false when stopping.
  bool wait_for_job(uint64_t seen);

  std::vector<std::thread> workers_;
  const int spin_microseconds_;

  // Sleeping workers block on wake_ under mutex_; sleepers_ tells the publisher whether a
  // notify is needed at all.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};

  // The current job, published by bumping generation_ (release) and read by workers after they
  // see the new generation (acquire).
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_workers_{0};  // workers still inside the current job
  std::atomic<bool> in_job_{false};
  FunctionRef<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_count_ = 0;
  int64_t job_chunk_ = 0;
  std::atomic<int64_t> next_chunk_{0};
};

// Default thread count: the hardware concurrency (at least 1).
int default_thread_count();

}  // namespace facepipe
