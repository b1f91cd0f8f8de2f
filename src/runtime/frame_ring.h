// A fixed ring of preallocated frames between one capture thread (producer) and one pipeline thread
// (consumer). "Latest frame wins": when the ring is full the writer overwrites the oldest frame and
// counts a drop, so a slow pipeline never blocks capture and never sees stale frames pile up.
// (Producers that would rather wait, files read as fast as possible, use wait_for_space first.)
//
// Ownership moves by swapping, never by copying pixels: the writer fills its private `staging()`
// frame, push() swaps it into the ring (getting an old buffer back in exchange), and pop() swaps the
// oldest frame with the caller's. Every buffer keeps its storage, so after each of the
// capacity + 2 frames has seen the largest image size nothing is allocated (media::Image::reset
// reuses storage).
//
// Why a tiny mutex rather than a lock-free queue: the critical sections are a few pointer swaps
// (tens of nanoseconds) at camera rates (≤ 60 Hz per ring), so contention is negligible, and
// drop-oldest in a lock-free SPSC queue needs the producer to take slots back from the consumer
// (iceoryx's "safely overflowing" queue), which is subtle to get right for no measurable gain here.
// The condition variable lets the consumer sleep instead of polling.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

#include "common/status.h"

namespace facepipe::runtime {

struct RingCounters {
  uint64_t pushed = 0;
  uint64_t dropped = 0;  // overwritten before the consumer took them
  uint64_t popped = 0;
};

// Wakes one consumer that takes frames from many rings (the GPU batcher, gpu_batcher.h): every
// push() of a ring attached to it rings it. The counter makes waiting race-free: read count()
// before looking at the rings, then wait_past(count) returns at once if a frame came meanwhile.
class Doorbell {
 public:
  void ring() {
    {
      std::lock_guard lock(mutex_);
      ++rings_;
    }
    cv_.notify_one();
  }
  uint64_t count() const {
    std::lock_guard lock(mutex_);
    return rings_;
  }
  // Waits until the count moved past `seen` or `timeout` passed; true when it moved.
  template <typename Rep, typename Period>
  bool wait_past(uint64_t seen, std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return rings_ != seen; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t rings_ = 0;
};

template <typename Frame>
class FrameRing {
 public:
  // `capacity` must be a power of two >= 2 (throws facepipe::Error otherwise).
  explicit FrameRing(size_t capacity = 32) : slots_(capacity), mask_(capacity - 1) {
    if (capacity < 2 || (capacity & (capacity - 1)) != 0)
      throw Error("frame ring capacity must be a power of two >= 2, got " + std::to_string(capacity));
  }
  FrameRing(const FrameRing&) = delete;
  FrameRing& operator=(const FrameRing&) = delete;

  size_t capacity() const { return slots_.size(); }

  // The producer's frame to fill before push(). Only the producer thread may touch it.
  Frame& staging() { return staging_; }

  // Publishes staging() (which afterwards holds a recycled frame with unspecified contents).
  // Never blocks for long; returns true when the oldest frame had to be dropped.
  bool push() {
    bool dropped = false;
    {
      std::lock_guard lock(mutex_);
      if (tail_ - head_ == slots_.size()) {  // full: the oldest frame goes
        ++head_;
        ++counters_.dropped;
        dropped = true;
      }
      using std::swap;
      swap(slots_[tail_ & mask_], staging_);
      ++tail_;
      ++counters_.pushed;
    }
    ready_.notify_one();
    if (Doorbell* bell = doorbell_.load(std::memory_order_acquire)) bell->ring();
    return dropped;
  }

  // A consumer serving many rings attaches its doorbell (nullptr detaches). Detach only once the
  // producer can no longer push (its thread joined), or the doorbell must outlive the ring.
  void set_doorbell(Doorbell* bell) { doorbell_.store(bell, std::memory_order_release); }

  // Non-blocking: takes the newest frame into `out` (swapping buffers); the older ones waiting are
  // skipped and counted as dropped, exactly as if the ring had overflowed. For a consumer slower
  // than the camera that must not fall behind it (the GPU batcher). False when the ring is empty.
  bool pop_latest(Frame& out) {
    {
      std::lock_guard lock(mutex_);
      if (tail_ == head_) return false;
      const uint64_t skipped = tail_ - head_ - 1;
      head_ += skipped;
      counters_.dropped += skipped;
      using std::swap;
      swap(slots_[head_ & mask_], out);
      ++head_;
      ++counters_.popped;
    }
    space_.notify_one();
    return true;
  }

  // Takes the oldest frame into `out` (swapping buffers). Waits up to `timeout`; false when none came
  // or close() was called.
  template <typename Rep, typename Period>
  bool pop(Frame& out, std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_for(lock, timeout, [&] { return tail_ != head_ || closed_; })) return false;
    if (tail_ == head_) return false;
    using std::swap;
    swap(slots_[head_ & mask_], out);
    ++head_;
    ++counters_.popped;
    lock.unlock();
    space_.notify_one();
    return true;
  }

  // For producers that prefer back-pressure to drops (files read as fast as the pipeline goes):
  // waits until fewer than `max_queued` frames (at most capacity) wait in the ring. A small
  // max_queued keeps capture-to-publish latency at a frame or two instead of a full ring.
  // False on timeout or close().
  template <typename Rep, typename Period>
  bool wait_for_space(std::chrono::duration<Rep, Period> timeout, size_t max_queued = std::numeric_limits<size_t>::max()) {
    const size_t limit = std::min(max_queued, slots_.size());
    std::unique_lock lock(mutex_);
    return space_.wait_for(lock, timeout, [&] { return tail_ - head_ < limit || closed_; }) && !closed_;
  }
  bool try_pop(Frame& out) { return pop(out, std::chrono::nanoseconds(0)); }

  // Wakes a waiting consumer for good (shutdown).
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
    space_.notify_all();
  }

  size_t size() const {
    std::lock_guard lock(mutex_);
    return static_cast<size_t>(tail_ - head_);
  }
  RingCounters counters() const {
    std::lock_guard lock(mutex_);
    return counters_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable ready_;  // consumer waits for frames
  std::condition_variable space_;  // back-pressured producer waits for a free slot
  std::vector<Frame> slots_;
  Frame staging_{};
  size_t mask_;
  uint64_t head_ = 0;  // next to pop
  uint64_t tail_ = 0;  // next to push
  bool closed_ = false;
  RingCounters counters_;
  std::atomic<Doorbell*> doorbell_{nullptr};
};

}  // namespace facepipe::runtime
