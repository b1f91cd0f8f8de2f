// The facepipe executable's global operator new: malloc plus a per-thread counter
// (runtime/heap_probe.h), so the live runtime can export how often its capture and pipeline
// threads allocate.
#include "common/counting_operator_new.h"
#include "runtime/heap_probe.h"

FACEPIPE_DEFINE_COUNTING_OPERATOR_NEW(++facepipe::runtime::t_heap_allocations)
