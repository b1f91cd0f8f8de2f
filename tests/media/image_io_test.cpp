#include "media/image_io.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <vector>

#include "common/status.h"
#include "media/media_test_util.h"
#include "support/test_support.h"

namespace facepipe::media {
namespace {

namespace fs = std::filesystem;
using test::ScratchDir;

fs::path image_dir() { return facepipe::test::testdata_dir() / "images"; }
fs::path chromium_dir() { return facepipe::test::reference_dir() / "mediapipe" / "decoded"; }

// Expects decode_image_file(path) to throw an Error whose message names the file and contains `cause`.
void expect_error(const fs::path& path, const std::string& cause, const DecodeOptions& options = {}) {
  try {
    decode_image_file(path, nullptr, options);
    ADD_FAILURE() << "no error for " << path;
  } catch (const Error& e) {
    const std::string message = e.what();
    std::printf("  error: %s\n", message.c_str());
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find(cause), std::string::npos) << message;
  }
}

Image noise_image(int w, int h, unsigned seed) {
  Image img(w, h);
  std::mt19937 rng(seed);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w * 3; ++x) img.row(y)[x] = static_cast<uint8_t>(rng());
  return img;
}

TEST(DecodeImage, EveryTestImageHasItsManifestSize) {
  const struct {
    const char* file;
    int w, h;
  } kImages[] = {
      {"single_frontal_large.jpg", 565, 800}, {"single_frontal_150px.jpg", 853, 480},
      {"single_frontal_100px_astronaut.png", 512, 512}, {"single_small_40px.jpg", 548, 342},
      {"group_8faces_selfie.jpg", 600, 604}, {"crowd_20faces.jpg", 1024, 624}, {"glasses_frontal.jpg", 1024, 956},
      {"roll30.jpg", 566, 556}, {"tilt_hand_occlusion.jpg", 600, 900}, {"yaw_profile.jpg", 1280, 858},
      {"no_face_rocket_landscape.jpg", 640, 427},
  };
  for (const auto& entry : kImages) {
    const fs::path path = image_dir() / entry.file;
    FACEPIPE_REQUIRE_FILE(path);
    DecodeInfo info;
    const Image img = decode_image_file(path, &info);
    EXPECT_EQ(img.width(), entry.w) << entry.file;
    EXPECT_EQ(img.height(), entry.h) << entry.file;
    EXPECT_EQ(img.format(), PixelFormat::kRGB8);
    EXPECT_FALSE(info.partial);
    EXPECT_FALSE(info.first_frame_only);
    std::printf("  %-36s %s\n", entry.file, info.summary().c_str());
  }
}

// The reference pipeline's inputs were decoded by Chromium (libjpeg-turbo, islow IDCT, fancy
// upsampling). Our JFIF path should land within rounding of it.
TEST(DecodeImage, JpegMatchesChromiumDecode) {
  const fs::path jpeg = image_dir() / "single_frontal_large.jpg";
  const fs::path reference = chromium_dir() / "single_frontal_large.png";
  FACEPIPE_REQUIRE_FILE(jpeg);
  FACEPIPE_REQUIRE_FILE(reference);
  const test::PixelDiff d = test::diff(decode_image_file(jpeg).view(), decode_image_file(reference).view());
  std::printf("  single_frontal_large.jpg vs Chromium: mean abs diff %.4f, max %d\n", d.mean, d.max);
  EXPECT_LT(d.mean, 2.0);  // the contract
  EXPECT_LT(d.mean, 0.2);  // what we achieve (0.03 with FFmpeg 5.1); a regression guard
}

TEST(DecodeImage, AllJpegsCloseToChromiumDecode) {
  if (!fs::exists(chromium_dir())) GTEST_SKIP() << "missing " << chromium_dir();
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(image_dir())) {
    if (entry.path().extension() != ".jpg") continue;
    const fs::path reference = chromium_dir() / (entry.path().stem().string() + ".png");
    if (!fs::exists(reference)) continue;
    const test::PixelDiff d = test::diff(decode_image_file(entry.path()).view(), decode_image_file(reference).view());
    std::printf("  %-36s mean %.4f max %d\n", entry.path().filename().c_str(), d.mean, d.max);
    EXPECT_LT(d.mean, 0.2) << entry.path();
    EXPECT_LE(d.max, 8) << entry.path();
    ++compared;
  }
  EXPECT_GE(compared, 5);
}

TEST(WritePng, RoundTripIsExact) {
  ScratchDir dir;
  const Image rgb = noise_image(37, 23, 1);  // odd width: stride padding must not leak
  write_png(dir / "rgb.png", rgb.view());
  DecodeInfo info;
  const Image back = decode_image_file(dir / "rgb.png", &info);
  EXPECT_EQ(test::diff(rgb.view(), back.view()).max, 0);
  EXPECT_EQ(info.codec, "png");
  EXPECT_EQ(info.source_pixel_format, "rgb24");

  // A BGR image is stored as the same picture, and can be decoded straight to BGR.
  const Image bgr = to_format(rgb.view(), PixelFormat::kBGR8);
  write_png(dir / "bgr.png", bgr.view());
  EXPECT_EQ(test::diff(rgb.view(), decode_image_file(dir / "bgr.png").view()).max, 0);
  DecodeOptions as_bgr;
  as_bgr.format = PixelFormat::kBGR8;
  const Image bgr_back = decode_image_file(dir / "bgr.png", nullptr, as_bgr);
  EXPECT_EQ(bgr_back.format(), PixelFormat::kBGR8);
  EXPECT_EQ(test::diff(bgr.view(), bgr_back.view()).max, 0);
}

TEST(WritePng, ErrorsNameTheFile) {
  const Image img(4, 4);
  EXPECT_THROW(write_png("/nonexistent_dir_facepipe/x.png", img.view()), Error);
  EXPECT_THROW(write_png("/tmp/x.png", ConstImageView{}), Error);
}

// PNG flavours a user's photo might come in, made by the ffmpeg CLI from raw samples we choose, so
// the expected RGB is known exactly.
class PngFlavours : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::have_ffmpeg_cli()) GTEST_SKIP() << "ffmpeg CLI not installed";
  }
  // Encodes raw samples of `pix_fmt` (w x h) into a PNG of `png_fmt`.
  fs::path make_png(const std::string& name, const std::vector<uint8_t>& raw, const char* pix_fmt, int w, int h,
                    const char* png_fmt) {
    const fs::path raw_path = dir_ / (name + ".raw"), png = dir_ / (name + ".png");
    test::write_bytes(raw_path, raw.data(), raw.size());
    const bool ok = test::run_ffmpeg("-f rawvideo -pix_fmt " + std::string(pix_fmt) + " -s " + std::to_string(w) + "x" +
                                     std::to_string(h) + " -i " + raw_path.string() + " -frames:v 1 -pix_fmt " +
                                     png_fmt + " " + png.string());
    EXPECT_TRUE(ok) << "ffmpeg failed making " << png;
    return png;
  }
  ScratchDir dir_;
};

TEST_F(PngFlavours, Gray8) {
  std::vector<uint8_t> raw(256);
  for (int i = 0; i < 256; ++i) raw[i] = static_cast<uint8_t>(i);
  DecodeInfo info;
  const Image img = decode_image_file(make_png("gray", raw, "gray", 256, 1, "gray"), &info);
  for (int x = 0; x < 256; ++x)
    for (int c = 0; c < 3; ++c) ASSERT_EQ(img.pixel(x, 0)[c], x) << "full range must be kept";
  EXPECT_TRUE(info.grayscale_expanded);
  EXPECT_EQ(info.source_components, 1);
  EXPECT_EQ(info.bits_per_component, 8);
  EXPECT_FALSE(info.depth_reduced);
}

TEST_F(PngFlavours, Gray16) {
  std::vector<uint8_t> raw;
  for (int i = 0; i < 256; ++i) raw.push_back(static_cast<uint8_t>(i)), raw.push_back(static_cast<uint8_t>(i));  // i*257, BE
  DecodeInfo info;
  const Image img = decode_image_file(make_png("gray16", raw, "gray16be", 256, 1, "gray16be"), &info);
  for (int x = 0; x < 256; ++x)
    for (int c = 0; c < 3; ++c) ASSERT_EQ(img.pixel(x, 0)[c], x);
  EXPECT_EQ(info.source_pixel_format, "gray16be");
  EXPECT_EQ(info.bits_per_component, 16);
  EXPECT_TRUE(info.depth_reduced);
  EXPECT_TRUE(info.grayscale_expanded);
}

TEST_F(PngFlavours, Rgb48) {
  std::vector<uint8_t> raw;
  const uint8_t colours[4][3] = {{0, 0, 0}, {255, 255, 255}, {0x33, 0x66, 0x99}, {1, 128, 254}};
  for (const auto& c : colours)
    for (uint8_t v : c) raw.push_back(v), raw.push_back(v);
  DecodeInfo info;
  const Image img = decode_image_file(make_png("rgb48", raw, "rgb48be", 4, 1, "rgb48be"), &info);
  for (int x = 0; x < 4; ++x)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(img.pixel(x, 0)[c], colours[x][c]);
  EXPECT_TRUE(info.depth_reduced);
  EXPECT_FALSE(info.grayscale_expanded);
}

TEST_F(PngFlavours, RgbaDropsAlphaWithoutCompositing) {
  std::vector<uint8_t> raw;
  std::mt19937 rng(7);
  for (int i = 0; i < 16 * 8 * 4; ++i) raw.push_back(static_cast<uint8_t>(rng()));
  DecodeInfo info;
  const Image img = decode_image_file(make_png("rgba", raw, "rgba", 16, 8, "rgba"), &info);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 16; ++x)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(img.pixel(x, y)[c], raw[(y * 16 + x) * 4 + c]);
  EXPECT_TRUE(info.alpha_dropped);
  EXPECT_EQ(info.source_components, 4);
}

TEST_F(PngFlavours, GrayAlpha) {
  std::vector<uint8_t> raw;
  for (int i = 0; i < 64; ++i) raw.push_back(static_cast<uint8_t>(4 * i)), raw.push_back(static_cast<uint8_t>(i));
  DecodeInfo info;
  const Image img = decode_image_file(make_png("ya8", raw, "ya8", 64, 1, "ya8"), &info);
  for (int x = 0; x < 64; ++x) ASSERT_EQ(img.pixel(x, 0)[1], 4 * x);
  EXPECT_TRUE(info.grayscale_expanded);
  EXPECT_TRUE(info.alpha_dropped);
  EXPECT_EQ(info.source_components, 2);
}

TEST_F(PngFlavours, PaletteAndMonochrome) {
  const uint8_t colours[4][3] = {{255, 0, 0}, {0, 200, 0}, {10, 20, 250}, {255, 255, 255}};
  std::vector<uint8_t> raw;
  for (int i = 0; i < 16 * 4; ++i)
    for (uint8_t v : colours[i % 4]) raw.push_back(v);
  const fs::path raw_path = dir_ / "pal.raw", png = dir_ / "pal.png";
  test::write_bytes(raw_path, raw.data(), raw.size());
  // palettegen/paletteuse: an exact 4-colour palette, no dithering.
  ASSERT_TRUE(test::run_ffmpeg("-f rawvideo -pix_fmt rgb24 -s 16x4 -i " + raw_path.string() +
                               " -vf \"split[a][b];[a]palettegen=reserve_transparent=0:stats_mode=single[p];"
                               "[b][p]paletteuse=dither=none\" -frames:v 1 -pix_fmt pal8 " + png.string()));
  DecodeInfo info;
  const Image img = decode_image_file(png, &info);
  EXPECT_EQ(info.source_pixel_format, "pal8");
  EXPECT_TRUE(info.palette_expanded);
  EXPECT_FALSE(info.alpha_dropped);
  for (int i = 0; i < 16 * 4; ++i)
    for (int c = 0; c < 3; ++c) ASSERT_EQ(img.pixel(i % 16, i / 16)[c], colours[i % 4][c]) << i;

  std::vector<uint8_t> bw(16);
  for (int i = 0; i < 16; ++i) bw[i] = (i % 3 == 0) ? 255 : 0;
  DecodeInfo mono_info;
  const Image mono = decode_image_file(make_png("mono", bw, "gray", 16, 1, "monob"), &mono_info);
  EXPECT_EQ(mono_info.bits_per_component, 1);
  for (int x = 0; x < 16; ++x) ASSERT_EQ(mono.pixel(x, 0)[0], bw[x]);
}

TEST_F(PngFlavours, BmpAndLosslessWebp) {
  const Image src = noise_image(21, 10, 3);
  write_png(dir_ / "src.png", src.view());
  ASSERT_TRUE(test::run_ffmpeg("-i " + (dir_ / "src.png").string() + " " + (dir_ / "src.bmp").string()));
  EXPECT_EQ(test::diff(src.view(), decode_image_file(dir_ / "src.bmp").view()).max, 0);
  if (!test::run_ffmpeg("-i " + (dir_ / "src.png").string() + " -c:v libwebp -lossless 1 " + (dir_ / "src.webp").string())) {
    GTEST_SKIP() << "no libwebp encoder in the ffmpeg CLI";
  }
  DecodeInfo info;
  EXPECT_EQ(test::diff(src.view(), decode_image_file(dir_ / "src.webp", &info).view()).max, 0);
  EXPECT_EQ(info.codec, "webp");
}

// JPEG with an EXIF APP1 segment holding only Orientation, spliced in after SOI.
TEST(DecodeImage, ExifOrientationIsApplied) {
  if (!test::have_ffmpeg_cli()) GTEST_SKIP() << "ffmpeg CLI not installed";
  ScratchDir dir;
  Image src(32, 16);  // left half red, right half blue
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 32; ++x) src.pixel(x, y)[x < 16 ? 0 : 2] = 255;
  write_png(dir / "src.png", src.view());
  ASSERT_TRUE(test::run_ffmpeg("-i " + (dir / "src.png").string() + " -q:v 2 " + (dir / "plain.jpg").string()));
  std::ifstream in(dir / "plain.jpg", std::ios::binary);
  std::string jpeg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(jpeg.size(), 2u);
  const unsigned char app1[] = {
      0xFF, 0xE1, 0x00, 34,  'E', 'x', 'i', 'f', 0, 0,  // marker, length 34, identifier
      'I',  'I',  0x2A, 0x00, 8,   0,   0,   0,         // little-endian TIFF header, IFD0 at 8
      1,    0,                                          // one entry
      0x12, 0x01, 3,    0,    1,   0,   0,   0,   6, 0, 0, 0,  // Orientation (SHORT) = 6
      0,    0,    0,    0,                              // no next IFD
  };
  jpeg.insert(2, reinterpret_cast<const char*>(app1), sizeof(app1));
  test::write_bytes(dir / "rotated.jpg", jpeg.data(), jpeg.size());

  DecodeInfo info;
  const Image upright = decode_image_file(dir / "rotated.jpg", &info);
  EXPECT_EQ(info.exif_orientation, 6);
  EXPECT_TRUE(info.orientation_applied);
  ASSERT_EQ(upright.width(), 16);
  ASSERT_EQ(upright.height(), 32);
  EXPECT_GT(upright.pixel(8, 4)[0], 200);   // turned 90 deg clockwise: the left (red) half is on top
  EXPECT_GT(upright.pixel(8, 28)[2], 200);  // and the blue half below

  DecodeOptions as_stored;
  as_stored.apply_exif_orientation = false;
  const Image stored = decode_image_file(dir / "rotated.jpg", &info, as_stored);
  EXPECT_EQ(stored.width(), 32);
  EXPECT_FALSE(info.orientation_applied);
}

TEST(DecodeImage, TruncatedJpegIsAnErrorUnlessPartialAllowed) {
  const fs::path jpeg = image_dir() / "single_frontal_large.jpg";
  FACEPIPE_REQUIRE_FILE(jpeg);
  ScratchDir dir;
  const fs::path cut = dir / "truncated.jpg";
  test::copy_prefix(jpeg, cut, fs::file_size(jpeg) / 2);
  expect_error(cut, "corrupt or truncated");

  DecodeOptions lenient;
  lenient.allow_partial = true;
  DecodeInfo info;
  const Image partial = decode_image_file(cut, &info, lenient);
  EXPECT_TRUE(info.partial);
  EXPECT_EQ(partial.width(), 565);
  EXPECT_EQ(partial.height(), 800);

  // Cut just before the end-of-image marker: still an error in strict mode.
  test::copy_prefix(jpeg, cut, fs::file_size(jpeg) - 200);
  expect_error(cut, "corrupt or truncated");
}

TEST(DecodeImage, TruncatedPngIsAnError) {
  ScratchDir dir;
  write_png(dir / "full.png", noise_image(64, 64, 5).view());
  test::copy_prefix(dir / "full.png", dir / "cut.png", fs::file_size(dir / "full.png") * 6 / 10);
  expect_error(dir / "cut.png", "");
}

TEST(DecodeImage, ClearErrorsForFilesThatAreNotImages) {
  ScratchDir dir;
  expect_error(dir / "missing.jpg", "no such file");
  expect_error(dir.path(), "directory");
  test::write_bytes(dir / "empty.jpg", "", 0);
  expect_error(dir / "empty.jpg", "empty file");
  const std::string text = "name,score\nalice,1\nbob,2\n";
  test::write_bytes(dir / "notes.txt", text.data(), text.size());
  expect_error(dir / "notes.txt", "");
  test::write_bytes(dir / "fake.jpg", text.data(), text.size());  // right extension, wrong contents
  expect_error(dir / "fake.jpg", "");
  test::write_bytes(dir / "fake.png", text.data(), text.size());
  expect_error(dir / "fake.png", "");
}

TEST(DecodeImage, VideoGivesItsFirstFrame) {
  const fs::path video = facepipe::test::testdata_dir() / "video" / "talking_man_glasses_720x1280.mp4";
  FACEPIPE_REQUIRE_FILE(video);
  DecodeInfo info;
  const Image first = decode_image_file(video, &info);
  EXPECT_EQ(first.width(), 720);
  EXPECT_EQ(first.height(), 1280);
  EXPECT_EQ(info.codec, "h264");
  EXPECT_TRUE(info.first_frame_only);
}

}  // namespace
}  // namespace facepipe::media
