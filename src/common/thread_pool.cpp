#include "common/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FACEPIPE_CPU_RELAX() _mm_pause()
#else
#define FACEPIPE_CPU_RELAX() std::this_thread::yield()
#endif

namespace facepipe {

int default_thread_count() { return std::max(1u, std::thread::hardware_concurrency()); }

ThreadPool::ThreadPool(int num_threads, int spin_microseconds) : spin_microseconds_(std::max(0, spin_microseconds)) {
  const int workers = std::max(0, num_threads - 1);
  workers_.reserve(static_cast<size_t>(workers));
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks() {
  const int64_t chunks = (job_count_ + job_chunk_ - 1) / job_chunk_;
  for (;;) {
    const int64_t c = next_chunk_.fetch_add(1, std::memory_order_relaxed);
    if (c >= chunks) break;
    const int64_t begin = c * job_chunk_;
    (*job_)(begin, std::min(job_count_, begin + job_chunk_));
  }
}

bool ThreadPool::wait_for_job(uint64_t seen) {
  // Spin: check the generation often, the clock every 64 checks.
  if (spin_microseconds_ > 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_microseconds_);
    for (int i = 1;; ++i) {
      if (generation_.load(std::memory_order_acquire) != seen) return true;
      if (stop_.load(std::memory_order_relaxed)) return false;
      FACEPIPE_CPU_RELAX();
      if ((i & 63) == 0 && std::chrono::steady_clock::now() > deadline) break;
    }
  }
  // Sleep. sleepers_ is raised before the generation is re-checked under the mutex, and the
  // publisher bumps the generation before it reads sleepers_ (both seq_cst), so a job published
  // meanwhile is either seen here or followed by a notify.
  std::unique_lock lock(mutex_);
  sleepers_.fetch_add(1);
  wake_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
  sleepers_.fetch_sub(1);
  return !stop_.load();
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    if (!wait_for_job(seen)) return;
    seen = generation_.load(std::memory_order_acquire);
    run_chunks();
    if (pending_workers_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_workers_.notify_one();
  }
}

void ThreadPool::parallel_for(int64_t count, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) {
  if (count <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int threads = num_threads();
  if (threads == 1 || count <= grain || in_job_.load(std::memory_order_relaxed)) {
    fn(0, count);
    return;
  }
  // A few chunks per thread balance uneven work without much scheduling overhead.
  const int64_t target_chunks = static_cast<int64_t>(threads) * 4;
  const int64_t chunk = std::max(grain, (count + target_chunks - 1) / target_chunks);
  in_job_.store(true, std::memory_order_relaxed);
  job_ = &fn;
  job_count_ = count;
  job_chunk_ = chunk;
  next_chunk_.store(0, std::memory_order_relaxed);
  pending_workers_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1);  // seq_cst: publishes the job, ordered before the sleepers_ check
  if (sleepers_.load() > 0) {
    { std::lock_guard lock(mutex_); }
    wake_.notify_all();
  }
  run_chunks();
  // Every worker must leave the job before its fields are reused (a worker that woke late still
  // reads job_count_/job_chunk_ and finds no chunk left). Spin a little (the other chunks usually
  // end within microseconds), then block on the counter: on an oversubscribed machine a spinning
  // or yielding caller steals the time slice the late worker needs.
  for (int i = 0; i < 2048; ++i) {
    if (pending_workers_.load(std::memory_order_acquire) == 0) break;
    FACEPIPE_CPU_RELAX();
  }
  for (int pending = pending_workers_.load(std::memory_order_acquire); pending != 0;
       pending = pending_workers_.load(std::memory_order_acquire)) {
    pending_workers_.wait(pending, std::memory_order_acquire);
  }
  job_ = nullptr;
  in_job_.store(false, std::memory_order_relaxed);
}

}  // namespace facepipe
