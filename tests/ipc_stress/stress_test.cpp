// Seqlock stress: one writer at full speed, four readers following every frame and one reading the
// latest, all in this process on the writer's own mapping so that ThreadSanitizer sees every access
// (scripts/tsan_ipc.sh runs it under TSAN for 10 s; ctest runs it for 2 s).
//
// Every word a frame carries is a function of its frame number, with the number of faces and the
// presence and size of the preview varying from frame to frame: a reader that accepted a torn slot
// (words of two publishes) would find a word that does not match. Accounting: for each follower,
// received + missed must equal the number of frames published.
//
// Sensitivity, checked by mutation: with SegmentView::read's second sequence check removed, the
// 2-slot ring and 320x180 previews make this test report torn frames within 2 s (7 in one run on the
// 2-core development machine); with the check, none in 10 s under TSAN or 2 s without.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "ipc/test_instance.h"
#include "ipc/shm_reader.h"
#include "ipc/shm_writer.h"

namespace facepipe::ipc {
namespace {

constexpr int kMaxFaces = 3;
double stress_seconds() {
  const char* s = std::getenv("FACEPIPE_IPC_STRESS_SECONDS");
  return s ? std::atof(s) : 2.0;
}
// Preview size: FACEPIPE_IPC_STRESS_PREVIEW=WxH (default 320x180; scripts/tsan_ipc.sh uses a small
// one because every instrumented atomic store makes large previews slow under TSAN).
std::pair<int, int> preview_size() {
  int w = 320, h = 180;
  if (const char* s = std::getenv("FACEPIPE_IPC_STRESS_PREVIEW")) std::sscanf(s, "%dx%d", &w, &h);
  return {std::max(8, w), std::max(1, h)};
}
const int kPreviewW = preview_size().first, kPreviewH = preview_size().second;

float landmark_value(uint64_t frame, int face, int i) {
  return static_cast<float>((frame * 1009 + static_cast<uint64_t>(face) * 131 + static_cast<uint64_t>(i)) % (1u << 22));
}
uint8_t pixel_value(uint64_t frame, int x, int y, int c) { return static_cast<uint8_t>(frame * 7 + x * 3 + y * 5 + c); }
int faces_in(uint64_t frame) { return static_cast<int>(frame % (kMaxFaces + 1)); }
bool has_preview(uint64_t frame) { return frame % 3 != 0; }
int preview_width(uint64_t frame) { return kPreviewW - static_cast<int>(frame % 5); }

// A BGR preview in a plain buffer (the test needs no media library, so the TSAN build stays small).
struct PreviewBuffer {
  std::vector<uint8_t> pixels = std::vector<uint8_t>(static_cast<size_t>(kPreviewW) * kPreviewH * 3);
  int width = 0;
  uint8_t* pixel(int x, int y) { return pixels.data() + (static_cast<size_t>(y) * kPreviewW + x) * 3; }
  media::ConstImageView view() const {
    return {pixels.data(), width, kPreviewH, kPreviewW * 3, media::PixelFormat::kBGR8};
  }
};

void fill_frame(uint64_t frame, std::vector<fp_shm_face>& faces, PreviewBuffer& preview) {
  for (int f = 0; f < faces_in(frame); ++f) {
    fp_shm_face& r = faces[static_cast<size_t>(f)];
    r.id = static_cast<int32_t>(frame % 1000000) * 8 + f;
    r.num_landmarks = FP_SHM_NUM_LANDMARKS;
    for (int i = 0; i < FP_SHM_NUM_LANDMARKS; ++i)
      for (int k = 0; k < 3; ++k) r.landmarks[i][k] = landmark_value(frame, f, i * 3 + k);
    for (int b = 0; b < FP_SHM_NUM_BLENDSHAPES; ++b) r.blendshapes[b] = landmark_value(frame, f, 5000 + b);
    for (int t = 0; t < 16; ++t) r.transform[t] = landmark_value(frame, f, 6000 + t);
    r.box[0] = r.box[1] = r.box[2] = r.box[3] = static_cast<float>(frame % 4096);
  }
  const int w = preview_width(frame);
  preview.width = w;
  for (int y = 0; y < kPreviewH; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) preview.pixel(x, y)[c] = pixel_value(frame, x, y, c);
}

// Number of words in `frame` that do not belong to its frame number (0 for an intact copy).
uint64_t count_mismatches(const Frame& frame) {
  const uint64_t id = frame.frame_id();
  uint64_t bad = 0;
  if (frame.publish_index() != id) ++bad;  // the writer publishes frame n as publish n
  if (static_cast<int>(frame.faces().size()) != faces_in(id)) return bad + 1;
  for (int f = 0; f < faces_in(id); ++f) {
    const fp_shm_face& r = frame.faces()[static_cast<size_t>(f)];
    bad += r.id != static_cast<int32_t>(id % 1000000) * 8 + f;
    for (int i = 0; i < FP_SHM_NUM_LANDMARKS; ++i)
      for (int k = 0; k < 3; ++k) bad += r.landmarks[i][k] != landmark_value(id, f, i * 3 + k);
    for (int b = 0; b < FP_SHM_NUM_BLENDSHAPES; ++b) bad += r.blendshapes[b] != landmark_value(id, f, 5000 + b);
    for (int t = 0; t < 16; ++t) bad += r.transform[t] != landmark_value(id, f, 6000 + t);
    bad += r.box[3] != static_cast<float>(id % 4096);
  }
  const PreviewView p = frame.preview();
  if (p.empty() != !has_preview(id)) return bad + 1;
  if (!p.empty()) {
    if (p.width != preview_width(id) || p.height != kPreviewH) return bad + 1;
    for (int y = 0; y < p.height; ++y)
      for (int x = 0; x < p.width; ++x)
        for (int c = 0; c < 3; ++c) bad += p.row(y)[3 * x + c] != pixel_value(id, x, y, c);
  }
  return bad;
}

TEST(IpcStress, WriterFullSpeedFourFollowersNoTornReadsEveryFrameAccounted) {
  test::SegmentCleanup guard(test::unique_instance("stress"));
  WriterOptions o;
  o.instance = guard.instance();
  o.camera = "cam0";
  o.slot_count = 2;  // the smallest ring: readers are lapped all the time, copies overlap the writer
  o.max_faces = kMaxFaces;
  o.preview_width = kPreviewW;
  o.preview_height = kPreviewH;
  ShmWriter writer = ShmWriter::create(o);
  auto view = SegmentView::attach(writer.base(), writer.size());
  ASSERT_TRUE(view);

  constexpr int kFollowers = 4;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> published{0};
  struct Result {
    uint64_t received = 0, missed = 0, torn = 0, out_of_order = 0, missed_sum = 0;
  };
  std::vector<Result> results(kFollowers + 1);

  std::vector<std::thread> threads;
  for (int r = 0; r < kFollowers; ++r)
    threads.emplace_back([&, r] {
      FollowCursor cursor;
      Frame frame;
      uint64_t last = 0;
      Result& res = results[static_cast<size_t>(r)];
      for (;;) {
        const bool writer_done = stop.load(std::memory_order_acquire);
        if (view->read_next(cursor, frame)) {
          res.torn += count_mismatches(frame) != 0;
          res.out_of_order += frame.frame_id() != last + 1 + frame.missed;
          res.missed_sum += frame.missed;
          last = frame.frame_id();
        } else if (writer_done && cursor.next > published.load()) {
          break;  // drained: everything published was received or reported missed
        } else {
          std::this_thread::yield();
        }
      }
      res.received = cursor.received;
      res.missed = cursor.missed;
    });
  threads.emplace_back([&] {  // one latest-frame reader
    Frame frame;
    uint64_t last_delivered = 0, previous_id = 0;
    Result& res = results[kFollowers];
    while (!stop.load(std::memory_order_acquire)) {
      if (view->read_latest(last_delivered, frame)) {
        res.torn += count_mismatches(frame) != 0;
        res.out_of_order += frame.frame_id() <= previous_id;
        previous_id = frame.frame_id();
        ++res.received;
      }
    }
  });

  std::vector<fp_shm_face> faces(kMaxFaces);
  PreviewBuffer preview;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(stress_seconds());
  uint64_t n = 0;
  while (std::chrono::steady_clock::now() < end) {
    ++n;
    fill_frame(n, faces, preview);
    const media::ConstImageView pv = has_preview(n) ? preview.view() : media::ConstImageView{};
    ASSERT_TRUE(writer.publish_records({n, 0, 640, 480}, {faces.data(), static_cast<size_t>(faces_in(n))}, pv).is_ok());
  }
  published.store(n);
  stop.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();

  std::printf("stress: %.1f s, %llu frames published (%.0f/s)\n", stress_seconds(), static_cast<unsigned long long>(n),
              static_cast<double>(n) / stress_seconds());
  for (int r = 0; r < kFollowers; ++r) {
    const Result& res = results[static_cast<size_t>(r)];
    std::printf("  follower %d: received %llu + missed %llu = %llu, torn %llu\n", r,
                static_cast<unsigned long long>(res.received), static_cast<unsigned long long>(res.missed),
                static_cast<unsigned long long>(res.received + res.missed), static_cast<unsigned long long>(res.torn));
    EXPECT_EQ(res.torn, 0u) << "follower " << r;
    EXPECT_EQ(res.out_of_order, 0u) << "follower " << r;
    EXPECT_EQ(res.received + res.missed, n) << "follower " << r;
    EXPECT_EQ(res.missed_sum, res.missed) << "follower " << r;
    EXPECT_GT(res.received, 0u);
  }
  std::printf("  latest reader: %llu frames, torn %llu\n", static_cast<unsigned long long>(results[kFollowers].received),
              static_cast<unsigned long long>(results[kFollowers].torn));
  EXPECT_EQ(results[kFollowers].torn, 0u);
  EXPECT_EQ(results[kFollowers].out_of_order, 0u);
}

}  // namespace
}  // namespace facepipe::ipc
