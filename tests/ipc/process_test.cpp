// Real processes: `facepipe ipc-demo` writers, forked readers, kill -9 of either side, `facepipe list`.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "ipc/process_util.h"
#include "ipc/shm_reader.h"

namespace facepipe::ipc {
namespace {

using namespace std::chrono_literals;
using test::ChildProcesses;
using test::facepipe_binary;
using test::wait_until;

pid_t start_demo(ChildProcesses& children, const std::string& camera = "cam0", const std::string& fps = "500",
                 const std::string& preview = "96x54") {
  return children.spawn({facepipe_binary(), "ipc-demo", "--quiet", "--instance", children.instance(), "--cameras",
                         camera, "--faces", "2", "--fps", fps, "--preview", preview, "--source-size", "640x360"});
}

TEST(IpcProcess, KillingAReaderDoesNotAffectTheWriter) {
  ChildProcesses children(test::unique_instance("kr"));
  const pid_t writer = start_demo(children);
  ASSERT_GT(writer, 0);
  ShmReader reader(children.instance(), "cam0");
  Frame frame;
  ASSERT_TRUE(wait_until([&] { return reader.read_latest(frame) == ReadStatus::kFrame; }, 10s));

  // A reader process that copies frames as fast as it can, killed in the middle of it.
  const pid_t victim = children.fork_run([&] {
    ShmReader r(children.instance(), "cam0");
    Frame f;
    for (;;) (void)r.read_next(f);
    return 0;
  });
  ASSERT_GT(victim, 0);
  std::this_thread::sleep_for(300ms);
  children.kill_and_reap(victim, SIGKILL);

  const uint64_t before = reader.view()->publish_count();
  std::this_thread::sleep_for(300ms);
  const uint64_t after = reader.view()->publish_count();
  EXPECT_TRUE(ChildProcesses::alive(writer));
  EXPECT_GT(after - before, 50u) << "writer stalled after the reader was killed";
  EXPECT_EQ(reader.state(), ReadStatus::kNoNewFrame);  // alive, heartbeat fresh
  EXPECT_LT(reader.heartbeat_age_ns(), 200'000'000u);
  EXPECT_NE(children.kill_and_reap(writer, SIGTERM), -1);
}

TEST(IpcProcess, KillingTheWriterIsSeenWithinOneSecondAndReadersResume) {
  ChildProcesses children(test::unique_instance("kw"));
  pid_t writer = start_demo(children);
  ASSERT_GT(writer, 0);
  ShmReader reader(children.instance(), "cam0");  // default options: stale after 0.5 s
  Frame frame;
  ASSERT_TRUE(wait_until([&] { return reader.read_next(frame) == ReadStatus::kFrame; }, 10s));
  const uint64_t first_session = reader.attach_count();

  const auto killed = std::chrono::steady_clock::now();
  children.kill_and_reap(writer, SIGKILL);
  // Drain what was published before the kill, then expect kStale.
  ReadStatus s = ReadStatus::kFrame;
  ASSERT_TRUE(wait_until([&] { return (s = reader.read_next(frame)) == ReadStatus::kStale; }, 3s))
      << read_status_name(s);
  const double detect_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  std::printf("stale heartbeat detected %.0f ms after kill -9 of the writer\n", detect_s * 1000);
  EXPECT_LT(detect_s, 1.0);
  EXPECT_EQ(reader.received() + reader.missed(), reader.view()->publish_count());

  // A new writer under the same name takes the dead segment over; the reader follows by itself.
  writer = start_demo(children);
  ASSERT_GT(writer, 0);
  const auto restarted = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return reader.read_next(frame) == ReadStatus::kFrame; }, 10s));
  std::printf("resumed %.0f ms after the new writer was started\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count() * 1000);
  EXPECT_EQ(reader.attach_count(), first_session + 1);
  ASSERT_TRUE(wait_until([&] { return reader.read_next(frame) == ReadStatus::kFrame && frame.publish_index() > 20; }, 10s));
  EXPECT_EQ(frame.faces().size(), 2u);
  EXPECT_EQ(reader.state(), ReadStatus::kNoNewFrame);
  EXPECT_NE(children.kill_and_reap(writer, SIGTERM), -1);
}

TEST(IpcProcess, ListShowsLiveSegments) {
  ChildProcesses children(test::unique_instance("ls"));
  const pid_t writer = start_demo(children, "camA", "50");
  ASSERT_GT(writer, 0);
  ASSERT_TRUE(wait_until([&] { return ShmReader(children.instance(), "camA").attached(); }, 10s));
  std::this_thread::sleep_for(200ms);  // a few frames for the fps estimate
  const std::string log = ::testing::TempDir() + "/list_" + children.instance() + ".txt";
  const pid_t list = children.spawn({facepipe_binary(), "list", "--instance", children.instance()}, {}, log);
  ASSERT_EQ(children.wait_exit(list, 10s), 0);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(log.c_str());
  EXPECT_NE(text.str().find("camA"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("live"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("96x54"), std::string::npos) << text.str();
  std::printf("%s", text.str().c_str());
  EXPECT_NE(children.kill_and_reap(writer, SIGTERM), -1);
  // A clean exit unlinks the segment.
  EXPECT_TRUE(list_segments(children.instance()).empty());
}

}  // namespace
}  // namespace facepipe::ipc
