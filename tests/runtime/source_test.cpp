#include "runtime/source.h"

#include <gtest/gtest.h>

#include <thread>

#include "ipc/process_util.h"
#include "support/test_support.h"

namespace facepipe::runtime {
namespace {

using namespace std::chrono_literals;
using test::wait_until;

std::string sample_video() { return (test::testdata_dir() / "video" / "talking_man_glasses_720x1280.mp4").string(); }

TEST(Source, Classification) {
  EXPECT_EQ(classify_source("rtsp://10.0.0.1/s"), SourceKind::kStream);
  EXPECT_EQ(classify_source("http://127.0.0.1:8000"), SourceKind::kStream);
  EXPECT_EQ(classify_source("/dev/video0"), SourceKind::kDevice);
  EXPECT_EQ(classify_source("clip.mp4"), SourceKind::kVideoFile);
  EXPECT_EQ(classify_source("file:///tmp/clip.mp4"), SourceKind::kVideoFile);
  EXPECT_EQ(classify_source(test::testdata_dir().string() + "/images"), SourceKind::kImageFolder);
}

// A consumer that records what it pops.
struct Consumer {
  explicit Consumer(FrameRing<CapturedFrame>& ring) : ring_(ring), thread_([this] { run(); }) {}
  ~Consumer() {
    done = true;
    thread_.join();
  }
  void run() {
    CapturedFrame f;
    while (!done) {
      if (!ring_.pop(f, 10ms)) continue;
      if (!(f.sequence > last_sequence && f.capture_ns >= last_capture_ns && f.media_time_s > last_time)) ordered = false;
      last_sequence = f.sequence;
      last_capture_ns = f.capture_ns;
      last_time = f.media_time_s;
      width = f.image.width();
      bgr = f.image.format() == media::PixelFormat::kBGR8;
      ++count;
    }
  }
  FrameRing<CapturedFrame>& ring_;
  std::atomic<bool> done{false};
  std::atomic<int> count{0};
  // Read by the test while the consumer runs: atomics (the last_* values stay on the consumer thread).
  std::atomic<bool> ordered{true}, bgr{false};
  uint64_t last_sequence = 0, last_capture_ns = 0;
  double last_time = -1;
  std::atomic<int> width{0};
  std::thread thread_;
};

TEST(CaptureThread, VideoFilePacedToItsFrameRate) {
  FACEPIPE_REQUIRE_FILE(sample_video());
  FrameRing<CapturedFrame> ring(8);
  SourceOptions o;
  o.source = sample_video();
  CaptureThread capture("t", o, ring);
  Consumer consumer(ring);
  capture.start();
  ASSERT_TRUE(capture.wait_first_attempt(10000)) << capture.last_error();
  std::this_thread::sleep_for(200ms);  // past the opening
  const int before = consumer.count;
  std::this_thread::sleep_for(1000ms);
  const int in_one_second = consumer.count - before;
  EXPECT_GE(in_one_second, 24);  // 30 fps file
  EXPECT_LE(in_one_second, 36);
  EXPECT_EQ(capture.state(monotonic_now_ns()), SourceState::kLive);
  const auto t0 = std::chrono::steady_clock::now();
  capture.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  EXPECT_TRUE(consumer.ordered);
  EXPECT_TRUE(consumer.bgr);
  EXPECT_EQ(consumer.width, 720);
}

TEST(CaptureThread, UnpacedVideoLoopsWithIncreasingTimestamps) {
  FACEPIPE_REQUIRE_FILE(sample_video());
  FrameRing<CapturedFrame> ring(32);
  SourceOptions o;
  o.source = sample_video();
  o.realtime = false;
  CaptureThread capture("t", o, ring);
  Consumer consumer(ring);
  capture.start();
  // 352 frames in the file: more than that means it looped.
  EXPECT_TRUE(wait_until([&] { return capture.stats().frames.load() > 400; }, 30s));
  capture.stop();
  EXPECT_TRUE(consumer.ordered) << "timestamps must keep increasing across the loop";
  EXPECT_EQ(capture.stats().reconnects.load(), 0u);
  EXPECT_EQ(ring.counters().dropped, 0u) << "an unpaced file waits for the consumer instead of dropping";
}

TEST(CaptureThread, ImageFolderLoops) {
  const auto folder = test::testdata_dir() / "images";
  FACEPIPE_REQUIRE_FILE(folder);
  FrameRing<CapturedFrame> ring(4);
  SourceOptions o;
  o.source = folder.string();
  o.realtime = false;
  CaptureThread capture("t", o, ring);
  Consumer consumer(ring);
  capture.start();
  EXPECT_TRUE(wait_until([&] { return capture.stats().frames.load() > 25; }, 30s));  // 11 images, looped
  capture.stop();
  EXPECT_TRUE(consumer.ordered);
  EXPECT_TRUE(consumer.bgr);
}

TEST(CaptureThread, UnreachableStreamKeepsReconnectingAndStopsPromptly) {
  FrameRing<CapturedFrame> ring(4);
  SourceOptions o;
  o.source = "http://127.0.0.1:1/";
  CaptureThread capture("t", o, ring);
  capture.start();
  EXPECT_FALSE(capture.wait_first_attempt(5000));
  EXPECT_NE(capture.last_error().find("127.0.0.1:1"), std::string::npos) << capture.last_error();
  EXPECT_TRUE(wait_until([&] { return capture.stats().reconnects.load() >= 3; }, 5s));
  EXPECT_EQ(capture.state(monotonic_now_ns()), SourceState::kReconnecting);
  const auto t0 = std::chrono::steady_clock::now();
  capture.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  EXPECT_EQ(capture.state(monotonic_now_ns()), SourceState::kStopped);
  EXPECT_EQ(capture.stats().frames.load(), 0u);
}

}  // namespace
}  // namespace facepipe::runtime
