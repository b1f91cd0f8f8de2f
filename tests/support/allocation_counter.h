// Every test binary replaces the global allocation functions with counting ones (support/
// allocation_counter.cpp), so a test can prove that a hot path allocates nothing: take
// heap_allocations() before and after the code under test.
#pragma once

#include <cstdint>

namespace facepipe::test {

// operator new calls of every form, on every thread, since the process started.
uint64_t heap_allocations();

}  // namespace facepipe::test
