// The YUV encoders against the decoding formula the GPU conversion implements (BT.601 limited
// range, 8.8 fixed point; tests/gpu/kernels_convert_cuda_test.cpp): flat colours come back within
// the rounding of the two integer transforms, and the layouts put every byte where NV12 and YUYV
// expect it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "kernels/frame_encode.h"

namespace facepipe::kernels {
namespace {

int clamp8(int v) { return std::clamp(v, 0, 255); }

void decode(int y, int u, int v, int& r, int& g, int& b) {
  const int c = y - 16, d = u - 128, e = v - 128;
  r = clamp8((298 * c + 409 * e + 128) >> 8);
  g = clamp8((298 * c - 100 * d - 208 * e + 128) >> 8);
  b = clamp8((298 * c + 516 * d + 128) >> 8);
}

TEST(FrameEncode, FlatColoursSurviveNv12AndYuyv) {
  const int w = 5, h = 3;  // odd sizes: partial chroma blocks
  const int colours[][3] = {{0, 0, 0}, {255, 255, 255}, {200, 40, 90}, {30, 160, 220}, {128, 128, 128}};
  for (const auto& c : colours) {
    std::vector<uint8_t> rgb(static_cast<size_t>(w * h * 3));
    for (int i = 0; i < w * h; ++i) std::copy(c, c + 3, rgb.begin() + i * 3);
    const ImageView view{rgb.data(), w, h, w * 3, 3, ChannelOrder::kRGB};
    std::vector<uint8_t> y(static_cast<size_t>(w * h)), uv(static_cast<size_t>(3 * 2 * 2)), yuyv(static_cast<size_t>(3 * 4 * h));
    encode_nv12(view, y.data(), w, uv.data(), 6);
    encode_yuyv(view, yuyv.data(), 12);
    for (int py = 0; py < h; ++py)
      for (int px = 0; px < w; ++px) {
        int r, g, b;
        const uint8_t* cuv = &uv[static_cast<size_t>((py / 2) * 6 + (px / 2) * 2)];
        decode(y[static_cast<size_t>(py * w + px)], cuv[0], cuv[1], r, g, b);
        EXPECT_NEAR(r, c[0], 3);
        EXPECT_NEAR(g, c[1], 3);
        EXPECT_NEAR(b, c[2], 3);
        const uint8_t* m = &yuyv[static_cast<size_t>(py * 12 + (px / 2) * 4)];
        decode(m[(px % 2) * 2], m[1], m[3], r, g, b);
        EXPECT_NEAR(r, c[0], 3);
        EXPECT_NEAR(g, c[1], 3);
        EXPECT_NEAR(b, c[2], 3);
      }
  }
}

TEST(FrameEncode, BgrInputIsReadAsBgr) {
  const uint8_t bgr[3] = {220, 160, 30};  // the RGB colour (30, 160, 220)
  const uint8_t rgb[3] = {30, 160, 220};
  uint8_t y1, y2, uv1[2], uv2[2];
  encode_nv12(ImageView{bgr, 1, 1, 3, 3, ChannelOrder::kBGR}, &y1, 1, uv1, 2);
  encode_nv12(ImageView{rgb, 1, 1, 3, 3, ChannelOrder::kRGB}, &y2, 1, uv2, 2);
  EXPECT_EQ(y1, y2);
  EXPECT_EQ(uv1[0], uv2[0]);
  EXPECT_EQ(uv1[1], uv2[1]);
}

}  // namespace
}  // namespace facepipe::kernels
