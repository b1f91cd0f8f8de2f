#include "runtime/placement.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>

#include "common/status.h"
#ifdef FACEPIPE_HAVE_CUDA
#include "common/cuda/cuda_resources.h"
#endif

namespace facepipe::runtime {

int available_gpus(bool* simulated) {
  if (const char* env = std::getenv("FACEPIPE_SIMULATE_GPUS"); env && *env) {
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(env, &end, 10);
    if (errno != 0 || *end != 0 || n < 0 || n > 64)
      throw Error(std::string("FACEPIPE_SIMULATE_GPUS='") + env + "': must be a number of GPUs 0..64");
    if (simulated) *simulated = true;
    return static_cast<int>(n);
  }
  if (simulated) *simulated = false;
#ifdef FACEPIPE_HAVE_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

std::string worker_name(int gpu) { return gpu < 0 ? "cpu" : "gpu" + std::to_string(gpu); }

int place_camera(const CameraConfig& camera, size_t index, int num_gpus, std::string* note) {
  if (camera.gpu == kCpu) return kCpu;
  if (camera.gpu == kGpuAuto) return num_gpus > 0 ? static_cast<int>(index % static_cast<size_t>(num_gpus)) : kCpu;
  if (num_gpus == 0) {
    if (note) *note = "camera '" + camera.id + "': gpu = " + std::to_string(camera.gpu) + " but there is no GPU: it runs on the CPU";
    return kCpu;
  }
  if (camera.gpu >= num_gpus)
    throw Error("camera '" + camera.id + "': gpu = " + std::to_string(camera.gpu) + ", but there " +
                (num_gpus == 1 ? "is 1 GPU" : "are " + std::to_string(num_gpus) + " GPUs") + " (indices 0.." +
                std::to_string(num_gpus - 1) + ")");
  return camera.gpu;
}

std::vector<WorkerAssignment> assign_workers(const RunConfig& config, int num_gpus,
                                             const std::vector<std::pair<std::string, int>>& sticky,
                                             std::vector<std::string>* notes) {
  std::map<int, WorkerAssignment> by_device;  // kCpu (-1) sorts first; moved to the end below
  for (size_t i = 0; i < config.cameras.size(); ++i) {
    const CameraConfig& c = config.cameras[i];
    std::string note;
    int device = place_camera(c, i, num_gpus, &note);
    if (!note.empty() && notes) notes->push_back(note);
    const auto kept = std::find_if(sticky.begin(), sticky.end(), [&](const auto& s) { return s.first == c.id; });
    if (kept != sticky.end()) device = kept->second;
    WorkerAssignment& w = by_device[device];
    w.gpu = device;
    w.name = worker_name(device);
    w.cameras.push_back(c);
  }
  std::vector<WorkerAssignment> out;
  for (auto& [device, w] : by_device)
    if (device >= 0) out.push_back(std::move(w));
  if (by_device.count(kCpu)) out.push_back(std::move(by_device[kCpu]));
  return out;
}

}  // namespace facepipe::runtime
