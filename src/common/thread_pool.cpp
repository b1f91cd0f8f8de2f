#include "common/thread_pool.h"

#include <algorithm>

namespace facepipe {

int default_thread_count() { return std::max(1u, std::thread::hardware_concurrency()); }

ThreadPool::ThreadPool(int num_threads) {
  const int workers = std::max(0, num_threads - 1);
  workers_.reserve(static_cast<size_t>(workers));
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
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

void ThreadPool::worker_loop(int /*index*/) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    run_chunks();
    {
      std::lock_guard lock(mutex_);
      if (--active_workers_ == 0) done_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(int64_t count, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) {
  if (count <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int threads = num_threads();
  if (threads == 1 || count <= grain || in_job_) {
    fn(0, count);
    return;
  }
  // A few chunks per thread balance uneven work without much scheduling overhead.
  const int64_t target_chunks = static_cast<int64_t>(threads) * 4;
  const int64_t chunk = std::max(grain, (count + target_chunks - 1) / target_chunks);
  {
    std::lock_guard lock(mutex_);
    in_job_ = true;
    job_ = &fn;
    job_count_ = count;
    job_chunk_ = chunk;
    next_chunk_.store(0, std::memory_order_relaxed);
    active_workers_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  run_chunks();
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return active_workers_ == 0; });
  in_job_ = false;
  job_ = nullptr;
}

}  // namespace facepipe
