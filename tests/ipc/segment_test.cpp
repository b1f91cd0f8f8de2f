// Segment names, creation, layout round trip, takeover rules, validation of hostile headers.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cmath>
#include <cstring>

#include "ipc/process_util.h"
#include "ipc/shm_reader.h"
#include "ipc/shm_writer.h"

namespace facepipe::ipc {
namespace {

using test::unique_instance;

WriterOptions small_options(const std::string& instance, const std::string& camera = "cam0") {
  WriterOptions o;
  o.instance = instance;
  o.camera = camera;
  o.slot_count = 4;
  o.max_faces = 3;
  o.preview_width = 64;
  o.preview_height = 36;
  o.heartbeat_thread = false;
  return o;
}

face::FaceResult make_face(int id) {
  face::FaceResult f;
  f.id = id;
  f.score = 0.5f + id * 0.01f;
  f.presence = 0.9f;
  f.box = {1.f * id, 2.f, 30.f + id, 40.f};
  f.num_landmarks = face::kNumLandmarks;
  for (size_t i = 0; i < f.landmarks.size(); ++i) f.landmarks[i] = {float(i), float(id), float(i) * 0.5f};
  f.has_blendshapes = true;
  for (size_t i = 0; i < f.blendshapes.size(); ++i) f.blendshapes[i] = float(i) / 52.f;
  f.has_pose = true;
  for (size_t i = 0; i < 16; ++i) f.transform[i] = float(i);
  f.yaw = 10, f.pitch = -5, f.roll = 3;
  f.roi = {100, 120, 80, 0.25f};
  return f;
}

TEST(SegmentName, ValidatesParts) {
  EXPECT_EQ(segment_name("studio", "cam0").value(), "/facepipe.studio.cam0");
  EXPECT_EQ(segment_name("a-b_C", "9").value(), "/facepipe.a-b_C.9");
  EXPECT_FALSE(segment_name("", "cam"));
  EXPECT_FALSE(segment_name("a.b", "cam"));
  EXPECT_FALSE(segment_name("a", "../x"));
  EXPECT_FALSE(segment_name("a", "c/d"));
  EXPECT_FALSE(segment_name("a", std::string(49, 'x')));
  EXPECT_TRUE(segment_name("a", std::string(48, 'x')));
  auto id = parse_segment_name("facepipe.inst.cam1");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->instance, "inst");
  EXPECT_EQ(id->camera, "cam1");
  EXPECT_FALSE(parse_segment_name("facepipe.inst"));
  EXPECT_FALSE(parse_segment_name("other.inst.cam"));
  EXPECT_FALSE(parse_segment_name("facepipe.a.b.c"));
  EXPECT_THROW(ShmWriter::create(small_options("bad.name")), Error);
  EXPECT_THROW(ShmReader("ok", "bad/cam"), Error);
}

TEST(Segment, RoundTripAndPermissions) {
  test::ChildProcesses guard(unique_instance("rt"));
  ShmWriter writer = ShmWriter::create(small_options(guard.instance()));
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm" + writer.name()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  ShmReader reader(guard.instance(), "cam0");
  ASSERT_TRUE(reader.attached());
  Frame frame;
  EXPECT_EQ(reader.read_latest(frame), ReadStatus::kNoNewFrame);

  // RGB preview 50x30 (smaller than the 64x36 maximum): stored as BGR.
  media::Image preview(50, 30, media::PixelFormat::kRGB8);
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 50; ++x) {
      uint8_t* p = preview.pixel(x, y);
      p[0] = uint8_t(x), p[1] = uint8_t(y), p[2] = uint8_t(x + y);
    }
  std::vector<face::FaceResult> faces = {make_face(7), make_face(8)};
  ASSERT_TRUE(writer.publish({42, 1234, 1920, 1080}, faces, preview.view()).is_ok());

  ASSERT_EQ(reader.read_latest(frame), ReadStatus::kFrame);
  EXPECT_EQ(frame.frame_id(), 42u);
  EXPECT_EQ(frame.publish_index(), 1u);
  EXPECT_EQ(frame.info().capture_ns, 1234u);
  EXPECT_EQ(frame.info().source_width, 1920u);
  ASSERT_EQ(frame.faces().size(), 2u);
  const fp_shm_face& f = frame.faces()[1];
  EXPECT_EQ(f.id, 8);
  EXPECT_FLOAT_EQ(f.score, 0.58f);
  EXPECT_EQ(f.num_landmarks, 478u);
  EXPECT_EQ(f.flags, unsigned(FP_SHM_FACE_HAS_BLENDSHAPES | FP_SHM_FACE_HAS_POSE));
  EXPECT_FLOAT_EQ(f.landmarks[477][0], 477.f);
  EXPECT_FLOAT_EQ(f.landmarks[477][1], 8.f);
  EXPECT_FLOAT_EQ(f.landmarks[10][2], 5.f);
  EXPECT_FLOAT_EQ(f.blendshapes[51], 51.f / 52.f);
  EXPECT_FLOAT_EQ(f.transform[15], 15.f);
  EXPECT_FLOAT_EQ(f.roi[3], 0.25f);
  EXPECT_FLOAT_EQ(f.box[2], 38.f);
  const PreviewView pv = frame.preview();
  ASSERT_FALSE(pv.empty());
  EXPECT_EQ(pv.width, 50);
  EXPECT_EQ(pv.height, 30);
  EXPECT_EQ(pv.format, unsigned(FP_SHM_PREVIEW_BGR8));
  EXPECT_EQ(pv.row(29)[3 * 49 + 0], uint8_t(49 + 29));  // B <- R
  EXPECT_EQ(pv.row(29)[3 * 49 + 2], uint8_t(49));       // R
  EXPECT_EQ(reader.read_latest(frame), ReadStatus::kNoNewFrame);

  // Too many faces: the first max_faces are published, the rest counted.
  std::vector<face::FaceResult> many = {make_face(1), make_face(2), make_face(3), make_face(4), make_face(5)};
  ASSERT_TRUE(writer.publish({43, 0, 640, 480}, many).is_ok());
  EXPECT_EQ(writer.faces_dropped(), 2u);
  ASSERT_EQ(reader.read_latest(frame), ReadStatus::kFrame);
  EXPECT_EQ(frame.faces().size(), 3u);
  EXPECT_TRUE(frame.preview().empty());

  // A preview larger than the segment's is refused, nothing published.
  media::Image big(65, 36, media::PixelFormat::kBGR8);
  EXPECT_EQ(writer.publish({44, 0, 640, 480}, faces, big.view()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.publish_count(), 2u);

  writer.close();
  EXPECT_EQ(reader.state(), ReadStatus::kStale);  // closed counts as stale
  EXPECT_NE(::access(("/dev/shm" + std::string(writer.name())).c_str(), F_OK), 0);
}

TEST(Segment, LiveWriterIsNotTakenOverDeadOneIs) {
  test::ChildProcesses guard(unique_instance("own"));
  auto options = small_options(guard.instance());
  options.heartbeat_thread = true;
  ShmWriter first = ShmWriter::create(options);
  try {
    ShmWriter::create(options);
    FAIL() << "second writer on a live segment";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("in use by a live writer"), std::string::npos) << e.what();
  }
  // A writer that died (a child killed with SIGKILL) leaves its segment: it is taken over at once.
  const pid_t child = guard.fork_run([&] {
    auto o = small_options(guard.instance(), "cam1");
    o.heartbeat_thread = true;
    ShmWriter w = ShmWriter::create(o);
    ::pause();
    return 0;
  });
  ASSERT_TRUE(test::wait_until([&] { return ShmReader(guard.instance(), "cam1").attached(); },
                               std::chrono::milliseconds(5000)));
  guard.kill_and_reap(child, SIGKILL);
  ShmReader reader(guard.instance(), "cam1");
  ASSERT_TRUE(reader.attached());
  EXPECT_NO_THROW({
    ShmWriter second = ShmWriter::create(small_options(guard.instance(), "cam1"));
    EXPECT_EQ(second.publish_count(), 0u);
  });
}

TEST(Segment, RejectsIncompatibleAndHostileHeaders) {
  test::ChildProcesses guard(unique_instance("bad"));
  ShmWriter writer = ShmWriter::create(small_options(guard.instance()));
  // Copy the writer's segment into private memory and damage it in various ways.
  std::vector<uint64_t> copy(writer.size() / 8);
  std::memcpy(copy.data(), writer.base(), writer.size());
  auto* h = reinterpret_cast<fp_shm_header*>(copy.data());
  std::string why;
  bool not_ready = false;
  ASSERT_TRUE(SegmentView::attach(copy.data(), writer.size(), &why));

  h->layout_version = 2;
  EXPECT_FALSE(SegmentView::attach(copy.data(), writer.size(), &why, &not_ready));
  EXPECT_NE(why.find("layout version 2"), std::string::npos) << why;
  EXPECT_FALSE(not_ready);
  h->layout_version = FP_SHM_LAYOUT_VERSION;

  h->slot_count = 1000;  // slots beyond the mapping
  EXPECT_FALSE(SegmentView::attach(copy.data(), writer.size(), &why));
  h->slot_count = 4;
  EXPECT_FALSE(SegmentView::attach(copy.data(), writer.size() - 64, &why));  // truncated file

  h->magic = 0;
  EXPECT_FALSE(SegmentView::attach(copy.data(), writer.size(), &why, &not_ready));
  EXPECT_TRUE(not_ready);
  h->magic = FP_SHM_MAGIC;

  // A complete slot whose num_faces exceeds the capacity is reported corrupt, never copied.
  std::vector<face::FaceResult> faces = {make_face(1)};
  ASSERT_TRUE(writer.publish({1, 0, 10, 10}, faces).is_ok());
  std::memcpy(copy.data(), writer.base(), writer.size());
  auto view = SegmentView::attach(copy.data(), writer.size());
  ASSERT_TRUE(view);
  auto* slot = reinterpret_cast<fp_shm_slot_header*>(reinterpret_cast<uint8_t*>(copy.data()) + h->slots_offset);
  slot->num_faces = 1000;
  Frame frame;
  EXPECT_EQ(view->read(1, frame), SegmentView::SlotRead::kCorrupt);
  slot->num_faces = 1;
  slot->preview_width = 10;
  slot->preview_height = 10;
  slot->preview_stride = 1 << 20;
  EXPECT_EQ(view->read(1, frame), SegmentView::SlotRead::kCorrupt);
}

TEST(Segment, FollowCountsOverwrittenFramesAsMissed) {
  test::ChildProcesses guard(unique_instance("miss"));
  ShmWriter writer = ShmWriter::create(small_options(guard.instance()));  // 4 slots
  ShmReader reader(guard.instance(), "cam0");
  Frame frame;
  std::vector<face::FaceResult> none;
  for (uint64_t i = 1; i <= 2; ++i) ASSERT_TRUE(writer.publish({i, 0, 1, 1}, none).is_ok());
  ASSERT_EQ(reader.read_next(frame), ReadStatus::kFrame);
  EXPECT_EQ(frame.frame_id(), 1u);
  EXPECT_EQ(frame.missed, 0u);
  for (uint64_t i = 3; i <= 20; ++i) ASSERT_TRUE(writer.publish({i, 0, 1, 1}, none).is_ok());
  // Publishes 2..16 were overwritten; the oldest safe one is 20 - 4 + 2 = 18.
  ASSERT_EQ(reader.read_next(frame), ReadStatus::kFrame);
  EXPECT_EQ(frame.frame_id(), 18u);
  EXPECT_EQ(frame.missed, 16u);
  uint64_t received = 2;
  while (reader.read_next(frame) == ReadStatus::kFrame) ++received;
  EXPECT_EQ(received, 4u);
  EXPECT_EQ(reader.received() + reader.missed(), writer.publish_count());
}

}  // namespace
}  // namespace facepipe::ipc
