// The batched GPU worker's logic without a GPU: GpuBatcher over a fake BatchedPipeline and fake
// cameras (the real seam wraps CudaFacePipeline and needs a device). What is proven here: each batch
// takes the newest frame of every camera that has one and skips the others, one call per batch, the
// faces reach the camera they belong to, every camera of a batch is stamped "in flight" while the
// call runs, cameras come and go while others keep running, and a batch allocates nothing once
// warm.
#include "runtime/gpu_batcher.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <thread>

#include "support/allocation_counter.h"

namespace facepipe::runtime {
namespace {

using namespace std::chrono_literals;

constexpr int kSlots = 4;
constexpr int kMaxCalls = 4096;

// Bounded wait for a condition another thread makes true (no allocation: sleep_for only).
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(100us);
  }
  return true;
}

// Records every call in fixed arrays; each slot's single face carries id = 1000 * slot + frame
// sequence (the timestamp), so a test sees which frame of which camera produced it. `allowed` holds
// calls at their start (a GPU call in progress) until the test lets them go.
class FakePipeline final : public BatchedPipeline {
 public:
  int capacity() const override { return kSlots; }
  Status ensure_frame_capacity(int width, int height) override {
    if (width > width_ || height > height_) grows.fetch_add(1);
    width_ = std::max(width, width_);
    height_ = std::max(height, height_);
    return Status::ok();
  }
  Status process(std::span<const BatchFrame> frames) override {
    const int call = started.fetch_add(1);
    while (call >= allowed.load()) std::this_thread::sleep_for(100us);
    if (call < kMaxCalls) {
      sizes[static_cast<size_t>(call)] = static_cast<int>(frames.size());
      uint32_t mask = 0;
      for (const BatchFrame& f : frames) mask |= 1u << f.slot;
      slot_masks[static_cast<size_t>(call)] = mask;
    }
    for (const BatchFrame& f : frames) {
      // A "preview" whose first byte names the slot, of the size the camera asked for.
      preview_w_[static_cast<size_t>(f.slot)] = f.preview_width;
      preview_h_[static_cast<size_t>(f.slot)] = f.preview_height;
      preview_px_[static_cast<size_t>(f.slot)] = static_cast<uint8_t>(f.slot);
      if (f.image.width > width_ || f.image.height > height_) too_large.fetch_add(1);
      FaceResult& face = faces_[static_cast<size_t>(f.slot)];
      face.id = 1000 * f.slot + static_cast<int>(f.timestamp_s);
      has_face_[static_cast<size_t>(f.slot)] = true;
    }
    finished.fetch_add(1);
    return Status::ok();
  }
  std::span<const face::FaceResult> faces(int slot) const override {
    return {&faces_[static_cast<size_t>(slot)], has_face_[static_cast<size_t>(slot)] ? 1u : 0u};
  }
  kernels::ImageView preview(int slot) const override {
    const auto i = static_cast<size_t>(slot);
    if (preview_w_[i] <= 0) return {};
    return kernels::ImageView{&preview_px_[i], preview_w_[i], preview_h_[i], preview_w_[i] * 3, 3, kernels::ChannelOrder::kBGR};
  }
  void reset_slot(int slot) override {
    has_face_[static_cast<size_t>(slot)] = false;
    resets[static_cast<size_t>(slot)].fetch_add(1);
  }
  const char* device() const override { return "fake"; }

  std::atomic<int> started{0}, finished{0}, allowed{1 << 30}, grows{0}, too_large{0};
  std::array<int, kMaxCalls> sizes{};
  std::array<uint32_t, kMaxCalls> slot_masks{};
  std::array<std::atomic<int>, kSlots> resets{};
  std::array<int, kSlots> preview_w_{}, preview_h_{};
  std::array<uint8_t, kSlots> preview_px_{};

 private:
  using FaceResult = face::FaceResult;
  std::array<FaceResult, kSlots> faces_{};
  std::array<bool, kSlots> has_face_{};
  int width_ = 0, height_ = 0;
};

class FakeCamera final : public BatchCamera {
 public:
  explicit FakeCamera(std::string id, bool every_frame = false) : every_frame_(every_frame) { config.id = std::move(id); }

  // Producer side (a capture thread's job): the frame's sequence is also its timestamp.
  void push(uint64_t sequence, int width = 64, int height = 48) {
    CapturedFrame& f = ring.staging();
    f.image.reset(width, height, media::PixelFormat::kBGR8);
    f.sequence = sequence;
    f.media_time_s = static_cast<double>(sequence);
    ring.push();
  }

  FrameRing<CapturedFrame>& batch_ring() override { return ring; }
  bool batch_takes_every_frame() const override { return every_frame_; }
  bool begin_batch_frame(uint64_t now_ns) override {
    busy_since_ns.store(now_ns);
    return true;
  }
  void batch_preview_size(int width, int height, int& pw, int& ph) const override {
    pw = width / 2;
    ph = height / 2;
  }
  void publish_batch_result(const CapturedFrame& frame, std::span<const face::FaceResult> faces,
                            const Status& status, const kernels::ImageView& preview) override {
    if (!status.is_ok()) errors.fetch_add(1);
    preview_first_byte.store(preview.data ? preview.data[0] : -1);
    preview_width.store(preview.width);
    last_sequence.store(frame.sequence);
    last_face_id.store(faces.empty() ? -1 : faces[0].id);
    busy_since_ns.store(0);
    published.fetch_add(1);
  }

  CameraConfig config;  // detector / max_faces: the defaults, as the batcher's key below
  FrameRing<CapturedFrame> ring{8};
  std::atomic<uint64_t> busy_since_ns{0}, last_sequence{0}, published{0}, errors{0};
  std::atomic<int> last_face_id{-1}, preview_first_byte{-2}, preview_width{0};

 private:
  bool every_frame_;
};

struct Fixture {
  FakePipeline* pipeline = nullptr;
  std::unique_ptr<GpuBatcher> batcher;
  Fixture() {
    auto p = std::make_unique<FakePipeline>();
    pipeline = p.get();
    batcher = std::make_unique<GpuBatcher>(std::move(p), batch_key(CameraConfig{}));
  }
};

TEST(SlotTable, AddRemoveReuseAndExhaustion) {
  SlotTable t(3);
  EXPECT_EQ(t.acquire("a"), 0);
  EXPECT_EQ(t.acquire("b"), 1);
  EXPECT_EQ(t.acquire("c"), 2);
  EXPECT_EQ(t.used(), 3);
  try {
    t.acquire("door");
    FAIL() << "a fourth camera got a slot";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "camera 'door': no free slot in the GPU batcher (all 3 taken)");
  }
  t.release(1);
  EXPECT_FALSE(t.in_use(1));
  EXPECT_EQ(t.find("b"), -1);
  EXPECT_EQ(t.acquire("door"), 1);  // the lowest free slot comes back
  EXPECT_EQ(t.find("door"), 1);
  EXPECT_THROW(t.acquire("a"), Error);  // one slot per camera
  t.release(7);  // out of range: ignored
  t.release(1);
  t.release(1);  // twice: ignored
  EXPECT_EQ(t.used(), 2);
}

TEST(GpuBatcherSelection, RealCudaDeviceAndKeyOnly) {
  GpuConfig gpu;
  EXPECT_TRUE(use_gpu_batcher(0, 1, gpu));
  EXPECT_FALSE(use_gpu_batcher(1, 1, gpu));     // a simulated GPU index past the real ones
  EXPECT_FALSE(use_gpu_batcher(kCpu, 2, gpu));  // the CPU worker
  EXPECT_FALSE(use_gpu_batcher(0, 0, gpu));     // no CUDA at all
  gpu.batch_cameras = false;
  EXPECT_FALSE(use_gpu_batcher(0, 1, gpu));
  CameraConfig a, b;
  b.detector = "retinaface";
  EXPECT_TRUE(batch_compatible(batch_key(a), a));
  EXPECT_FALSE(batch_compatible(batch_key(a), b));
  b = a;
  b.max_faces = a.max_faces + 1;
  EXPECT_FALSE(batch_compatible(batch_key(a), b));
}

TEST(GpuBatcher, RefusesADifferentDetectorNamingTheCamera) {
  Fixture fx;
  FakeCamera cam("lobby");
  cam.config.detector = "retinaface";
  EXPECT_FALSE(fx.batcher->accepts(cam.config));
  try {
    fx.batcher->add(cam.config, cam);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("camera 'lobby': detector 'retinaface'", 0), 0u) << e.what();
  }
}

TEST(GpuBatcher, NewestFramePerCameraOneCallFacesRoutedInFlightStamped) {
  Fixture fx;
  FakePipeline& p = *fx.pipeline;
  FakeCamera a("a"), b("b"), c("c");
  const int sa = fx.batcher->add(a.config, a), sb = fx.batcher->add(b.config, b), sc = fx.batcher->add(c.config, c);
  EXPECT_EQ(fx.batcher->cameras(), 3);
  p.allowed.store(0);  // hold the next call at its start, like a long GPU call

  c.push(1);
  ASSERT_TRUE(eventually([&] { return p.started.load() == 1; }));
  EXPECT_NE(c.busy_since_ns.load(), 0u) << "in flight while the call runs";
  EXPECT_EQ(a.busy_since_ns.load(), 0u);
  // Meanwhile: three frames for a (only the newest may run), one for b.
  for (uint64_t s = 1; s <= 3; ++s) a.push(s);
  b.push(7);
  p.allowed.store(1);
  ASSERT_TRUE(eventually([&] { return p.started.load() == 2; }));
  EXPECT_NE(a.busy_since_ns.load(), 0u);
  EXPECT_NE(b.busy_since_ns.load(), 0u);
  EXPECT_EQ(c.busy_since_ns.load(), 0u) << "c has no frame: not in this batch";
  p.allowed.store(1 << 30);
  ASSERT_TRUE(eventually([&] { return a.published.load() == 1 && b.published.load() == 1; }));

  EXPECT_EQ(p.sizes[0], 1);
  EXPECT_EQ(p.slot_masks[0], 1u << sc);
  EXPECT_EQ(p.sizes[1], 2) << "a and b in one call";
  EXPECT_EQ(p.slot_masks[1], (1u << sa) | (1u << sb));
  EXPECT_EQ(a.last_sequence.load(), 3u);
  EXPECT_EQ(a.ring.counters().dropped, 2u) << "the older frames count as drops";
  EXPECT_EQ(a.last_face_id.load(), 1000 * sa + 3);
  EXPECT_EQ(b.last_face_id.load(), 1000 * sb + 7);
  EXPECT_EQ(c.last_face_id.load(), 1000 * sc + 1);
  EXPECT_EQ(c.published.load(), 1u);
  // Each camera gets the preview made for its own slot, at the size it asked for.
  EXPECT_EQ(a.preview_first_byte.load(), sa);
  EXPECT_EQ(b.preview_first_byte.load(), sb);
  EXPECT_EQ(c.preview_first_byte.load(), sc);
  EXPECT_EQ(a.preview_width.load(), 32) << "half of the 64-pixel frame, as the camera asked";
  EXPECT_EQ(a.busy_since_ns.load() + b.busy_since_ns.load() + c.busy_since_ns.load(), 0u);
  EXPECT_EQ(p.too_large.load(), 0) << "frame capacity is ensured before the call";
  for (const int slot : {sa, sb, sc}) fx.batcher->remove(slot);
  EXPECT_EQ(fx.batcher->cameras(), 0);
}

TEST(GpuBatcher, BackPressuredCameraLosesNoFrame) {
  Fixture fx;
  FakeCamera file("file", /*every_frame=*/true);
  fx.pipeline->allowed.store(0);
  file.push(1);
  file.push(2);
  const int slot = fx.batcher->add(file.config, file);
  fx.pipeline->allowed.store(1 << 30);
  ASSERT_TRUE(eventually([&] { return file.published.load() == 2; }));
  EXPECT_EQ(file.last_sequence.load(), 2u);
  EXPECT_EQ(file.ring.counters().dropped, 0u);
  fx.batcher->remove(slot);
}

TEST(GpuBatcher, CamerasComeAndGoWhileOthersRun) {
  Fixture fx;
  FakePipeline& p = *fx.pipeline;
  FakeCamera steady("steady");
  const int steady_slot = fx.batcher->add(steady.config, steady);
  std::atomic<bool> run{true};
  std::thread producer([&] {
    for (uint64_t s = 1; run.load(); ++s) {
      steady.push(s);
      std::this_thread::sleep_for(200us);
    }
  });
  for (int round = 0; round < 30; ++round) {
    FakeCamera guest("guest");
    const int slot = fx.batcher->add(guest.config, guest);
    EXPECT_NE(slot, steady_slot);
    guest.push(static_cast<uint64_t>(round + 1));
    ASSERT_TRUE(eventually([&] { return guest.published.load() == 1; })) << round;
    EXPECT_EQ(guest.last_face_id.load(), 1000 * slot + round + 1) << "never a face of the previous guest";
    guest.push(1000);  // left in its ring: must not be taken after remove()
    fx.batcher->remove(slot);
    const uint64_t after = guest.published.load();
    EXPECT_GE(p.resets[static_cast<size_t>(slot)].load(), round + 1);
    std::this_thread::sleep_for(1ms);
    EXPECT_EQ(guest.published.load(), after) << "a removed camera is never called again";
  }  // each guest is destroyed here, right after remove(): any later use would be caught by ASan
  const uint64_t before = steady.published.load();
  ASSERT_TRUE(eventually([&] { return steady.published.load() > before + 5; })) << "steady camera kept running";
  run.store(false);
  producer.join();
  fx.batcher->remove(steady_slot);
  EXPECT_EQ(steady.errors.load(), 0u);
}

TEST(GpuBatcher, NoHeapAllocationPerBatchOnceWarm) {
  Fixture fx;
  FakeCamera a("a"), b("b");
  const int sa = fx.batcher->add(a.config, a), sb = fx.batcher->add(b.config, b);
  uint64_t sequence = 0;
  auto frame_pair = [&] {
    ++sequence;
    const uint64_t want_a = a.published.load() + 1, want_b = b.published.load() + 1;
    a.push(sequence, 320, 240);
    b.push(sequence, 320, 240);
    return eventually([&] { return a.published.load() >= want_a && b.published.load() >= want_b; });
  };
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(frame_pair());  // every ring and batch buffer has the size
  const int grows = fx.pipeline->grows.load();
  const uint64_t before = test::heap_allocations();
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(frame_pair());
  EXPECT_EQ(test::heap_allocations() - before, 0u) << "operator new calls over 300 frame pairs";
  EXPECT_EQ(fx.pipeline->grows.load(), grows);
  fx.batcher->remove(sa);
  fx.batcher->remove(sb);
}

}  // namespace
}  // namespace facepipe::runtime
