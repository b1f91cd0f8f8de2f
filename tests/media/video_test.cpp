#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>

#include "common/status.h"
#include "media/image_io.h"
#include "media/media_test_util.h"
#include "media/video_reader.h"
#include "media/video_writer.h"
#include "support/allocation_counter.h"
#include "support/test_support.h"

// support/allocation_counter counts C++ heap allocations, so a test can prove read() allocates
// nothing after the first frame. (FFmpeg allocates with malloc and is not counted: that is its
// business, see video_reader.h.)

namespace facepipe::media {
namespace {

namespace fs = std::filesystem;
using test::ScratchDir;

fs::path video_dir() { return facepipe::test::testdata_dir() / "video"; }
fs::path talking_video() { return video_dir() / "talking_man_glasses_720x1280.mp4"; }

TEST(VideoReader, StreamInfoAndTimestamps) {
  FACEPIPE_REQUIRE_FILE(talking_video());
  VideoReader reader(talking_video().string());
  const VideoStreamInfo& info = reader.info();
  EXPECT_EQ(info.width, 720);
  EXPECT_EQ(info.height, 1280);
  EXPECT_NEAR(info.fps, 30.0, 1e-6);
  EXPECT_EQ(info.codec_name, "h264");
  EXPECT_NEAR(info.duration_seconds, 11.7, 0.1);
  EXPECT_NEAR(static_cast<double>(info.frame_count_estimate), 351, 3);
  EXPECT_EQ(info.rotation_degrees, 0);

  VideoFrame frame;
  int64_t count = 0, last_ms = -1;
  Status status;
  while ((status = reader.read(frame)).is_ok()) {
    ASSERT_EQ(frame.index, count);
    ASSERT_EQ(frame.image.width(), 720);
    ASSERT_EQ(frame.image.height(), 1280);
    // 30 fps: frame i at round(i * 1000 / 30) ms: 0, 33, 67, 100, ...
    ASSERT_EQ(frame.timestamp_ms, (count * 1000 + 15) / 30) << "frame " << count;
    ASSERT_GT(frame.timestamp_ms, last_ms);
    EXPECT_FALSE(frame.timestamp_estimated);
    last_ms = frame.timestamp_ms;
    ++count;
  }
  EXPECT_TRUE(is_end_of_stream(status)) << status.message();
  EXPECT_EQ(count, info.frame_count_estimate);  // the container's count is exact here
  EXPECT_NEAR(static_cast<double>(count), 351, 3);
  EXPECT_EQ(reader.decode_errors(), 0);
  EXPECT_TRUE(is_end_of_stream(reader.read(frame)));  // stays at the end
}

TEST(VideoReader, FirstFrameMatchesImageDecodeAndBgrSwaps) {
  FACEPIPE_REQUIRE_FILE(talking_video());
  VideoReaderOptions accurate;
  accurate.accurate_color = true;  // the same conversion decode_image_file uses
  VideoReader accurate_reader(talking_video().string(), accurate);
  VideoFrame first;
  ASSERT_TRUE(accurate_reader.read(first).is_ok());
  EXPECT_EQ(test::diff(first.image.view(), decode_image_file(talking_video()).view()).max, 0);

  VideoReader rgb_reader(talking_video().string());  // fast path: close to the accurate one
  VideoFrame rgb;
  ASSERT_TRUE(rgb_reader.read(rgb).is_ok());
  const test::PixelDiff fast = test::diff(rgb.image.view(), first.image.view());
  std::printf("  fast vs accurate colour conversion: mean %.3f max %d\n", fast.mean, fast.max);
  EXPECT_LT(fast.mean, 1.5);

  VideoReaderOptions options;
  options.format = PixelFormat::kBGR8;
  VideoReader bgr_reader(talking_video().string(), options);
  VideoFrame bgr;
  ASSERT_TRUE(bgr_reader.read(bgr).is_ok());
  EXPECT_EQ(bgr.image.format(), PixelFormat::kBGR8);
  EXPECT_EQ(test::diff(to_format(rgb.image.view(), PixelFormat::kBGR8).view(), bgr.image.view()).max, 0);
}

TEST(VideoReader, NoHeapAllocationPerFrameAfterTheFirst) {
  FACEPIPE_REQUIRE_FILE(talking_video());
  VideoReaderOptions options;
  options.decoder_threads = 1;
  VideoReader reader(talking_video().string(), options);
  VideoFrame frame;
  ASSERT_TRUE(reader.read(frame).is_ok());
  const uint8_t* pixels = frame.image.data();
  const long before = static_cast<long>(facepipe::test::heap_allocations());
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(reader.read(frame).is_ok());
  EXPECT_EQ(static_cast<long>(facepipe::test::heap_allocations()) - before, 0);
  EXPECT_EQ(frame.image.data(), pixels);  // the output buffer was reused
}

TEST(VideoReader, SeekToStartLoops) {
  FACEPIPE_REQUIRE_FILE(talking_video());
  VideoReader reader(talking_video().string());
  VideoFrame frame;
  ASSERT_TRUE(reader.read(frame).is_ok());
  const Image first = frame.image.clone();
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(reader.read(frame).is_ok());
  ASSERT_TRUE(reader.seek_to_start().is_ok());
  ASSERT_TRUE(reader.read(frame).is_ok());
  EXPECT_EQ(frame.index, 0);
  EXPECT_EQ(frame.timestamp_ms, 0);
  EXPECT_EQ(test::diff(first.view(), frame.image.view()).max, 0);
  // Also after reaching the end (the decoder was drained).
  while (reader.read(frame).is_ok()) {
  }
  ASSERT_TRUE(reader.seek_to_start().is_ok());
  ASSERT_TRUE(reader.read(frame).is_ok());
  EXPECT_EQ(test::diff(first.view(), frame.image.view()).max, 0);
}

// Starts at 0.85 s in its container and carries audio: timestamps still start at 0 and increase.
TEST(VideoReader, StreamWithAudioAndStartOffset) {
  const fs::path video = video_dir() / "stage_multi_person_profile_640x360.mp4";
  FACEPIPE_REQUIRE_FILE(video);
  VideoReader reader(video.string());
  EXPECT_EQ(reader.info().width, 640);
  EXPECT_EQ(reader.info().height, 360);
  EXPECT_NEAR(reader.info().fps, 29.97, 0.01);
  VideoFrame frame;
  int64_t count = 0, last = -1;
  while (reader.read(frame).is_ok()) {
    if (count == 0) {
      EXPECT_EQ(frame.timestamp_ms, 0);
    }
    ASSERT_GT(frame.timestamp_ms, last);
    last = frame.timestamp_ms;
    ++count;
  }
  EXPECT_NEAR(static_cast<double>(count), reader.info().frame_count_estimate, 2);
  EXPECT_NEAR(static_cast<double>(last), (count - 1) * 1000.0 / reader.info().fps, 40);
}

TEST(VideoReader, OpenErrorsNameTheSource) {
  ScratchDir dir;
  EXPECT_THROW(VideoReader((dir / "missing.mp4").string()), Error);
  test::write_bytes(dir / "text.mp4", "not a video\n", 12);
  try {
    VideoReader reader((dir / "text.mp4").string());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("text.mp4"), std::string::npos) << e.what();
  }
  VideoReader closed;
  VideoFrame frame;
  EXPECT_EQ(closed.read(frame).code(), StatusCode::kInvalidArgument);
}

// Cut at half. This file keeps its index (moov) at the end, so the cut copy cannot even be opened:
// a clear error. Rewritten with the index first (as streaming files are), the cut copy yields the
// frames before the cut and then a clean end.
TEST(VideoReader, TruncatedFiles) {
  FACEPIPE_REQUIRE_FILE(talking_video());
  ScratchDir dir;
  const auto half = fs::file_size(talking_video()) / 2;
  test::copy_prefix(talking_video(), dir / "cut.mp4", half);
  try {
    VideoReader reader((dir / "cut.mp4").string());
    ADD_FAILURE() << "opened a file without its index";
  } catch (const Error& e) {
    std::printf("  error: %s\n", e.what());
    EXPECT_NE(std::string(e.what()).find("cut.mp4"), std::string::npos);
  }

  if (!test::have_ffmpeg_cli()) GTEST_SKIP() << "ffmpeg CLI not installed";
  ASSERT_TRUE(test::run_ffmpeg("-i " + talking_video().string() + " -c copy -movflags +faststart " +
                               (dir / "fast.mp4").string()));
  test::copy_prefix(dir / "fast.mp4", dir / "fast_cut.mp4", fs::file_size(dir / "fast.mp4") / 2);
  VideoReader reader((dir / "fast_cut.mp4").string());
  VideoFrame frame;
  int64_t count = 0;
  Status status;
  while ((status = reader.read(frame)).is_ok()) ++count;
  std::printf("  truncated at half: %lld frames, then '%s'\n", static_cast<long long>(count), status.message());
  EXPECT_GT(count, 100);
  EXPECT_LT(count, 300);
  EXPECT_TRUE(is_end_of_stream(status) || status.code() == StatusCode::kInvalidArgument) << status.message();
}

// Garbage over a stretch in the middle of the video data: decoding continues past it, no crash.
TEST(VideoReader, CorruptMiddleKeepsGoing) {
  FACEPIPE_REQUIRE_FILE(talking_video());
  ScratchDir dir;
  std::ifstream in(talking_video(), std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint32_t state = 12345;
  for (size_t i = data.size() / 3; i < data.size() / 3 + 20000; ++i) {
    state = state * 1664525u + 1013904223u;
    data[i] = static_cast<char>(state >> 24);
  }
  test::write_bytes(dir / "corrupt.mp4", data.data(), data.size());
  VideoReader reader((dir / "corrupt.mp4").string());
  VideoFrame frame;
  int64_t count = 0, last = -1;
  Status status;
  while ((status = reader.read(frame)).is_ok()) {
    ASSERT_GT(frame.timestamp_ms, last);
    last = frame.timestamp_ms;
    ++count;
  }
  std::printf("  corrupt middle: %lld frames, %lld decode errors, then '%s'\n", static_cast<long long>(count),
              static_cast<long long>(reader.decode_errors()), status.message());
  EXPECT_GT(count, 200);
}

// The display matrix is honoured the way the ffmpeg CLI's autorotate does it. (The CLI's
// "rotate=90" tag stores a matrix that turns the picture 90 degrees counter-clockwise.)
TEST(VideoReader, RotationMetadataIsApplied) {
  FACEPIPE_REQUIRE_FILE(talking_video());
  if (!test::have_ffmpeg_cli()) GTEST_SKIP() << "ffmpeg CLI not installed";
  ScratchDir dir;
  const fs::path rotated = dir / "rotated.mp4";
  ASSERT_TRUE(test::run_ffmpeg("-i " + talking_video().string() + " -t 0.5 -c copy -metadata:s:v:0 rotate=90 " +
                               rotated.string()));
  ASSERT_TRUE(test::run_ffmpeg("-i " + rotated.string() + " -frames:v 1 " + (dir / "cli_first.png").string()));
  VideoReader reader(rotated.string());
  if (reader.info().rotation_degrees == 0) GTEST_SKIP() << "this ffmpeg CLI did not write a display matrix";
  EXPECT_EQ(reader.info().rotation_degrees, 270);  // clockwise
  EXPECT_TRUE(reader.info().rotation_applied);
  EXPECT_EQ(reader.info().width, 1280);
  EXPECT_EQ(reader.info().height, 720);
  VideoFrame frame;
  ASSERT_TRUE(reader.read(frame).is_ok());
  ASSERT_EQ(frame.image.width(), 1280);

  // Same pixels as the unrotated stream turned by EXIF orientation 8 (90 deg counter-clockwise) ...
  VideoReader plain(talking_video().string());
  VideoFrame upright;
  ASSERT_TRUE(plain.read(upright).is_ok());
  Image turned(1280, 720);
  orient_pixels(upright.image.view(), 8, turned.view());
  EXPECT_EQ(test::diff(turned.view(), frame.image.view()).max, 0);
  // ... and what the ffmpeg CLI shows (its own YUV->RGB rounding differs slightly).
  const test::PixelDiff cli = test::diff(decode_image_file(dir / "cli_first.png").view(), frame.image.view());
  EXPECT_LT(cli.mean, 3.0);

  VideoReaderOptions as_stored;
  as_stored.apply_rotation = false;
  VideoReader raw(rotated.string(), as_stored);
  EXPECT_EQ(raw.info().width, 720);
  EXPECT_FALSE(raw.info().rotation_applied);
}

// Smooth synthetic frames (a moving gradient) so that lossy coding stays close to the source.
Image synthetic_frame(int w, int h, int i) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.pixel(x, y);
      p[0] = static_cast<uint8_t>((x * 255) / w);
      p[1] = static_cast<uint8_t>((y * 255) / h);
      p[2] = static_cast<uint8_t>(i * 8);
    }
  return img;
}

void round_trip(const std::string& codec, int w, int h, double fps) {
  ScratchDir dir;
  const fs::path path = dir / "out.mp4";
  VideoWriterOptions options;
  options.codec = codec;
  options.fps = fps;
  VideoWriter writer(path, w, h, options);
  std::vector<Image> frames;
  for (int i = 0; i < 30; ++i) {
    frames.push_back(synthetic_frame(w, h, i));
    ASSERT_TRUE(writer.write(frames.back().view()).is_ok());
  }
  EXPECT_EQ(writer.frames_written(), 30);
  std::printf("  %s %dx%d @ %.2f fps -> encoder %s %dx%d\n", codec.c_str(), w, h, fps, writer.codec_name().c_str(),
              writer.encoded_width(), writer.encoded_height());
  writer.close();
  EXPECT_FALSE(writer.is_open());

  VideoReader reader(path.string());
  EXPECT_EQ(reader.info().width, writer.encoded_width());
  EXPECT_EQ(reader.info().height, writer.encoded_height());
  EXPECT_NEAR(reader.info().fps, fps, 0.01);
  VideoFrame frame;
  int count = 0;
  double worst_mean = 0;
  while (reader.read(frame).is_ok()) {
    EXPECT_NEAR(static_cast<double>(frame.timestamp_ms), count * 1000.0 / fps, 1.0);
    // Compare the original area (padding excluded).
    ConstImageView decoded = frame.image.view();
    decoded.width = w;
    decoded.height = h;
    worst_mean = std::max(worst_mean, test::diff(frames[count].view(), decoded).mean);
    ++count;
  }
  EXPECT_EQ(count, 30);
  std::printf("  worst per-frame mean abs diff %.2f\n", worst_mean);
  EXPECT_LT(worst_mean, 4.0);
}

TEST(VideoWriter, RoundTripDefaultEncoder) {
  round_trip("", 160, 96, 30.0);
  EXPECT_EQ(VideoWriter::has_encoder("libx264"), VideoWriter::has_encoder("libx264"));
}

TEST(VideoWriter, RoundTripOddSizeMpeg4Fallback) { round_trip("mpeg4", 75, 41, 29.97); }

TEST(VideoWriter, RejectsBadInput) {
  ScratchDir dir;
  EXPECT_THROW(VideoWriter(dir / "out.unknownext", 64, 64), Error);
  EXPECT_THROW(VideoWriter(dir / "out.mp4", 0, 64), Error);
  VideoWriterOptions no_such;
  no_such.codec = "no_such_encoder";
  EXPECT_THROW(VideoWriter(dir / "out.mp4", 64, 64, no_such), Error);
  VideoWriter writer(dir / "ok.mp4", 64, 64);
  Image wrong(32, 32);
  EXPECT_EQ(writer.write(wrong.view()).code(), StatusCode::kInvalidArgument);
  writer.close();
  writer.close();  // idempotent
  EXPECT_FALSE(writer.write(wrong.view()).is_ok());
}

}  // namespace
}  // namespace facepipe::media
