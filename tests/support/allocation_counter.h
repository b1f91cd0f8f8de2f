// Every test binary replaces the global allocation functions with counting ones (support/
// allocation_counter.cpp), so a test can prove that a hot path allocates nothing: take
// heap_allocations() before and after the code under test.
#pragma once

#include <chrono>
#include <cstdint>

namespace facepipe::test {

// operator new calls of every form, on every thread, since the process started.
uint64_t heap_allocations();

// For running threads (a capture thread, a camera worker): waits until `progress()` (frames
// captured or published) reaches `warm_up`, then counts the allocations while it advances by
// `measured` more. `wait()` runs between polls (sleep, or drain a ring). Gives up at `deadline`;
// `progressed` says how far it got, so the caller can assert it got there.
struct CountedRun {
  uint64_t allocations = 0;
  uint64_t progressed = 0;
};
template <typename Progress, typename Wait>
CountedRun count_allocations_after_warm_up(Progress progress, Wait wait, uint64_t warm_up, uint64_t measured,
                                           std::chrono::steady_clock::time_point deadline) {
  while (progress() < warm_up && std::chrono::steady_clock::now() < deadline) wait();
  const uint64_t before = heap_allocations();
  const uint64_t start = progress();
  while (progress() < start + measured && std::chrono::steady_clock::now() < deadline) wait();
  CountedRun r;
  r.allocations = heap_allocations() - before;
  r.progressed = progress() - start;
  return r;
}

}  // namespace facepipe::test
