#include "support/allocation_counter.h"

#include <atomic>

#include "common/counting_operator_new.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

namespace facepipe::test {
uint64_t heap_allocations() { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace facepipe::test

FACEPIPE_DEFINE_COUNTING_OPERATOR_NEW(g_allocations.fetch_add(1, std::memory_order_relaxed))
