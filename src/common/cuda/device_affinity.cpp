#include "common/cuda/device_affinity.h"

#include <cuda_runtime.h>
#include <sched.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace facepipe::cuda {

namespace {

// "0-15,32-47" → the set; false on anything unexpected.
bool parse_cpu_list(const std::string& text, cpu_set_t& set, int& count) {
  CPU_ZERO(&set);
  count = 0;
  std::stringstream ss(text);
  std::string range;
  while (std::getline(ss, range, ',')) {
    range.erase(std::remove_if(range.begin(), range.end(), [](unsigned char c) { return std::isspace(c); }), range.end());
    if (range.empty()) continue;
    const auto dash = range.find('-');
    int first = 0, last = 0;
    try {
      first = std::stoi(range.substr(0, dash));
      last = dash == std::string::npos ? first : std::stoi(range.substr(dash + 1));
    } catch (const std::exception&) {
      return false;
    }
    if (first < 0 || last < first || last >= CPU_SETSIZE) return false;
    for (int c = first; c <= last; ++c) {
      CPU_SET(c, &set);
      ++count;
    }
  }
  return count > 0;
}

}  // namespace

std::string bind_thread_to_device_cpus(int device) {
  char bus_id[64] = {};
  if (cudaDeviceGetPCIBusId(bus_id, sizeof bus_id, device) != cudaSuccess) {
    cudaGetLastError();
    return "";
  }
  std::string id(bus_id);
  std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::ifstream f("/sys/bus/pci/devices/" + id + "/local_cpulist");
  std::string list;
  if (!f || !std::getline(f, list)) return "";
  cpu_set_t local, current;
  int local_count = 0;
  if (!parse_cpu_list(list, local, local_count)) return "";
  if (sched_getaffinity(0, sizeof current, &current) != 0) return "";
  cpu_set_t both;
  CPU_AND(&both, &local, &current);
  if (CPU_COUNT(&both) == 0 || CPU_EQUAL(&both, &current)) return "";  // nothing to narrow
  if (sched_setaffinity(0, sizeof both, &both) != 0) return "";
  return list;
}

}  // namespace facepipe::cuda
