#include "runtime/heap_probe.h"

namespace facepipe::runtime {

thread_local constinit uint64_t t_heap_allocations = 0;

}  // namespace facepipe::runtime
