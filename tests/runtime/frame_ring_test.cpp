#include "runtime/frame_ring.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "media/image.h"
#include "runtime/preview.h"
#include "runtime/source.h"

namespace facepipe::runtime {
namespace {

struct Item {
  uint64_t value = 0;
};
void swap(Item& a, Item& b) noexcept { std::swap(a.value, b.value); }

TEST(FrameRing, RejectsCapacityThatIsNotAPowerOfTwo) {
  EXPECT_THROW(FrameRing<Item>(24), Error);
  EXPECT_THROW(FrameRing<Item>(1), Error);
  EXPECT_EQ(FrameRing<Item>().capacity(), 32u);
}

TEST(FrameRing, FifoThenDropOldestWhenFull) {
  FrameRing<Item> ring(4);
  for (uint64_t i = 1; i <= 6; ++i) {
    ring.staging().value = i;
    EXPECT_EQ(ring.push(), i > 4);
  }
  Item out;
  for (uint64_t expect = 3; expect <= 6; ++expect) {
    ASSERT_TRUE(ring.try_pop(out));
    EXPECT_EQ(out.value, expect);
  }
  EXPECT_FALSE(ring.try_pop(out));
  const RingCounters c = ring.counters();
  EXPECT_EQ(c.pushed, 6u);
  EXPECT_EQ(c.dropped, 2u);
  EXPECT_EQ(c.popped, 4u);
}

TEST(FrameRing, PopLatestSkipsOlderFramesAsDrops) {
  FrameRing<Item> ring(8);
  Item out;
  EXPECT_FALSE(ring.pop_latest(out));
  for (uint64_t i = 1; i <= 3; ++i) {
    ring.staging().value = i;
    ring.push();
  }
  ASSERT_TRUE(ring.pop_latest(out));
  EXPECT_EQ(out.value, 3u);
  EXPECT_FALSE(ring.pop_latest(out));
  ring.staging().value = 4;
  ring.push();
  ASSERT_TRUE(ring.try_pop(out));  // FIFO still works after a skip
  EXPECT_EQ(out.value, 4u);
  const RingCounters c = ring.counters();
  EXPECT_EQ(c.pushed, 4u);
  EXPECT_EQ(c.dropped, 2u);
  EXPECT_EQ(c.popped, 2u);
}

TEST(FrameRing, PushRingsTheAttachedDoorbell) {
  FrameRing<Item> ring(4);
  Doorbell bell;
  const uint64_t seen = bell.count();
  EXPECT_FALSE(bell.wait_past(seen, std::chrono::milliseconds(1)));
  ring.set_doorbell(&bell);
  std::thread producer([&] { ring.push(); });
  EXPECT_TRUE(bell.wait_past(seen, std::chrono::seconds(10)));
  producer.join();
  ring.set_doorbell(nullptr);
  ring.push();
  EXPECT_EQ(bell.count(), seen + 1);
}

TEST(FrameRing, WaitForSpace) {
  FrameRing<Item> ring(2);
  EXPECT_TRUE(ring.wait_for_space(std::chrono::milliseconds(0)));
  ring.push();
  ring.push();
  EXPECT_FALSE(ring.wait_for_space(std::chrono::milliseconds(10)));
  std::thread consumer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Item out;
    (void)ring.try_pop(out);
  });
  EXPECT_TRUE(ring.wait_for_space(std::chrono::seconds(5)));
  consumer.join();
  EXPECT_FALSE(ring.wait_for_space(std::chrono::milliseconds(10), 1));  // one frame still queued
  ring.close();
  EXPECT_FALSE(ring.wait_for_space(std::chrono::seconds(5)));
}

TEST(FrameRing, CloseWakesTheConsumer) {
  FrameRing<Item> ring(2);
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ring.close();
  });
  Item out;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(ring.pop(out, std::chrono::seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  closer.join();
}

// Images circulate by swapping: after warm-up no buffer is reallocated (the data pointers seen are
// only ever the capacity + 2 buffers of the first round).
TEST(FrameRing, ImageBuffersAreReused) {
  FrameRing<CapturedFrame> ring(4);
  CapturedFrame out;
  std::set<const uint8_t*> buffers;
  for (int i = 0; i < 200; ++i) {
    ring.staging().image.reset(64, 48, media::PixelFormat::kBGR8);
    buffers.insert(ring.staging().image.data());
    ring.push();
    if (i % 3 == 0 && ring.try_pop(out)) buffers.insert(out.image.data());
  }
  EXPECT_LE(buffers.size(), 6u);
}

// Producer and consumer threads: every frame arrives at most once, in order, and
// pushed = popped + dropped + left in the ring.
TEST(FrameRing, TwoThreadStress) {
  FrameRing<Item> ring(8);
  constexpr uint64_t kFrames = 200000;
  std::atomic<bool> done{false};
  uint64_t received = 0, last = 0;
  bool in_order = true;
  std::thread consumer([&] {
    Item item;
    for (;;) {
      if (ring.pop(item, std::chrono::milliseconds(10))) {
        in_order = in_order && item.value > last;
        last = item.value;
        ++received;
      } else if (done.load()) {
        break;
      }
    }
  });
  for (uint64_t i = 1; i <= kFrames; ++i) {
    ring.staging().value = i;
    ring.push();
  }
  done.store(true);
  consumer.join();
  const RingCounters c = ring.counters();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(c.pushed, kFrames);
  EXPECT_EQ(c.popped, received);
  EXPECT_EQ(c.pushed, c.popped + c.dropped + ring.size());
  EXPECT_GT(received, 0u);
}

TEST(Preview, FitsInsideTheBoxKeepingAspect) {
  int w = 0, h = 0;
  fit_preview_size(720, 1280, 960, 540, w, h);
  EXPECT_EQ(w, 304);
  EXPECT_EQ(h, 540);
  fit_preview_size(1920, 1080, 960, 540, w, h);
  EXPECT_EQ(w, 960);
  EXPECT_EQ(h, 540);
  fit_preview_size(320, 240, 960, 540, w, h);  // never enlarged
  EXPECT_EQ(w, 320);
  EXPECT_EQ(h, 240);
}

TEST(Preview, DownscalesAFlatImageExactlyAndSwapsChannels) {
  media::Image src(100, 60, media::PixelFormat::kRGB8);
  for (int y = 0; y < 60; ++y)
    for (int x = 0; x < 100; ++x) {
      src.pixel(x, y)[0] = 10;
      src.pixel(x, y)[1] = 20;
      src.pixel(x, y)[2] = 30;
    }
  media::Image dst(37, 22, media::PixelFormat::kBGR8);
  PreviewScaler scaler;
  scaler.resize(src.view(), dst.view());
  for (int y = 0; y < 22; ++y)
    for (int x = 0; x < 37; ++x) {
      ASSERT_EQ(dst.pixel(x, y)[0], 30);
      ASSERT_EQ(dst.pixel(x, y)[1], 20);
      ASSERT_EQ(dst.pixel(x, y)[2], 10);
    }
}

}  // namespace
}  // namespace facepipe::runtime
