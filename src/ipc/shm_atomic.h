// Word-wise atomic access to shared memory (docs/ipc.md, "Memory-model choice"). Everything in a
// slot is stored with release and loaded with acquire, one 64-bit word at a time, through
// std::atomic_ref: race-free in the C++ memory model, modelled exactly by ThreadSanitizer, and plain
// moves on x86-64. Readers map the segment read-only; a 64-bit atomic load is a plain load, so the
// const_cast below never leads to a write.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>

namespace facepipe::ipc {

static_assert(std::atomic_ref<uint64_t>::is_always_lock_free, "64-bit atomics must be lock-free in shared memory");

inline uint64_t load_word(const uint64_t& word, std::memory_order order = std::memory_order_acquire) {
  return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(word)).load(order);
}
inline void store_word(uint64_t& word, uint64_t value, std::memory_order order = std::memory_order_release) {
  std::atomic_ref<uint64_t>(word).store(value, order);
}

// Copies `bytes` (a multiple of 8) from 8-byte aligned shared memory with acquire loads.
inline void load_words(const void* shared, void* local, size_t bytes) {
  const uint64_t* src = static_cast<const uint64_t*>(shared);
  uint64_t* dst = static_cast<uint64_t*>(local);
  for (size_t i = 0, n = bytes / 8; i < n; ++i) dst[i] = load_word(src[i]);
}
// Copies `bytes` (a multiple of 8) into 8-byte aligned shared memory with release stores.
inline void store_words(void* shared, const void* local, size_t bytes) {
  uint64_t* dst = static_cast<uint64_t*>(shared);
  const uint64_t* src = static_cast<const uint64_t*>(local);
  for (size_t i = 0, n = bytes / 8; i < n; ++i) store_word(dst[i], src[i]);
}

// CLOCK_MONOTONIC in nanoseconds: one clock for every process of the host.
inline uint64_t monotonic_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace facepipe::ipc
