// Per-run instance names and /dev/shm cleanup for the IPC tests.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "ipc/segment_name.h"

namespace facepipe::test {

// A per-run instance name: parallel ctest runs of the same test never share segments.
inline std::string unique_instance(const char* tag) {
  return std::string("t") + tag + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
}

// Unlinks every segment of the instance when it goes out of scope (also after a failed assertion).
class SegmentCleanup {
 public:
  explicit SegmentCleanup(std::string instance) : instance_(std::move(instance)) {}
  SegmentCleanup(const SegmentCleanup&) = delete;
  SegmentCleanup& operator=(const SegmentCleanup&) = delete;
  ~SegmentCleanup() {
    for (const auto& id : ipc::list_segments(instance_)) ::shm_unlink(ipc::segment_name(id.instance, id.camera)->c_str());
  }
  const std::string& instance() const { return instance_; }

 private:
  std::string instance_;
};

}  // namespace facepipe::test
