// Which worker process runs which camera (docs/runtime.md, "Supervisor and workers").
//
// One worker per GPU index used by the cameras, plus one CPU worker for the CPU cameras. A camera
// with gpu = "auto" goes to GPU (camera index % number of GPUs), or to the CPU worker when there
// is no GPU; an explicit index must exist. The number of GPUs is cuda::device_count(), or
// FACEPIPE_SIMULATE_GPUS=N for tests of the multi-GPU code paths on machines without N GPUs.
#pragma once

#include <string>
#include <vector>

#include "runtime/config.h"

namespace facepipe::runtime {

// GPUs usable by workers: $FACEPIPE_SIMULATE_GPUS when set (0..64; throws facepipe::Error when not a
// number), else the CUDA devices (0 without CUDA or a driver). `simulated` says which.
int available_gpus(bool* simulated = nullptr);

// "cpu", "gpu0", "gpu1", ...
std::string worker_name(int gpu);

struct WorkerAssignment {
  std::string name;  // worker_name(gpu)
  int gpu = kCpu;    // kCpu or a device index
  std::vector<CameraConfig> cameras;
};

// The device a camera runs on (kCpu or an index). `index` is the camera's position in the
// configuration. Throws facepipe::Error naming the camera when its explicit index does not exist;
// with no GPU at all an explicit index falls back to the CPU (configurations stay portable to
// CPU-only machines; `note` then says so).
int place_camera(const CameraConfig& camera, size_t index, int num_gpus, std::string* note = nullptr);

// Groups the cameras by device: GPU workers in index order, then the CPU worker (only those that
// have cameras). `sticky` (camera id → device) keeps running cameras where they are on a reload.
std::vector<WorkerAssignment> assign_workers(const RunConfig& config, int num_gpus,
                                             const std::vector<std::pair<std::string, int>>& sticky = {},
                                             std::vector<std::string>* notes = nullptr);

}  // namespace facepipe::runtime
