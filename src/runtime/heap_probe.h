// Per-thread count of operator new calls, so that a running `facepipe run` can show that its frame
// path allocates nothing (the facepipe_camera_heap_allocations_total metric; scripts/soak.sh).
//
// The count is only incremented where the program replaces the global operator new with a counting
// one (src/apps/facepipe/heap_counter.cpp, in the facepipe executable); elsewhere (libraries, tests
// with their own counter) it stays 0. A thread-local integer: no atomic, no contention.
#pragma once

#include <cstdint>

namespace facepipe::runtime {

extern thread_local constinit uint64_t t_heap_allocations;

}  // namespace facepipe::runtime
