// Reference Resize: the coordinate transforms and rounding modes on 1-D columns where the expected
// source rows are easy to write down, RetinaFace's 20 -> 39 upsample, and bilinear interpolation.
#include <gtest/gtest.h>

#include <numeric>

#include "engine/op_test_util.h"

namespace facepipe::test {
namespace {

using namespace facepipe::engine;

// Resizes a column [1, in_h, 1, 1] holding 0, 1, ..., in_h - 1 to out_h rows: for nearest the
// output values are the source row indices.
std::vector<float> resize_rows(int64_t in_h, int64_t out_h, ResizeMode mode, ResizeCoordinates coordinates,
                               ResizeNearestRounding rounding = ResizeNearestRounding::kFloor) {
  ResizeAttrs a;
  a.mode = mode;
  a.coordinates = coordinates;
  a.nearest_rounding = rounding;
  OpCase c("rows", make_op(OpType::kResize, a));
  std::vector<float> x(static_cast<size_t>(in_h));
  std::iota(x.begin(), x.end(), 0.f);
  c.input_f32({1, in_h, 1, 1}, x).input_i64({2}, {out_h, 1});
  return reference_f32(c);
}

TEST(ReferenceResize, RetinaFaceNearest20To39) {
  // ONNX asymmetric + floor with sizes: scale = 39/20, source row = floor(y / scale).
  const std::vector<float> out = resize_rows(20, 39, ResizeMode::kNearest, ResizeCoordinates::kAsymmetric);
  ASSERT_EQ(out.size(), 39u);
  for (int y = 0; y < 39; ++y) EXPECT_EQ(out[static_cast<size_t>(y)], (y * 20) / 39) << "row " << y;
  // Spot values: rows 0 and 1 both read row 0; the last row reads 19 (38 / 1.95 = 19.49).
  EXPECT_EQ(out[1], 0);
  EXPECT_EQ(out[2], 1);
  EXPECT_EQ(out[38], 19);
}

TEST(ReferenceResize, NearestCoordinateModesAndRounding) {
  using C = ResizeCoordinates;
  using R = ResizeNearestRounding;
  const auto N = ResizeMode::kNearest;
  // Half pixel 2 -> 4: coordinates -0.25, 0.25, 0.75, 1.25.
  EXPECT_EQ(resize_rows(2, 4, N, C::kHalfPixel, R::kRoundPreferFloor), (std::vector<float>{0, 0, 1, 1}));
  EXPECT_EQ(resize_rows(2, 4, N, C::kHalfPixel, R::kFloor), (std::vector<float>{0, 0, 0, 1}));  // -1 clamps to 0
  EXPECT_EQ(resize_rows(2, 4, N, C::kHalfPixel, R::kCeil), (std::vector<float>{0, 1, 1, 1}));  // 2 clamps to 1
  // TF half_pixel_centers for nearest: (y + 0.5) / scale = 0.25, 0.75, 1.25, 1.75, floored.
  EXPECT_EQ(resize_rows(2, 4, N, C::kTfHalfPixelForNearest, R::kFloor), (std::vector<float>{0, 0, 1, 1}));
  // Align corners 3 -> 5: coordinates 0, 0.5, 1, 1.5, 2; the ties show the rounding preference.
  EXPECT_EQ(resize_rows(3, 5, N, C::kAlignCorners, R::kRoundPreferCeil), (std::vector<float>{0, 1, 1, 2, 2}));
  EXPECT_EQ(resize_rows(3, 5, N, C::kAlignCorners, R::kRoundPreferFloor), (std::vector<float>{0, 0, 1, 1, 2}));
  // Asymmetric downscale 5 -> 2: y / 0.4 = 0, 2.5.
  EXPECT_EQ(resize_rows(5, 2, N, C::kAsymmetric, R::kFloor), (std::vector<float>{0, 2}));
  // pytorch_half_pixel to a single row maps to 0; half_pixel would read (0.5 * 5) - 0.5 = 2.
  EXPECT_EQ(resize_rows(5, 1, N, C::kPytorchHalfPixel, R::kFloor), (std::vector<float>{0}));
  EXPECT_EQ(resize_rows(5, 1, N, C::kHalfPixel, R::kFloor), (std::vector<float>{2}));
}

TEST(ReferenceResize, NearestByScaleUsesTheGivenScale) {
  // No size input: out = floor(5 * 1.5) = 7 and the transform divides by 1.5 (not 7/5).
  ResizeAttrs a;
  a.scale_h = 1.5f;
  a.scale_w = 1.f;
  OpCase c("scale", make_op(OpType::kResize, a));
  c.input_f32({1, 5, 1, 1}, {0, 1, 2, 3, 4});
  // y / 1.5 = 0, 0.67, 1.33, 2, 2.67, 3.33, 4 -> floor.
  EXPECT_EQ(reference_f32(c), (std::vector<float>{0, 0, 1, 2, 2, 3, 4}));
}

TEST(ReferenceResize, BilinearOneDimensional) {
  using C = ResizeCoordinates;
  const auto B = ResizeMode::kBilinear;
  auto scaled = [](std::vector<float> v) {
    for (float& x : v) x *= 10.f;
    return v;
  };
  // The input rows hold 0 and 1; outputs are scaled by 10 to read as round numbers.
  // TFLite half_pixel_centers 2 -> 4: coordinates -0.25, 0.25, 0.75, 1.25 clamped to [0, 1].
  EXPECT_EQ(scaled(resize_rows(2, 4, B, C::kHalfPixel)), (std::vector<float>{0, 2.5f, 7.5f, 10}));
  // align_corners 2 -> 3: 0, 0.5, 1.
  EXPECT_EQ(scaled(resize_rows(2, 3, B, C::kAlignCorners)), (std::vector<float>{0, 5, 10}));
  // Asymmetric (TFLite default) 2 -> 4: 0, 0.5, 1, 1.5 (clamped to 1).
  EXPECT_EQ(scaled(resize_rows(2, 4, B, C::kAsymmetric)), (std::vector<float>{0, 5, 10, 10}));
}

TEST(ReferenceResize, BilinearHalfPixel2D) {
  ResizeAttrs a;
  a.mode = ResizeMode::kBilinear;
  a.coordinates = ResizeCoordinates::kHalfPixel;
  OpCase c("2d", make_op(OpType::kResize, a));
  // [[0, 10], [20, 30]] with two channels (the second negated) -> 4x4.
  c.input_f32({1, 2, 2, 2}, {0, -0, 10, -10, 20, -20, 30, -30}).input_i32({2}, {4, 4});
  const std::vector<float> out = reference_f32(c);
  ASSERT_EQ(out.size(), 32u);
  const float w[4] = {0, 0.25f, 0.75f, 1};  // clamped source coordinates along each axis
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      const float expected = 20 * w[y] + 10 * w[x];
      EXPECT_FLOAT_EQ(out[static_cast<size_t>((y * 4 + x) * 2)], expected) << y << "," << x;
      EXPECT_FLOAT_EQ(out[static_cast<size_t>((y * 4 + x) * 2 + 1)], -expected) << y << "," << x;
    }
}

TEST(ReferenceResize, BatchAndChannelsAreIndependent) {
  ResizeAttrs a;  // nearest asymmetric floor
  OpCase c("batch", make_op(OpType::kResize, a));
  c.input_f32({2, 1, 1, 3}, {1, 2, 3, 4, 5, 6}).input_i64({2}, {2, 2});
  EXPECT_EQ(reference_f32(c), (std::vector<float>{1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3,  //
                                                   4, 5, 6, 4, 5, 6, 4, 5, 6, 4, 5, 6}));
}

}  // namespace
}  // namespace facepipe::test
