// A small fixed thread pool for data-parallel kernels.
//
// parallel_for splits [0, count) into contiguous chunks, runs them on the pool's workers and the
// calling thread, and returns when all are done. It allocates nothing per call, so it can be used on
// per-frame hot paths. One parallel_for at a time per pool (callers are the single thread that runs
// a plan); nested calls run serially on the calling thread.
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
  // num_threads counts the calling thread: 1 means "run everything on the caller".
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over disjoint ranges covering [0, count). Ranges are at least `grain` long
  // (except the last) so that tiny loops stay on one thread.
  void parallel_for(int64_t count, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn);

 private:
  void worker_loop(int index);
  void run_chunks();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;  // bumped per job, guarded by mutex_
  bool stop_ = false;
  int active_workers_ = 0;  // workers still inside the current job, guarded by mutex_
  bool in_job_ = false;

  // The current job (valid while a parallel_for runs).
  FunctionRef<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_count_ = 0;
  int64_t job_chunk_ = 0;
  std::atomic<int64_t> next_chunk_{0};
};

// Default thread count: the hardware concurrency (at least 1).
int default_thread_count();

}  // namespace facepipe
