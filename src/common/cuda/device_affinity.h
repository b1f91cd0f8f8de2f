// Host threads next to their GPU. On a multi-socket host each GPU hangs off one CPU socket; pinned
// buffers that live in that socket's memory, and threads that run on its cores, copy to the GPU
// over the short path (the other socket's memory halves the bandwidth on some machines).
#pragma once

#include <string>

namespace facepipe::cuda {

// Restricts the calling thread (and the threads it creates afterwards) to the CPUs the driver
// reports as local to `device` (sysfs local_cpulist of its PCI function). Call before allocating
// and first touching pinned memory. Returns the CPU list applied, or "" when nothing was changed
// (no such information, every CPU is local, or the call failed): never throws.
std::string bind_thread_to_device_cpus(int device);

}  // namespace facepipe::cuda
