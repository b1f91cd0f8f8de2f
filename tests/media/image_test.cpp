#include "media/image.h"

#include <gtest/gtest.h>

#include <type_traits>

#include "common/status.h"

namespace facepipe::media {
namespace {

static_assert(!std::is_copy_constructible_v<Image> && !std::is_copy_assignable_v<Image>, "Image is move-only");
static_assert(std::is_nothrow_move_constructible_v<Image>);
static_assert(std::is_convertible_v<ImageView, ConstImageView> && !std::is_convertible_v<ConstImageView, ImageView>);

TEST(Image, StrideIsAlignedAndContentsZero) {
  Image img(13, 5);
  EXPECT_EQ(img.width(), 13);
  EXPECT_EQ(img.height(), 5);
  EXPECT_EQ(img.channels(), 3);
  EXPECT_EQ(img.stride() % Image::kRowAlignment, 0);
  EXPECT_GE(img.stride(), 13 * 3);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(img.data()) % Image::kRowAlignment, 0u);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 39; ++x) EXPECT_EQ(img.row(y)[x], 0);
}

TEST(Image, RejectsBadSizes) {
  EXPECT_THROW(Image(0, 5), Error);
  EXPECT_THROW(Image(5, -1), Error);
  EXPECT_THROW(Image(1 << 20, 2), Error);
}

TEST(Image, ResetReusesLargeEnoughStorage) {
  Image img(64, 64);
  const uint8_t* before = img.data();
  img.reset(32, 16, PixelFormat::kBGR8);
  EXPECT_EQ(img.data(), before);
  EXPECT_EQ(img.format(), PixelFormat::kBGR8);
  img.reset(64, 64, PixelFormat::kRGB8);
  EXPECT_EQ(img.data(), before);
}

TEST(Image, MoveLeavesSourceEmpty) {
  Image a(4, 4);
  a.pixel(1, 2)[0] = 42;
  Image b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(b.pixel(1, 2)[0], 42);
  Image c = b.clone();
  EXPECT_EQ(c.pixel(1, 2)[0], 42);
  EXPECT_NE(c.data(), b.data());
}

TEST(Image, RgbBgrConversion) {
  Image rgb(3, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) {
      uint8_t* p = rgb.pixel(x, y);
      p[0] = static_cast<uint8_t>(10 * x + y), p[1] = 100, p[2] = static_cast<uint8_t>(200 + x);
    }
  Image bgr = to_format(rgb.view(), PixelFormat::kBGR8);
  EXPECT_EQ(bgr.format(), PixelFormat::kBGR8);
  EXPECT_EQ(bgr.pixel(2, 1)[0], 202);
  EXPECT_EQ(bgr.pixel(2, 1)[2], 21);
  swap_red_blue(bgr);  // in place, back to RGB
  EXPECT_EQ(bgr.format(), PixelFormat::kRGB8);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(bgr.pixel(x, y)[c], rgb.pixel(x, y)[c]);
  Image wrong(2, 2);
  EXPECT_THROW(convert_pixels(rgb.view(), wrong.view()), Error);
}

// A 3x2 image whose pixel value encodes its position, so each orientation's mapping can be checked.
TEST(Image, ExifOrientations) {
  Image src(3, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) src.pixel(x, y)[0] = static_cast<uint8_t>(10 * y + x);
  // Expected display rows (values) for each orientation, from the EXIF definition.
  const std::vector<std::vector<int>> expected[9] = {
      {}, {{0, 1, 2}, {10, 11, 12}}, {{2, 1, 0}, {12, 11, 10}}, {{12, 11, 10}, {2, 1, 0}}, {{10, 11, 12}, {0, 1, 2}},
      {{0, 10}, {1, 11}, {2, 12}},   {{10, 0}, {11, 1}, {12, 2}}, {{12, 2}, {11, 1}, {10, 0}}, {{2, 12}, {1, 11}, {0, 10}},
  };
  for (int o = 1; o <= 8; ++o) {
    const bool swap = orientation_swaps_axes(o);
    Image out(swap ? 2 : 3, swap ? 3 : 2);
    orient_pixels(src.view(), o, out.view());
    for (int v = 0; v < out.height(); ++v)
      for (int u = 0; u < out.width(); ++u) EXPECT_EQ(out.pixel(u, v)[0], expected[o][v][u]) << "orientation " << o;
  }
  Image wrong(3, 2);
  EXPECT_THROW(orient_pixels(src.view(), 6, wrong.view()), Error);
}

}  // namespace
}  // namespace facepipe::media
