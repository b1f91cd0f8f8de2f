#include <gtest/gtest.h>

#include "engine/plan/memory_planner.h"

namespace facepipe::engine {
namespace {

bool overlaps(size_t a, size_t a_bytes, size_t b, size_t b_bytes) { return a < b + b_bytes && b < a + a_bytes; }

TEST(MemoryPlanner, ReusesMemoryOfDeadBuffers) {
  // A chain: each buffer lives from its producer to its consumer.
  MemoryPlanner p;
  const int32_t a = p.add_buffer(1000, 0, 1);
  const int32_t b = p.add_buffer(1000, 1, 2);
  const int32_t c = p.add_buffer(1000, 2, 3);
  const size_t arena = p.plan();
  EXPECT_EQ(arena, 2 * 1024u);  // two 64-aligned buffers suffice for a chain
  EXPECT_EQ(p.offset(a), p.offset(c));
  EXPECT_NE(p.offset(a), p.offset(b));
  EXPECT_EQ(p.naive_bytes(), 3 * 1024u);
}

TEST(MemoryPlanner, LiveBuffersNeverOverlapOnRandomLifetimes) {
  uint32_t seed = 7;
  auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
  for (int trial = 0; trial < 50; ++trial) {
    MemoryPlanner p;
    struct B { int32_t id; size_t bytes; int first, last; };
    std::vector<B> bs;
    for (int i = 0; i < 40; ++i) {
      const int first = static_cast<int>(next() % 30);
      const int last = first + static_cast<int>(next() % 10);
      const size_t bytes = 1 + next() % 5000;
      bs.push_back({p.add_buffer(bytes, first, last), bytes, first, last});
    }
    const size_t arena = p.plan();
    for (size_t i = 0; i < bs.size(); ++i) {
      EXPECT_LE(p.offset(bs[i].id) + bs[i].bytes, arena);
      EXPECT_EQ(p.offset(bs[i].id) % MemoryPlanner::kAlignment, 0u);
      for (size_t j = i + 1; j < bs.size(); ++j) {
        const bool alive_together = bs[i].first <= bs[j].last && bs[j].first <= bs[i].last;
        if (alive_together) {
          EXPECT_FALSE(overlaps(p.offset(bs[i].id), bs[i].bytes, p.offset(bs[j].id), bs[j].bytes))
              << "trial " << trial << " buffers " << i << " and " << j;
        }
      }
    }
    EXPECT_LE(arena, p.naive_bytes());
  }
}

TEST(MemoryPlanner, ExtendWidensLifetime) {
  MemoryPlanner p;
  const int32_t a = p.add_buffer(64, 0, 0);
  const int32_t b = p.add_buffer(64, 1, 1);
  p.extend(a, 1);
  p.plan();
  EXPECT_NE(p.offset(a), p.offset(b));
}

}  // namespace
}  // namespace facepipe::engine
