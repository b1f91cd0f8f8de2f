// Which worker runs which camera, and when a worker counts as stuck (the supervisor's decisions,
// tested without processes).
#include "runtime/placement.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "common/status.h"
#include "runtime/worker_status.h"

namespace facepipe::runtime {
namespace {

RunConfig cameras(std::initializer_list<int> gpus) {
  RunConfig c;
  int i = 0;
  for (int g : gpus) {
    CameraConfig cam;
    cam.id = std::to_string(i++).insert(0, 1, 'c');
    cam.source = "x.mp4";
    cam.gpu = g;
    c.cameras.push_back(cam);
  }
  return c;
}

std::vector<std::string> ids(const WorkerAssignment& w) {
  std::vector<std::string> out;
  for (const auto& c : w.cameras) out.push_back(c.id);
  return out;
}

TEST(Placement, AutoSpreadsCamerasOverTheGpusByIndex) {
  const auto plan = assign_workers(cameras({kGpuAuto, kGpuAuto, kGpuAuto, kGpuAuto}), 2);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].name, "gpu0");
  EXPECT_EQ(plan[0].gpu, 0);
  EXPECT_EQ(ids(plan[0]), (std::vector<std::string>{"c0", "c2"}));
  EXPECT_EQ(plan[1].name, "gpu1");
  EXPECT_EQ(ids(plan[1]), (std::vector<std::string>{"c1", "c3"}));
}

TEST(Placement, ExplicitDevicesCpuWorkerLastAndNoGpuFallback) {
  const auto plan = assign_workers(cameras({kCpu, 1, kCpu, kGpuAuto}), 2);  // auto: index 3 % 2 = 1
  ASSERT_EQ(plan.size(), 2u);  // gpu0 has no camera: no worker
  EXPECT_EQ(plan[0].name, "gpu1");
  EXPECT_EQ(ids(plan[0]), (std::vector<std::string>{"c1", "c3"}));
  EXPECT_EQ(plan[1].name, "cpu");
  EXPECT_EQ(ids(plan[1]), (std::vector<std::string>{"c0", "c2"}));
  // Without GPUs everything runs on the CPU; an explicit index is noted, not fatal.
  std::vector<std::string> notes;
  const auto cpu_only = assign_workers(cameras({0, kGpuAuto}), 0, {}, &notes);
  ASSERT_EQ(cpu_only.size(), 1u);
  EXPECT_EQ(cpu_only[0].name, "cpu");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "camera 'c0': gpu = 0 but there is no GPU: it runs on the CPU");
  // An index that does not exist on a machine with GPUs is an error naming the camera.
  try {
    assign_workers(cameras({kGpuAuto, 3}), 2);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "camera 'c1': gpu = 3, but there are 2 GPUs (indices 0..1)");
  }
}

TEST(Placement, StickyCamerasStayOnTheirWorker) {
  // c1 ran on gpu0 before a reload moved it to index 1: it stays where it is.
  const auto plan = assign_workers(cameras({kGpuAuto, kGpuAuto}), 2, {{"c1", 0}});
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(ids(plan[0]), (std::vector<std::string>{"c0", "c1"}));
}

TEST(Placement, SimulatedGpusFromTheEnvironment) {
  ::setenv("FACEPIPE_SIMULATE_GPUS", "3", 1);
  bool simulated = false;
  EXPECT_EQ(available_gpus(&simulated), 3);
  EXPECT_TRUE(simulated);
  ::setenv("FACEPIPE_SIMULATE_GPUS", "two", 1);
  EXPECT_THROW(available_gpus(), Error);
  ::unsetenv("FACEPIPE_SIMULATE_GPUS");
}

TEST(WorkerStatus, StuckWhenTheMainLoopOrOnePipelineStops) {
  auto page = std::make_unique<WorkerStatusPage>();  // value-initialized: all zero
  SupervisorConfig limits;  // 500 ms heartbeat, 30 s start-up
  constexpr uint64_t ms = 1'000'000;
  const uint64_t t0 = 1000 * ms;
  // Starting: silent or loading is fine until the start-up limit.
  EXPECT_EQ(worker_stuck_reason(*page, t0, t0 + 5000 * ms, limits), "");
  EXPECT_NE(worker_stuck_reason(*page, t0, t0 + 31000 * ms, limits), "");
  page->loading_since_ns = t0 + 100 * ms;
  EXPECT_EQ(worker_stuck_reason(*page, t0, t0 + 20000 * ms, limits), "");
  page->loading_since_ns = 0;
  // Running: the main loop's heartbeat.
  page->heartbeat_ns = t0;
  EXPECT_EQ(worker_stuck_reason(*page, t0, t0 + 400 * ms, limits), "");
  EXPECT_EQ(worker_stuck_reason(*page, t0, t0 + 600 * ms, limits), "heartbeat 600 ms old");
  // A pipeline thread on one frame for too long, while the main loop still ticks.
  page->camera_count = 2;
  store_slot_id(page->cameras[1], "door");
  page->cameras[1].busy_since_ns = t0 - 100 * ms;
  page->heartbeat_ns = t0 + 300 * ms;
  EXPECT_EQ(worker_stuck_reason(*page, t0, t0 + 310 * ms, limits), "");
  page->heartbeat_ns = t0 + 450 * ms;
  EXPECT_EQ(worker_stuck_reason(*page, t0, t0 + 460 * ms, limits), "camera 'door': one frame in the pipeline for 550 ms");
  EXPECT_EQ(load_slot_id(page->cameras[1]), "door");
}

}  // namespace
}  // namespace facepipe::runtime
