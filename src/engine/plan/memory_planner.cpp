#include "engine/plan/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace facepipe::engine {

namespace {
size_t aligned(size_t bytes) { return (std::max<size_t>(bytes, 1) + MemoryPlanner::kAlignment - 1) / MemoryPlanner::kAlignment * MemoryPlanner::kAlignment; }
}  // namespace

int32_t MemoryPlanner::add_buffer(size_t bytes, int first_step, int last_step) {
  buffers_.push_back(Buffer{aligned(bytes), std::min(first_step, last_step), std::max(first_step, last_step), 0});
  return static_cast<int32_t>(buffers_.size() - 1);
}

void MemoryPlanner::extend(int32_t buffer, int step) {
  Buffer& b = buffers_[static_cast<size_t>(buffer)];
  b.first = std::min(b.first, step);
  b.last = std::max(b.last, step);
}

size_t MemoryPlanner::naive_bytes() const {
  size_t n = 0;
  for (const Buffer& b : buffers_) n += b.bytes;
  return n;
}

size_t MemoryPlanner::plan() {
  std::vector<size_t> order(buffers_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers_[a].bytes > buffers_[b].bytes; });

  std::vector<size_t> placed;  // indices, kept sorted by offset
  std::vector<std::pair<size_t, size_t>> busy;  // [offset, end) of lifetime-overlapping placed buffers
  size_t arena = 0;
  for (size_t idx : order) {
    Buffer& b = buffers_[idx];
    busy.clear();
    for (size_t p : placed) {
      const Buffer& o = buffers_[p];
      if (o.first <= b.last && b.first <= o.last) busy.emplace_back(o.offset, o.offset + o.bytes);
    }
    std::sort(busy.begin(), busy.end());
    size_t candidate = 0;
    for (const auto& [begin, end] : busy) {
      if (candidate + b.bytes <= begin) break;
      candidate = std::max(candidate, end);
    }
    b.offset = candidate;
    arena = std::max(arena, candidate + b.bytes);
    placed.push_back(idx);
  }
  return arena;
}

}  // namespace facepipe::engine
