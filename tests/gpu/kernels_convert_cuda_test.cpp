// Frame-format conversion (BGR24, RGB24, NV12, YUYV → packed RGB/BGR) and the preview downscale on
// the GPU against the CPU golds below, which are the spec of these kernels (there is no CPU version
// in src/: only the GPU path needs them). Conversion is integer arithmetic and must match exactly;
// the preview (float bilinear, rounded) within 1 (8-bit). Odd sizes (width 1, 3, 17, 641), padded
// strides. Also a 1080p NV12 → BGR bandwidth print.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "common/cuda/cuda_resources.h"
#include "gpu/cuda_test_util.h"
#include "kernels/cuda/image_kernels.h"

namespace facepipe::kernels {
namespace {

using facepipe::cuda::DeviceBuffer;
using cuda::FrameFormat;

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<uint8_t>(rng() & 0xFF);
  return v;
}

// ---- CPU golds (the spec) ---------------------------------------------------------------------------

uint8_t clamp_u8(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }

// BT.601 limited range ("studio swing": Y in [16, 235], chroma in [16, 240]) to full-range RGB, in
// 8.8 fixed point: 298 = 1.164 * 256, 409 = 1.596 * 256, 100 = 0.391 * 256, 208 = 0.813 * 256,
// 516 = 2.018 * 256, rounded (+128) and clamped. Arithmetic right shift of negatives = floor.
void yuv_to_rgb(int y, int u, int v, uint8_t rgb[3]) {
  const int c = y - 16, d = u - 128, e = v - 128;
  rgb[0] = clamp_u8((298 * c + 409 * e + 128) >> 8);
  rgb[1] = clamp_u8((298 * c - 100 * d - 208 * e + 128) >> 8);
  rgb[2] = clamp_u8((298 * c + 516 * d + 128) >> 8);
}

struct Frame {
  FrameFormat format;
  int width, height;
  int64_t stride0, stride1 = 0;
  std::vector<uint8_t> plane0, plane1;
};

Frame random_frame(FrameFormat format, int w, int h, int padding, uint32_t seed) {
  Frame f{format, w, h, 0, 0, {}, {}};
  const int64_t half = (w + 1) / 2;
  switch (format) {
    case FrameFormat::kBGR24:
    case FrameFormat::kRGB24: f.stride0 = int64_t{w} * 3 + padding; break;
    case FrameFormat::kNV12:
      f.stride0 = w + padding;
      f.stride1 = half * 2 + padding;
      f.plane1 = random_bytes(static_cast<size_t>(f.stride1 * ((h + 1) / 2)), seed + 1000);
      break;
    case FrameFormat::kYUYV: f.stride0 = half * 4 + padding; break;
  }
  f.plane0 = random_bytes(static_cast<size_t>(f.stride0 * h), seed);
  return f;
}

// Packed 3-channel output, tight rows (width * 3), in `order`.
std::vector<uint8_t> convert_gold(const Frame& f, ChannelOrder order) {
  std::vector<uint8_t> out(static_cast<size_t>(f.width) * f.height * 3);
  for (int y = 0; y < f.height; ++y) {
    for (int x = 0; x < f.width; ++x) {
      uint8_t rgb[3] = {0, 0, 0};
      const uint8_t* row = f.plane0.data() + y * f.stride0;
      switch (f.format) {
        case FrameFormat::kBGR24: rgb[0] = row[x * 3 + 2], rgb[1] = row[x * 3 + 1], rgb[2] = row[x * 3]; break;
        case FrameFormat::kRGB24: rgb[0] = row[x * 3], rgb[1] = row[x * 3 + 1], rgb[2] = row[x * 3 + 2]; break;
        case FrameFormat::kNV12: {
          const uint8_t* uv = f.plane1.data() + (y / 2) * f.stride1 + (x / 2) * 2;
          yuv_to_rgb(row[x], uv[0], uv[1], rgb);
          break;
        }
        case FrameFormat::kYUYV: {
          const uint8_t* mp = row + (x / 2) * 4;
          yuv_to_rgb(mp[x % 2 == 0 ? 0 : 2], mp[1], mp[3], rgb);
          break;
        }
      }
      uint8_t* d = out.data() + (static_cast<size_t>(y) * f.width + x) * 3;
      const bool bgr = order == ChannelOrder::kBGR;
      d[0] = rgb[bgr ? 2 : 0];
      d[1] = rgb[1];
      d[2] = rgb[bgr ? 0 : 2];
    }
  }
  return out;
}

// The preview: half-pixel bilinear in float, lerp form, rounded to nearest; BGR8 out.
std::vector<uint8_t> preview_gold(const uint8_t* src, int w, int h, int64_t stride, int channels, ChannelOrder order,
                                  int ow, int oh) {
  std::vector<uint8_t> out(static_cast<size_t>(ow) * oh * 3);
  const float rx = static_cast<float>(w) / static_cast<float>(ow), ry = static_cast<float>(h) / static_cast<float>(oh);
  for (int oy = 0; oy < oh; ++oy) {
    for (int ox = 0; ox < ow; ++ox) {
      const float sx = (ox + 0.5f) * rx - 0.5f, sy = (oy + 0.5f) * ry - 0.5f;
      const float fxi = std::floor(sx), fyi = std::floor(sy);
      const float fx = sx - fxi, fy = sy - fyi;
      const int xa = std::clamp(static_cast<int>(fxi), 0, w - 1), xb = std::clamp(static_cast<int>(fxi) + 1, 0, w - 1);
      const int ya = std::clamp(static_cast<int>(fyi), 0, h - 1), yb = std::clamp(static_cast<int>(fyi) + 1, 0, h - 1);
      for (int k = 0; k < 3; ++k) {  // B, G, R
        const int o = order == ChannelOrder::kBGR ? k : 2 - k;
        auto at = [&](int x, int y) { return static_cast<float>(src[y * stride + x * channels + o]); };
        const float top = at(xa, ya) + fx * (at(xb, ya) - at(xa, ya));
        const float bottom = at(xa, yb) + fx * (at(xb, yb) - at(xa, yb));
        out[(static_cast<size_t>(oy) * ow + ox) * 3 + k] = clamp_u8(static_cast<int>(std::nearbyint(top + fy * (bottom - top))));
      }
    }
  }
  return out;
}

int max_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  int m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(int{a[i]} - int{b[i]}));
  return m;
}

struct DeviceFrame {
  DeviceBuffer p0, p1;
  cuda::DeviceFrameView view;
  explicit DeviceFrame(const Frame& f) : p0(f.plane0.size()), p1(f.plane1.size()) {
    FACEPIPE_CUDA_THROW(cudaMemcpy(p0.get(), f.plane0.data(), f.plane0.size(), cudaMemcpyHostToDevice));
    if (!f.plane1.empty())
      FACEPIPE_CUDA_THROW(cudaMemcpy(p1.get(), f.plane1.data(), f.plane1.size(), cudaMemcpyHostToDevice));
    view = cuda::DeviceFrameView{f.format, f.width, f.height, p0.as<uint8_t>(), f.stride0, p1.as<uint8_t>(), f.stride1};
  }
};

const char* name(FrameFormat f) {
  switch (f) {
    case FrameFormat::kBGR24: return "bgr24";
    case FrameFormat::kRGB24: return "rgb24";
    case FrameFormat::kNV12: return "nv12";
    case FrameFormat::kYUYV: return "yuyv";
  }
  return "?";
}

// ---- Gold sanity (CPU only) ----------------------------------------------------------------------------

TEST(KernelsCudaHost, Bt601GoldKnownColours) {
  uint8_t rgb[3];
  yuv_to_rgb(16, 128, 128, rgb);  // black
  EXPECT_EQ(rgb[0], 0);
  EXPECT_EQ(rgb[1], 0);
  EXPECT_EQ(rgb[2], 0);
  yuv_to_rgb(235, 128, 128, rgb);  // white
  EXPECT_EQ(rgb[0], 255);
  EXPECT_EQ(rgb[1], 255);
  EXPECT_EQ(rgb[2], 255);
  yuv_to_rgb(81, 90, 240, rgb);  // BT.601 red
  EXPECT_GE(rgb[0], 254);
  EXPECT_LE(rgb[1], 1);
  EXPECT_LE(rgb[2], 1);
}

TEST(KernelsCudaHost, ConvertArgumentErrors) {
  uint8_t dummy[16] = {};
  cuda::DeviceFrameView f{FrameFormat::kNV12, 4, 4, dummy, 4, nullptr, 4};
  EXPECT_EQ(cuda::convert_frame_cuda(f, dummy, 12, ChannelOrder::kBGR, nullptr).code(), StatusCode::kInvalidArgument);
  f.format = FrameFormat::kYUYV;
  f.stride0 = 6;  // needs 8
  EXPECT_EQ(cuda::convert_frame_cuda(f, dummy, 12, ChannelOrder::kBGR, nullptr).code(), StatusCode::kInvalidArgument);
  f.format = FrameFormat::kBGR24;
  f.stride0 = 12;
  EXPECT_EQ(cuda::convert_frame_cuda(f, dummy, 11, ChannelOrder::kBGR, nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda::preview_downscale_cuda(cuda::DeviceImageView::packed(dummy, 2, 2), 0, 1, dummy, 3, nullptr).code(),
            StatusCode::kInvalidArgument);
}

// ---- GPU vs gold -----------------------------------------------------------------------------------

TEST(KernelsCudaConvert, FramesMatchGold) {
  FACEPIPE_REQUIRE_CUDA();
  facepipe::cuda::Stream stream;
  const int sizes[][2] = {{1, 1}, {1, 5}, {3, 3}, {17, 13}, {641, 479}, {1920, 1080}};
  uint32_t seed = 500;
  for (FrameFormat format : {FrameFormat::kBGR24, FrameFormat::kRGB24, FrameFormat::kNV12, FrameFormat::kYUYV}) {
    for (const auto& wh : sizes) {
      for (int padding : {0, 3}) {
        const Frame frame = random_frame(format, wh[0], wh[1], padding, seed++);
        DeviceFrame dev(frame);
        for (ChannelOrder order : {ChannelOrder::kRGB, ChannelOrder::kBGR}) {
          const std::vector<uint8_t> gold = convert_gold(frame, order);
          // Output rows padded too (stride = width * 3 + 5), compared row by row.
          const int64_t dst_stride = int64_t{frame.width} * 3 + 5;
          DeviceBuffer out(static_cast<size_t>(dst_stride * frame.height));
          const Status st = cuda::convert_frame_cuda(dev.view, out.as<uint8_t>(), dst_stride, order, stream.get());
          ASSERT_TRUE(st.is_ok()) << st.message();
          FACEPIPE_CUDA_THROW(cudaStreamSynchronize(stream.get()));
          std::vector<uint8_t> got(gold.size());
          FACEPIPE_CUDA_THROW(cudaMemcpy2D(got.data(), static_cast<size_t>(frame.width) * 3, out.get(),
                                           static_cast<size_t>(dst_stride), static_cast<size_t>(frame.width) * 3,
                                           static_cast<size_t>(frame.height), cudaMemcpyDeviceToHost));
          const int err = max_abs_diff(got, gold);
          std::printf("[kernels-cuda] convert %-5s %4dx%-4d pad %d -> %s max_abs=%d\n", name(format), frame.width,
                      frame.height, padding, order == ChannelOrder::kRGB ? "rgb" : "bgr", err);
          EXPECT_EQ(err, 0) << name(format) << " " << frame.width << "x" << frame.height;
        }
      }
    }
  }
}

TEST(KernelsCudaConvert, PreviewMatchesGold) {
  FACEPIPE_REQUIRE_CUDA();
  facepipe::cuda::Stream stream;
  struct Case {
    int w, h, channels, padding;
    ChannelOrder order;
    int ow, oh;
  };
  const Case cases[] = {
      {1920, 1080, 3, 0, ChannelOrder::kBGR, 960, 540}, {1280, 720, 4, 4, ChannelOrder::kRGB, 960, 540},
      {641, 479, 3, 1, ChannelOrder::kBGR, 960, 540},   {3840, 2160, 3, 0, ChannelOrder::kBGR, 960, 540},
      {17, 1, 3, 0, ChannelOrder::kRGB, 5, 3},          {1, 1, 3, 0, ChannelOrder::kBGR, 3, 2},
  };
  uint32_t seed = 700;
  for (const Case& c : cases) {
    const int64_t stride = int64_t{c.w} * c.channels + c.padding;
    const std::vector<uint8_t> src = random_bytes(static_cast<size_t>(stride * c.h), seed++);
    DeviceBuffer dsrc(src.size());
    FACEPIPE_CUDA_THROW(cudaMemcpy(dsrc.get(), src.data(), src.size(), cudaMemcpyHostToDevice));
    const cuda::DeviceImageView view{dsrc.as<uint8_t>(), c.w, c.h, stride, c.channels, c.order};
    const std::vector<uint8_t> gold = preview_gold(src.data(), c.w, c.h, stride, c.channels, c.order, c.ow, c.oh);
    DeviceBuffer out(gold.size());
    const Status st = cuda::preview_downscale_cuda(view, c.ow, c.oh, out.as<uint8_t>(), int64_t{c.ow} * 3, stream.get());
    ASSERT_TRUE(st.is_ok()) << st.message();
    FACEPIPE_CUDA_THROW(cudaStreamSynchronize(stream.get()));
    std::vector<uint8_t> got(gold.size());
    FACEPIPE_CUDA_THROW(cudaMemcpy(got.data(), out.get(), got.size(), cudaMemcpyDeviceToHost));
    const int err = max_abs_diff(got, gold);
    std::printf("[kernels-cuda] preview %4dx%-4d c%d -> %dx%d max_abs=%d\n", c.w, c.h, c.channels, c.ow, c.oh, err);
    EXPECT_LE(err, 1);  // float rounding of a value at .5 may go either way (FMA contraction differs)
  }
}

// An exact 2x shrink (1080p → 960x540) is the 2x2 box average, rounded: check against that too.
TEST(KernelsCudaConvert, PreviewHalfSizeIsBoxAverage) {
  FACEPIPE_REQUIRE_CUDA();
  const std::vector<uint8_t> src = random_bytes(1920 * 1080 * 3, 77);
  DeviceBuffer dsrc(src.size()), out(960 * 540 * 3);
  FACEPIPE_CUDA_THROW(cudaMemcpy(dsrc.get(), src.data(), src.size(), cudaMemcpyHostToDevice));
  ASSERT_TRUE(cuda::preview_downscale_cuda(cuda::DeviceImageView::packed(dsrc.as<uint8_t>(), 1920, 1080, 3, ChannelOrder::kBGR),
                                           960, 540, out.as<uint8_t>(), 960 * 3, nullptr)
                  .is_ok());
  std::vector<uint8_t> got(960 * 540 * 3);
  FACEPIPE_CUDA_THROW(cudaMemcpy(got.data(), out.get(), got.size(), cudaMemcpyDeviceToHost));
  int worst = 0;
  for (int y = 0; y < 540; ++y)
    for (int x = 0; x < 960; ++x)
      for (int k = 0; k < 3; ++k) {
        auto at = [&](int xx, int yy) { return static_cast<double>(src[(static_cast<size_t>(yy) * 1920 + xx) * 3 + k]); };
        const double box = (at(2 * x, 2 * y) + at(2 * x + 1, 2 * y) + at(2 * x, 2 * y + 1) + at(2 * x + 1, 2 * y + 1)) / 4;
        worst = std::max(worst, static_cast<int>(std::ceil(std::fabs(got[(static_cast<size_t>(y) * 960 + x) * 3 + k] - box))));
      }
  std::printf("[kernels-cuda] preview 1920x1080 -> 960x540 vs 2x2 box: max_abs=%d (ties at .5 round either way)\n", worst);
  EXPECT_LE(worst, 1);
}

TEST(KernelsCudaBench, Nv12To1080pBgrBandwidth) {
  FACEPIPE_REQUIRE_CUDA();
  facepipe::cuda::Stream stream;
  const Frame frame = random_frame(FrameFormat::kNV12, 1920, 1080, 0, 99);
  DeviceFrame dev(frame);
  DeviceBuffer out(1920 * 1080 * 3);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(cuda::convert_frame_cuda(dev.view, out.as<uint8_t>(), 1920 * 3, ChannelOrder::kBGR, stream.get()).is_ok());
  facepipe::cuda::Event start, stop;
  constexpr int kIters = 200;
  FACEPIPE_CUDA_THROW(cudaEventRecord(start.get(), stream.get()));
  for (int i = 0; i < kIters; ++i)
    ASSERT_TRUE(cuda::convert_frame_cuda(dev.view, out.as<uint8_t>(), 1920 * 3, ChannelOrder::kBGR, stream.get()).is_ok());
  FACEPIPE_CUDA_THROW(cudaEventRecord(stop.get(), stream.get()));
  FACEPIPE_CUDA_THROW(cudaEventSynchronize(stop.get()));
  float ms = 0;
  FACEPIPE_CUDA_THROW(cudaEventElapsedTime(&ms, start.get(), stop.get()));
  const double us = 1000.0 * ms / kIters;
  const double bytes = 1920.0 * 1080 * 1.5 + 1920.0 * 1080 * 3;  // NV12 read + BGR written
  std::printf("[kernels-cuda] bench nv12->bgr 1920x1080: %.2f us/frame, %.1f GB/s (%.0f bytes/frame)\n", us,
              bytes / (us * 1e3), bytes);

  // The preview from the converted frame.
  DeviceBuffer preview(960 * 540 * 3);
  const auto view = cuda::DeviceImageView::packed(out.as<uint8_t>(), 1920, 1080, 3, ChannelOrder::kBGR);
  FACEPIPE_CUDA_THROW(cudaEventRecord(start.get(), stream.get()));
  for (int i = 0; i < kIters; ++i)
    ASSERT_TRUE(cuda::preview_downscale_cuda(view, 960, 540, preview.as<uint8_t>(), 960 * 3, stream.get()).is_ok());
  FACEPIPE_CUDA_THROW(cudaEventRecord(stop.get(), stream.get()));
  FACEPIPE_CUDA_THROW(cudaEventSynchronize(stop.get()));
  FACEPIPE_CUDA_THROW(cudaEventElapsedTime(&ms, start.get(), stop.get()));
  const double pus = 1000.0 * ms / kIters;
  const double pbytes = 1920.0 * 1080 * 3 + 960.0 * 540 * 3;
  std::printf("[kernels-cuda] bench preview 1920x1080 -> 960x540: %.2f us/frame, %.1f GB/s\n", pus, pbytes / (pus * 1e3));
}

}  // namespace
}  // namespace facepipe::kernels
