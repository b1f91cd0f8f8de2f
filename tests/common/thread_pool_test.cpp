#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "common/thread_pool.h"

namespace facepipe {
namespace {

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t count : {0, 1, 7, 1000, 4097}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
      pool.parallel_for(count, 3, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
      });
      for (int64_t i = 0; i < count; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << threads << " " << count;
    }
  }
}

TEST(ThreadPool, ManyConsecutiveJobs) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int job = 0; job < 2000; ++job) {
    pool.parallel_for(64, 1, [&](int64_t begin, int64_t end) { sum.fetch_add(end - begin); });
  }
  EXPECT_EQ(sum.load(), 2000 * 64);
}

}  // namespace
}  // namespace facepipe

namespace facepipe {
namespace {

// Workers fall asleep between sparse jobs (no spinning) and must still be woken for each.
TEST(ThreadPool, JobsAfterWorkersSleep) {
  for (int spin_us : {0, 50}) {
    ThreadPool pool(3, spin_us);
    std::atomic<int64_t> sum{0};
    for (int job = 0; job < 20; ++job) {
      std::this_thread::sleep_for(std::chrono::microseconds(job % 2 ? 300 : 1));
      pool.parallel_for(100, 1, [&](int64_t begin, int64_t end) { sum.fetch_add(end - begin); });
    }
    EXPECT_EQ(sum.load(), 20 * 100) << spin_us;
  }
}

TEST(ThreadPool, NestedCallsRunSerially) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  pool.parallel_for(8, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      pool.parallel_for(10, 1, [&](int64_t b, int64_t e) { sum.fetch_add(e - b); });
  });
  EXPECT_EQ(sum.load(), 80);
}

}  // namespace
}  // namespace facepipe
