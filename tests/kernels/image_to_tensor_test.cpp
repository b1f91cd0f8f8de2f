#include "kernels/image_to_tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "common/thread_pool.h"

namespace facepipe::kernels {
namespace {

struct TestImage {
  int width, height, channels;
  int64_t stride;
  std::vector<uint8_t> bytes;
  ChannelOrder order = ChannelOrder::kRGB;
  ImageView view() const { return ImageView{bytes.data(), width, height, stride, channels, order}; }
  // Colour c (0 = R, 1 = G, 2 = B) of pixel (x, y).
  int at(int x, int y, int c) const {
    const RgbOffsets o = rgb_offsets(order);
    const int off = c == 0 ? o.r : (c == 1 ? o.g : o.b);
    return bytes[static_cast<size_t>(y * stride + x * channels + off)];
  }
};

TestImage random_image(int w, int h, int channels, int padding, ChannelOrder order, uint32_t seed) {
  TestImage img{w, h, channels, static_cast<int64_t>(w) * channels + padding, {}, order};
  img.bytes.resize(static_cast<size_t>(img.stride * h));
  std::mt19937 rng(seed);
  for (auto& b : img.bytes) b = static_cast<uint8_t>(rng() & 0xFF);
  return img;
}

// The oracle: shared/tools/mpref/README.md's formula, generalized to a rotated rectangle, in double.
std::vector<float> oracle(const TestImage& img, const RotatedRect& r, const TensorFormat& f) {
  std::vector<float> out(static_cast<size_t>(f.width * f.height * 3));
  const double c = std::cos(static_cast<double>(r.rotation)), s = std::sin(static_cast<double>(r.rotation));
  for (int oy = 0; oy < f.height; ++oy) {
    for (int ox = 0; ox < f.width; ++ox) {
      const double u = (ox + 0.5) / f.width - 0.5, v = (oy + 0.5) / f.height - 0.5;
      const double x = r.cx + c * u * r.width - s * v * r.height;
      const double y = r.cy + s * u * r.width + c * v * r.height;
      for (int k = 0; k < 3; ++k) {
        const int colour = f.order == ChannelOrder::kRGB ? k : 2 - k;
        double val;
        if (f.border == BorderMode::kZero && (x < 0 || x >= img.width || y < 0 || y >= img.height)) {
          val = 0;
        } else {
          const double sx = x - 0.5, sy = y - 0.5;
          const int xi = static_cast<int>(std::floor(sx)), yi = static_cast<int>(std::floor(sy));
          const double fx = sx - xi, fy = sy - yi;
          const int xa = std::clamp(xi, 0, img.width - 1), xb = std::clamp(xi + 1, 0, img.width - 1);
          const int ya = std::clamp(yi, 0, img.height - 1), yb = std::clamp(yi + 1, 0, img.height - 1);
          val = (1 - fy) * ((1 - fx) * img.at(xa, ya, colour) + fx * img.at(xb, ya, colour)) +
                fy * ((1 - fx) * img.at(xa, yb, colour) + fx * img.at(xb, yb, colour));
        }
        out[static_cast<size_t>((oy * f.width + ox) * 3 + k)] = static_cast<float>(val * f.scale + f.offset);
      }
    }
  }
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

TEST(WarpToTensor, MatchesOracleOverShapesOrdersBordersAndRotations) {
  ThreadPool pool(3);
  struct Case {
    int w, h, channels, padding;
    ChannelOrder in_order, out_order;
    RotatedRect rect;
    int ow, oh;
    BorderMode border;
  };
  const Case cases[] = {
      {37, 23, 3, 0, ChannelOrder::kRGB, ChannelOrder::kRGB, {18.5f, 11.5f, 37, 37, 0}, 16, 16, BorderMode::kZero},
      {37, 23, 4, 5, ChannelOrder::kBGR, ChannelOrder::kRGB, {10.f, 7.f, 30, 20, 0.7f}, 13, 9, BorderMode::kReplicate},
      {1, 1, 3, 0, ChannelOrder::kRGB, ChannelOrder::kBGR, {0.5f, 0.5f, 3, 3, -2.0f}, 5, 5, BorderMode::kZero},
      {64, 48, 3, 1, ChannelOrder::kRGB, ChannelOrder::kRGB, {40.f, 20.f, 90, 90, 3.0f}, 31, 31, BorderMode::kReplicate},
      {64, 48, 4, 0, ChannelOrder::kRGB, ChannelOrder::kBGR, {-10.f, 60.f, 50, 25, 0.3f}, 7, 17, BorderMode::kZero},
  };
  uint32_t seed = 1;
  for (const Case& c : cases) {
    const TestImage img = random_image(c.w, c.h, c.channels, c.padding, c.in_order, seed++);
    for (float scale : {1.0f / 255.0f, 2.0f / 255.0f}) {
      TensorFormat f{c.ow, c.oh, scale, scale == 1.0f / 255.0f ? 0.0f : -1.0f, c.out_order, c.border};
      const std::vector<float> expected = oracle(img, c.rect, f);
      std::vector<float> serial(expected.size(), -7.0f), parallel(expected.size(), -7.0f);
      ASSERT_TRUE(warp_to_tensor(img.view(), c.rect, f, serial.data()).is_ok());
      ASSERT_TRUE(warp_to_tensor(img.view(), c.rect, f, parallel.data(), &pool).is_ok());
      EXPECT_LT(max_abs_diff(serial, expected), 2e-6) << c.w << "x" << c.h << " rot " << c.rect.rotation;
      EXPECT_EQ(serial, parallel);
    }
  }
}

TEST(WarpToTensor, QuarterTurnIsAPixelPermutation) {
  // A 90-degree clockwise ROI over a whole square image: output (ox, oy) = input (oy, N-1-ox)... as
  // a permutation (sample points land on pixel centres exactly), so values are bit-exact.
  const int n = 9;
  const TestImage img = random_image(n, n, 3, 0, ChannelOrder::kRGB, 42);
  const RotatedRect r{n / 2.0f, n / 2.0f, static_cast<float>(n), static_cast<float>(n),
                      static_cast<float>(M_PI / 2)};
  TensorFormat f{n, n, 1.0f, 0.0f, ChannelOrder::kRGB, BorderMode::kReplicate};
  std::vector<float> out(n * n * 3);
  ASSERT_TRUE(warp_to_tensor(img.view(), r, f, out.data()).is_ok());
  // The ROI's x axis points down the image (cos 90, sin 90) = (0, 1); its y axis points left.
  for (int oy = 0; oy < n; ++oy)
    for (int ox = 0; ox < n; ++ox)
      for (int c = 0; c < 3; ++c)
        ASSERT_NEAR(out[(oy * n + ox) * 3 + c], img.at(n - 1 - oy, ox, c), 1e-4) << ox << "," << oy;
}

TEST(WarpToTensor, ZeroBorderGivesTheOffsetOutside) {
  const TestImage img = random_image(8, 8, 3, 0, ChannelOrder::kRGB, 3);
  const RotatedRect r{100.f, 100.f, 8, 8, 0};  // entirely outside
  TensorFormat f = tensor_format_signed_range(4, 4, BorderMode::kZero);
  std::vector<float> out(4 * 4 * 3, 5.0f);
  ASSERT_TRUE(warp_to_tensor(img.view(), r, f, out.data()).is_ok());
  for (float v : out) EXPECT_EQ(v, -1.0f);
}

TEST(WarpToTensor, RejectsBadArguments) {
  const TestImage img = random_image(8, 8, 3, 0, ChannelOrder::kRGB, 3);
  std::vector<float> out(48);
  TensorFormat f = tensor_format_unit_range(4, 4, BorderMode::kZero);
  EXPECT_FALSE(warp_to_tensor(img.view(), RotatedRect{4, 4, 0, 8, 0}, f, out.data()).is_ok());
  EXPECT_FALSE(warp_to_tensor(img.view(), RotatedRect{4, 4, 8, 8, 0}, f, nullptr).is_ok());
  ImageView bad = img.view();
  bad.channels = 2;
  EXPECT_EQ(warp_to_tensor(bad, RotatedRect{4, 4, 8, 8, 0}, f, out.data()).code(), StatusCode::kUnsupported);
  bad = img.view();
  bad.row_stride = 5;
  EXPECT_FALSE(warp_to_tensor(bad, RotatedRect{4, 4, 8, 8, 0}, f, out.data()).is_ok());
  RotatedRect nan_rect{NAN, 4, 8, 8, 0};
  EXPECT_FALSE(warp_to_tensor(img.view(), nan_rect, f, out.data()).is_ok());
}

TEST(LetterboxRect, PadsTheShortSideAroundTheCentre) {
  // The rectangles shared/reference/mediapipe/raw/*/detector_letterbox/meta.json records.
  RotatedRect r = letterbox_rect(1024, 956, 128, 128);
  EXPECT_FLOAT_EQ(r.cx - r.width / 2, 0.0f);
  EXPECT_FLOAT_EQ(r.cy - r.height / 2, -34.0f);
  EXPECT_FLOAT_EQ(r.width, 1024.0f);
  EXPECT_FLOAT_EQ(r.height, 1024.0f);
  r = letterbox_rect(600, 604, 128, 128);
  EXPECT_FLOAT_EQ(r.cx - r.width / 2, -2.0f);
  EXPECT_FLOAT_EQ(r.width, 604.0f);
  r = letterbox_rect(640, 427, 192, 192);
  EXPECT_FLOAT_EQ(r.cy - r.height / 2, -106.5f);
  r = letterbox_rect(300, 100, 200, 100);  // non-square tensor, aspect already right
  EXPECT_FLOAT_EQ(r.width, 300.0f);
  EXPECT_FLOAT_EQ(r.height, 150.0f);
}

TEST(AffineTransform, InverseRoundTrips) {
  const AffineTransform t = rect_to_image_transform(RotatedRect{10, 20, 30, 40, 0.4f}, 16, 8);
  const AffineTransform inv = t.inverse();
  double x, y, bx, by;
  t.apply(3.5, 6.25, x, y);
  inv.apply(x, y, bx, by);
  EXPECT_NEAR(bx, 3.5, 1e-9);
  EXPECT_NEAR(by, 6.25, 1e-9);
}

}  // namespace
}  // namespace facepipe::kernels
