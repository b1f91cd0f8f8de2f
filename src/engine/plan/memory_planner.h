// Places buffers with known lifetimes in one arena so that buffers alive at the same time never
// overlap and the arena stays small. Lifetimes are closed intervals of step indices.
//
// Greedy by size (largest first, lowest free offset that fits among already placed buffers whose
// lifetimes intersect): simple, deterministic, and close to optimal for the chain-like graphs of
// vision networks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace facepipe::engine {

class MemoryPlanner {
 public:
  static constexpr size_t kAlignment = 64;

  // Returns the buffer's id.
  int32_t add_buffer(size_t bytes, int first_step, int last_step);
  // Widens a buffer's lifetime to include `step`.
  void extend(int32_t buffer, int step);
  // Assigns offsets; returns the arena size in bytes.
  size_t plan();
  size_t offset(int32_t buffer) const { return buffers_[static_cast<size_t>(buffer)].offset; }
  // Sum of all (aligned) buffer sizes: the arena a plan without reuse would need.
  size_t naive_bytes() const;

 private:
  struct Buffer {
    size_t bytes = 0;
    int first = 0, last = 0;
    size_t offset = 0;
  };
  std::vector<Buffer> buffers_;
};

}  // namespace facepipe::engine
