#include "kernels/resize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "common/thread_pool.h"

namespace facepipe::kernels {
namespace {

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng() & 0xFF);
  return v;
}

// OpenCV INTER_LINEAR in double: half-pixel centres, neighbours clamped.
double bilinear_oracle(const ImageView& img, int ox, int oy, int cw, int ch, int colour_offset) {
  const double sx = (ox + 0.5) * img.width / cw - 0.5, sy = (oy + 0.5) * img.height / ch - 0.5;
  const int xi = static_cast<int>(std::floor(sx)), yi = static_cast<int>(std::floor(sy));
  const double fx = sx - xi, fy = sy - yi;
  auto px = [&](int x, int y) {
    x = std::clamp(x, 0, img.width - 1);
    y = std::clamp(y, 0, img.height - 1);
    return static_cast<double>(img.row(y)[x * img.channels + colour_offset]);
  };
  return (1 - fy) * ((1 - fx) * px(xi, yi) + fx * px(xi + 1, yi)) + fy * ((1 - fx) * px(xi, yi + 1) + fx * px(xi + 1, yi + 1));
}

TEST(ResizeToPlanarTensor, BilinearMatchesOracleWithPaddingAndMean) {
  ThreadPool pool(2);
  const int w = 41, h = 29, channels = 4;
  const int64_t stride = w * channels + 3;
  const std::vector<uint8_t> bytes = random_bytes(static_cast<size_t>(stride * h), 9);
  const ImageView img{bytes.data(), w, h, stride, channels, ChannelOrder::kRGB};
  for (auto [cw, ch] : {std::pair{20, 15}, std::pair{41, 29}, std::pair{97, 13}}) {
    PlanarTensorFormat f;
    f.width = cw + 3;
    f.height = ch + 2;
    f.content_width = cw;
    f.content_height = ch;
    f.order = ChannelOrder::kBGR;
    f.mean = {104, 117, 123};
    f.scale = {1, 0.5f, 2};
    f.pad_value = -9;
    std::vector<float> out(static_cast<size_t>(3 * f.width * f.height)), out_mt(out.size());
    ASSERT_TRUE(resize_to_planar_tensor(img, f, out.data()).is_ok());
    ASSERT_TRUE(resize_to_planar_tensor(img, f, out_mt.data(), &pool).is_ok());
    EXPECT_EQ(out, out_mt);
    const int plane = f.width * f.height;
    const int colour_of_plane[3] = {2, 1, 0};  // BGR planes from an RGB image
    double max_err = 0;
    for (int p = 0; p < 3; ++p) {
      for (int y = 0; y < f.height; ++y) {
        for (int x = 0; x < f.width; ++x) {
          const float v = out[static_cast<size_t>(p * plane + y * f.width + x)];
          if (x >= cw || y >= ch) {
            ASSERT_EQ(v, -9.0f);
            continue;
          }
          const double e = (bilinear_oracle(img, x, y, cw, ch, colour_of_plane[p]) - f.mean[static_cast<size_t>(p)]) *
                           f.scale[static_cast<size_t>(p)];
          max_err = std::max(max_err, std::fabs(v - e));
        }
      }
    }
    EXPECT_LT(max_err, 1e-3) << cw << "x" << ch;
  }
}

TEST(ResizeToPlanarTensor, IdentitySizeCopiesPixels) {
  const int w = 7, h = 5;
  const std::vector<uint8_t> bytes = random_bytes(w * h * 3, 4);
  const ImageView img = ImageView::packed(bytes.data(), w, h, 3, ChannelOrder::kBGR);
  for (ResizeFilter filter : {ResizeFilter::kBilinear, ResizeFilter::kAntialiasBilinear}) {
    PlanarTensorFormat f;
    f.width = f.content_width = w;
    f.height = f.content_height = h;
    f.order = ChannelOrder::kBGR;
    f.mean = {0, 0, 0};
    f.filter = filter;
    std::vector<float> out(3 * w * h);
    ASSERT_TRUE(resize_to_planar_tensor(img, f, out.data()).is_ok());
    for (int p = 0; p < 3; ++p)
      for (int i = 0; i < w * h; ++i) EXPECT_NEAR(out[p * w * h + i], bytes[i * 3 + p], 1e-4);
  }
}

TEST(ResizeToPlanarTensor, AntialiasAveragesWhenShrinking) {
  // Shrinking a 1-pixel checkerboard by 2 gives its mean with the triangle filter (bilinear alone
  // samples between two pixels and also gives the mean here; by 4 bilinear aliases, antialias does not).
  const int w = 64, h = 64;
  std::vector<uint8_t> bytes(w * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) bytes[(y * w + x) * 3 + c] = ((x / 2 + y / 2) % 2) ? 200 : 0;  // 2x2 blocks
  const ImageView img = ImageView::packed(bytes.data(), w, h);
  PlanarTensorFormat f;
  f.width = f.content_width = 16;
  f.height = f.content_height = 16;
  f.mean = {0, 0, 0};
  f.filter = ResizeFilter::kAntialiasBilinear;
  std::vector<float> out(3 * 16 * 16);
  ASSERT_TRUE(resize_to_planar_tensor(img, f, out.data()).is_ok());
  for (int i = 1; i < 15; ++i) EXPECT_NEAR(out[i * 16 + 7], 100.0f, 15.0f);
}

TEST(ResizeToPlanarTensor, RejectsBadGeometry) {
  const std::vector<uint8_t> bytes(12, 0);
  const ImageView img = ImageView::packed(bytes.data(), 2, 2);
  std::vector<float> out(3 * 16);
  PlanarTensorFormat f;
  f.width = f.height = 4;
  f.content_width = 5;
  f.content_height = 4;
  EXPECT_FALSE(resize_to_planar_tensor(img, f, out.data()).is_ok());
  f.content_width = 0;
  EXPECT_FALSE(resize_to_planar_tensor(img, f, out.data()).is_ok());
}

}  // namespace
}  // namespace facepipe::kernels
