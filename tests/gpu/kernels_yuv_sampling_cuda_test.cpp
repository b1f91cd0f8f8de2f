// The sampling kernels on NV12 and YUYV views against the same kernels on the packed image that
// convert_frame_cuda makes of the same frame: warps (OpenCV-exact and pixel-centre, rectangle and
// affine), a batched warp mixing NV12, YUYV and packed crops, the BlazeFace letterbox, RetinaFace's
// planar resize and the preview. The fetch converts each tap with the conversion's own formula and
// the interpolation code is shared, so every output must be bit-identical (memcmp), not merely
// close. Frames: random Y and chroma over the full 0..255 range (strong colour, clamping in the
// conversion exercised), even and odd sizes, tight and padded strides. The argument checks of YUV
// views, and the fetch itself (a __host__ __device__ function) against a per-pixel gold of the
// conversion, run without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

#include "common/cuda/cuda_resources.h"
#include "gpu/cuda_test_util.h"
#include "kernels/cuda/image_kernels.h"
#include "kernels/cuda/pixel_fetch.cuh"
#include "kernels/image_to_tensor.h"
#include "kernels/resize.h"

namespace facepipe::kernels {
namespace {

using facepipe::cuda::DeviceBuffer;
using cuda::FrameFormat;

static_assert(std::is_trivially_copyable_v<cuda::WarpCrop>, "WarpCrop records are copied to the device as bytes");

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<uint8_t>(rng() & 0xFF);
  return v;
}

// A YUV frame on the device, plus the packed image convert_frame_cuda makes of it (the reference
// every direct sampling is compared with) in `packed_order`.
struct YuvFrame {
  FrameFormat format;
  int width, height;
  DeviceBuffer p0, p1, packed;
  cuda::DeviceFrameView frame;
  cuda::DeviceImageView direct;     // the YUV view the kernels sample as it is
  cuda::DeviceImageView converted;  // the packed conversion of the same frame

  YuvFrame(FrameFormat f, int w, int h, int padding, ChannelOrder packed_order, uint32_t seed)
      : format(f), width(w), height(h) {
    const int64_t half = (w + 1) / 2;
    int64_t stride0 = 0, stride1 = 0;
    size_t bytes1 = 0;
    if (f == FrameFormat::kNV12) {
      stride0 = w + padding;
      stride1 = half * 2 + padding;
      bytes1 = static_cast<size_t>(stride1 * ((h + 1) / 2));
    } else {
      stride0 = half * 4 + padding;
    }
    const std::vector<uint8_t> h0 = random_bytes(static_cast<size_t>(stride0 * h), seed);
    const std::vector<uint8_t> h1 = random_bytes(bytes1, seed + 7919);
    p0 = DeviceBuffer(h0.size());
    FACEPIPE_CUDA_THROW(cudaMemcpy(p0.get(), h0.data(), h0.size(), cudaMemcpyHostToDevice));
    if (bytes1) {
      p1 = DeviceBuffer(bytes1);
      FACEPIPE_CUDA_THROW(cudaMemcpy(p1.get(), h1.data(), h1.size(), cudaMemcpyHostToDevice));
    }
    frame = cuda::DeviceFrameView{f, w, h, p0.as<uint8_t>(), stride0, bytes1 ? p1.as<uint8_t>() : nullptr, stride1};
    direct = cuda::image_view_of(frame);
    // The reference rows padded too (5 bytes), so both sides have strides != width * channels.
    const int64_t packed_stride = int64_t{w} * 3 + 5;
    packed = DeviceBuffer(static_cast<size_t>(packed_stride * h));
    const Status st = cuda::convert_frame_cuda(frame, packed.as<uint8_t>(), packed_stride, packed_order, nullptr);
    if (!st.is_ok()) throw Error(st.message());
    FACEPIPE_CUDA_THROW(cudaDeviceSynchronize());
    converted = cuda::DeviceImageView{packed.as<uint8_t>(), w, h, packed_stride, 3, packed_order};
  }
};

const char* name(FrameFormat f) { return f == FrameFormat::kNV12 ? "nv12" : "yuyv"; }
const char* name(Sampling s) { return s == Sampling::kOpenCv ? "opencv" : "centres"; }
const char* name(ChannelOrder o) { return o == ChannelOrder::kRGB ? "rgb" : "bgr"; }

template <typename T>
std::vector<T> download(const DeviceBuffer& b, size_t count) {
  std::vector<T> v(count);
  FACEPIPE_CUDA_THROW(cudaMemcpy(v.data(), b.get(), count * sizeof(T), cudaMemcpyDeviceToHost));
  return v;
}

// Elements whose bits differ, and the largest difference (reported when the check fails).
struct Compare {
  size_t mismatches = 0;
  double max_abs = 0;
};
template <typename T>
Compare compare(const std::vector<T>& a, const std::vector<T>& b) {
  Compare c;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(T)) == 0) continue;
    ++c.mismatches;
    c.max_abs = std::max(c.max_abs, std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  }
  return c;
}

// Runs `sample(view, out)` on the direct and the converted view (outputs `count` T's, pre-filled
// with a NaN / 0xFF sentinel so that an unwritten element cannot match by accident) and checks bit
// identity.
template <typename T, typename Sample>
void expect_identical(const YuvFrame& f, size_t count, const char* what, Sample sample) {
  DeviceBuffer a(count * sizeof(T)), b(count * sizeof(T));
  FACEPIPE_CUDA_THROW(cudaMemset(a.get(), 0xFF, a.bytes()));
  FACEPIPE_CUDA_THROW(cudaMemset(b.get(), 0xFF, b.bytes()));
  const Status sa = sample(f.direct, a.as<T>());
  ASSERT_TRUE(sa.is_ok()) << what << ": " << sa.message();
  const Status sb = sample(f.converted, b.as<T>());
  ASSERT_TRUE(sb.is_ok()) << what << ": " << sb.message();
  FACEPIPE_CUDA_THROW(cudaDeviceSynchronize());
  const std::vector<T> got = download<T>(a, count), want = download<T>(b, count);
  const Compare c = compare(got, want);
  std::printf("[kernels-cuda] yuv %s %4dx%-4d %-34s mismatches=%zu max_abs=%.3g\n", name(f.format), f.width, f.height,
              what, c.mismatches, c.max_abs);
  EXPECT_EQ(c.mismatches, 0u) << name(f.format) << " " << f.width << "x" << f.height << " " << what;
}

struct FrameCase {
  FrameFormat format;
  int width, height, padding;
  ChannelOrder packed_order;  // of the converted reference
};
const FrameCase kFrames[] = {
    {FrameFormat::kNV12, 1920, 1080, 0, ChannelOrder::kBGR}, {FrameFormat::kNV12, 641, 363, 3, ChannelOrder::kRGB},
    {FrameFormat::kYUYV, 1920, 1080, 0, ChannelOrder::kBGR}, {FrameFormat::kYUYV, 641, 363, 5, ChannelOrder::kRGB},
    {FrameFormat::kNV12, 3, 1, 1, ChannelOrder::kBGR},       {FrameFormat::kYUYV, 1, 5, 0, ChannelOrder::kRGB},
};

struct RectCase {
  const char* label;
  float cx, cy, w, h, rotation;  // fractions of the frame; radians
};
const RectCase kRects[] = {
    {"inside", 0.5f, 0.5f, 0.3f, 0.4f, 0.0f},        {"rotated", 0.45f, 0.55f, 0.35f, 0.5f, 0.7f},
    {"partly-out", 0.95f, 0.05f, 0.4f, 0.5f, -0.4f}, {"fully-out", 3.0f, -2.5f, 0.2f, 0.2f, 1.1f},
    {"enlarge", 0.5f, 0.5f, 0.02f, 0.03f, 0.2f},     {"whole", 0.5f, 0.5f, 1.0f, 1.0f, 0.0f},
};
RotatedRect rect_for(const RectCase& r, int w, int h) {
  return RotatedRect{r.cx * w, r.cy * h, std::max(r.w * w, 0.5f), std::max(r.h * h, 0.5f), r.rotation};
}

// ---- Argument checks (no GPU needed) ---------------------------------------------------------------

TEST(KernelsCudaHost, YuvViewValidation) {
  const uint8_t* fake = reinterpret_cast<const uint8_t*>(&kFrames);  // never dereferenced
  // NV12 5x3: Y stride >= 5, UV stride >= 2 * 3 = 6 (the last pair covers one column).
  EXPECT_TRUE(cuda::validate(cuda::DeviceImageView::nv12(fake, 5, fake, 6, 5, 3)).is_ok());
  EXPECT_EQ(cuda::validate(cuda::DeviceImageView::nv12(fake, 5, nullptr, 6, 5, 3)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda::validate(cuda::DeviceImageView::nv12(fake, 4, fake, 6, 5, 3)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda::validate(cuda::DeviceImageView::nv12(fake, 5, fake, 5, 5, 3)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda::validate(cuda::DeviceImageView::nv12(nullptr, 5, fake, 6, 5, 3)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda::validate(cuda::DeviceImageView::nv12(fake, 5, fake, 6, 0, 3)).code(), StatusCode::kInvalidArgument);
  // YUYV 5x3: stride >= 4 * 3 = 12.
  EXPECT_TRUE(cuda::validate(cuda::DeviceImageView::yuyv(fake, 12, 5, 3)).is_ok());
  EXPECT_EQ(cuda::validate(cuda::DeviceImageView::yuyv(fake, 11, 5, 3)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda::validate(cuda::DeviceImageView::yuyv(fake, 12, 5, -1)).code(), StatusCode::kInvalidArgument);
  cuda::DeviceImageView unknown = cuda::DeviceImageView::yuyv(fake, 12, 5, 3);
  unknown.format = static_cast<cuda::PixelFormat>(9);
  EXPECT_EQ(cuda::validate(unknown).code(), StatusCode::kUnsupported);
  // The entry points refuse a bad YUV view before launching.
  float dummy = 0;
  TensorFormat f = tensor_format_unit_range(8, 8, BorderMode::kZero);
  EXPECT_EQ(cuda::warp_rect_to_tensor_cuda(cuda::DeviceImageView::nv12(fake, 5, nullptr, 6, 5, 3),
                                           RotatedRect{2, 1, 2, 2, 0}, f, &dummy, nullptr)
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda::preview_downscale_cuda(cuda::DeviceImageView::yuyv(fake, 8, 5, 3), 2, 2, reinterpret_cast<uint8_t*>(&dummy),
                                         6, nullptr)
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(KernelsCudaHost, ImageViewOfFrame) {
  const uint8_t* a = reinterpret_cast<const uint8_t*>(&kFrames);
  const uint8_t* b = a + 100;
  const cuda::DeviceImageView nv12 = cuda::image_view_of(cuda::DeviceFrameView{FrameFormat::kNV12, 7, 5, a, 9, b, 10});
  EXPECT_EQ(nv12.format, cuda::PixelFormat::kNV12);
  EXPECT_EQ(nv12.data, a);
  EXPECT_EQ(nv12.row_stride, 9);
  EXPECT_EQ(nv12.plane1, b);
  EXPECT_EQ(nv12.plane1_stride, 10);
  EXPECT_EQ(nv12.width, 7);
  EXPECT_EQ(nv12.height, 5);
  const cuda::DeviceImageView yuyv = cuda::image_view_of(cuda::DeviceFrameView{FrameFormat::kYUYV, 7, 5, a, 16, nullptr, 0});
  EXPECT_EQ(yuyv.format, cuda::PixelFormat::kYUYV);
  EXPECT_EQ(yuyv.row_stride, 16);
  EXPECT_TRUE(cuda::validate(yuyv).is_ok());
  const cuda::DeviceImageView bgr = cuda::image_view_of(cuda::DeviceFrameView{FrameFormat::kBGR24, 7, 5, a, 24, nullptr, 0});
  EXPECT_EQ(bgr.format, cuda::PixelFormat::kPacked);
  EXPECT_EQ(bgr.order, ChannelOrder::kBGR);
  EXPECT_EQ(bgr.channels, 3);
  EXPECT_EQ(bgr.row_stride, 24);
  EXPECT_EQ(cuda::image_view_of(cuda::DeviceFrameView{FrameFormat::kRGB24, 7, 5, a, 21, nullptr, 0}).order,
            ChannelOrder::kRGB);
}

// The fetch on the host (the same source the kernels compile) against the conversion's spec, written
// out independently here as kernels_convert_cuda_test.cpp's gold does it: every pixel of odd and even
// frames, padded strides. Catches siting and indexing mistakes without a GPU.
TEST(KernelsCudaHost, FetchMatchesConversionGoldOnTheHost) {
  const auto clamp8 = [](int v) { return std::clamp(v, 0, 255); };
  const auto gold = [&](int y, int u, int v, int rgb[3]) {
    const int c = y - 16, d = u - 128, e = v - 128;
    rgb[0] = clamp8((298 * c + 409 * e + 128) >> 8);
    rgb[1] = clamp8((298 * c - 100 * d - 208 * e + 128) >> 8);
    rgb[2] = clamp8((298 * c + 516 * d + 128) >> 8);
  };
  const int sizes[][2] = {{1, 1}, {3, 1}, {1, 5}, {5, 3}, {17, 13}, {641, 363}, {64, 36}};
  uint32_t seed = 9000;
  size_t checked = 0;
  for (const auto& wh : sizes) {
    const int w = wh[0], h = wh[1], half = (w + 1) / 2;
    for (int padding : {0, 3}) {
      // NV12
      const int64_t ys = w + padding, uvs = int64_t{half} * 2 + padding;
      const std::vector<uint8_t> y = random_bytes(static_cast<size_t>(ys * h), seed++);
      const std::vector<uint8_t> uv = random_bytes(static_cast<size_t>(uvs * ((h + 1) / 2)), seed++);
      const auto nv12 = cuda::DeviceImageView::nv12(y.data(), ys, uv.data(), uvs, w, h);
      ASSERT_TRUE(cuda::validate(nv12).is_ok());
      // YUYV
      const int64_t ms = int64_t{half} * 4 + padding;
      const std::vector<uint8_t> m = random_bytes(static_cast<size_t>(ms * h), seed++);
      const auto yuyv = cuda::DeviceImageView::yuyv(m.data(), ms, w, h);
      ASSERT_TRUE(cuda::validate(yuyv).is_ok());
      // Packed, 4 channels BGRA (the fourth ignored)
      const int64_t ps = int64_t{w} * 4 + padding;
      const std::vector<uint8_t> px = random_bytes(static_cast<size_t>(ps * h), seed++);
      const cuda::DeviceImageView bgra{px.data(), w, h, ps, 4, ChannelOrder::kBGR};
      for (int yy = 0; yy < h; ++yy) {
        for (int xx = 0; xx < w; ++xx) {
          int want[3];
          const uint8_t* c = uv.data() + (yy / 2) * uvs + (xx / 2) * 2;
          gold(y[static_cast<size_t>(yy * ys + xx)], c[0], c[1], want);
          cuda::Rgb8 got = cuda::fetch_rgb(nv12, xx, yy);
          ASSERT_EQ((std::array<int, 3>{got.r, got.g, got.b}), (std::array<int, 3>{want[0], want[1], want[2]}))
              << "nv12 " << w << "x" << h << " at " << xx << "," << yy;
          const uint8_t* mp = m.data() + yy * ms + (xx / 2) * 4;
          gold(mp[xx % 2 == 0 ? 0 : 2], mp[1], mp[3], want);
          got = cuda::fetch_rgb(yuyv, xx, yy);
          ASSERT_EQ((std::array<int, 3>{got.r, got.g, got.b}), (std::array<int, 3>{want[0], want[1], want[2]}))
              << "yuyv " << w << "x" << h << " at " << xx << "," << yy;
          const uint8_t* q = px.data() + yy * ps + xx * 4;
          got = cuda::fetch_rgb(bgra, xx, yy);
          ASSERT_EQ((std::array<int, 3>{got.r, got.g, got.b}), (std::array<int, 3>{q[2], q[1], q[0]}));
          // Output channel order: k = 0 is B for kBGR.
          ASSERT_EQ(cuda::channel(got, ChannelOrder::kBGR, 0), q[0]);
          ASSERT_EQ(cuda::channel(got, ChannelOrder::kRGB, 0), q[2]);
          ASSERT_EQ(cuda::channel(got, ChannelOrder::kBGR, 1), q[1]);
          checked += 3;
        }
      }
    }
  }
  std::printf("[kernels-cuda] host fetch: %zu fetches (NV12, YUYV, BGRA) match the conversion gold\n", checked);
}

// ---- Direct YUV sampling == convert, then sample ---------------------------------------------------

TEST(KernelsCudaYuv, WarpsAreBitIdenticalToConvertThenWarp) {
  FACEPIPE_REQUIRE_CUDA();
  uint32_t seed = 9100;
  for (const FrameCase& fc : kFrames) {
    const YuvFrame frame(fc.format, fc.width, fc.height, fc.padding, fc.packed_order, seed++);
    const bool large = fc.width > 100;
    const int ow = large ? 256 : 19, oh = large ? 256 : 13;  // the landmark input; odd sizes on tiny frames
    for (Sampling s : {Sampling::kOpenCv, Sampling::kPixelCentres}) {
      for (BorderMode border : {BorderMode::kZero, BorderMode::kReplicate}) {
        for (ChannelOrder order : {ChannelOrder::kRGB, ChannelOrder::kBGR}) {
          TensorFormat f{ow, oh, 1.f / 255.f, 0.f, order, border, s};
          for (const RectCase& rc : kRects) {
            const RotatedRect rect = rect_for(rc, fc.width, fc.height);
            char what[96];
            std::snprintf(what, sizeof what, "warp %s %s %s %s", rc.label, name(s), border == BorderMode::kZero ? "zero" : "repl",
                          name(order));
            expect_identical<float>(frame, static_cast<size_t>(ow) * oh * 3, what,
                                    [&](const cuda::DeviceImageView& v, float* out) {
                                      return cuda::warp_rect_to_tensor_cuda(v, rect, f, out, nullptr);
                                    });
          }
          // An arbitrary affine (shear, mirror) through warp_to_tensor_cuda.
          AffineTransform t;
          t.m = {-0.731 * fc.width / 129.0, 0.213, 0.93 * fc.width, 0.4, 0.9127 * fc.height / 77.0, -3.25};
          char what[96];
          std::snprintf(what, sizeof what, "affine %s %s %s", name(s), border == BorderMode::kZero ? "zero" : "repl", name(order));
          expect_identical<float>(frame, static_cast<size_t>(ow) * oh * 3, what,
                                  [&](const cuda::DeviceImageView& v, float* out) {
                                    return cuda::warp_to_tensor_cuda(v, t, f, out, nullptr);
                                  });
        }
      }
    }
  }
}

// One batched launch with crops of an NV12 frame, a YUYV frame and a packed image (one format per
// crop, several formats per batch), against the same records made on the converted images.
TEST(KernelsCudaYuv, BatchedWarpMixingFormatsIsBitIdentical) {
  FACEPIPE_REQUIRE_CUDA();
  for (const int size : {0, 1}) {
    const int w = size ? 1920 : 641, h = size ? 1080 : 363;
    const YuvFrame nv12(FrameFormat::kNV12, w, h, size ? 0 : 3, ChannelOrder::kBGR, 9200 + size);
    const YuvFrame yuyv(FrameFormat::kYUYV, w, h, size ? 0 : 1, ChannelOrder::kRGB, 9300 + size);
    struct Crop {
      const YuvFrame* frame;
      bool packed;  // a packed crop in the batch: the converted image on both sides
      RectCase rect;
    };
    const Crop crops[6] = {
        {&nv12, false, kRects[0]}, {&yuyv, false, kRects[1]}, {&nv12, true, kRects[2]},
        {&yuyv, false, kRects[4]}, {&nv12, false, kRects[1]}, {&yuyv, true, kRects[5]},
    };
    for (Sampling s : {Sampling::kOpenCv, Sampling::kPixelCentres}) {
      TensorFormat f = tensor_format_unit_range(256, 256, BorderMode::kReplicate);
      f.sampling = s;
      const size_t per = 256 * 256 * 3;
      std::vector<cuda::WarpCrop> direct(6), converted(6);
      for (int k = 0; k < 6; ++k) {
        const Crop& c = crops[k];
        const RotatedRect rect = rect_for(c.rect, w, h);
        ASSERT_TRUE(cuda::make_warp_crop(c.packed ? c.frame->converted : c.frame->direct, rect, f, direct[k]).is_ok());
        ASSERT_TRUE(cuda::make_warp_crop(c.frame->converted, rect, f, converted[k]).is_ok());
      }
      DeviceBuffer records(2 * 6 * sizeof(cuda::WarpCrop)), out(2 * 6 * per * sizeof(float));
      FACEPIPE_CUDA_THROW(cudaMemcpy(records.get(), direct.data(), 6 * sizeof(cuda::WarpCrop), cudaMemcpyHostToDevice));
      FACEPIPE_CUDA_THROW(cudaMemcpy(records.as<cuda::WarpCrop>() + 6, converted.data(), 6 * sizeof(cuda::WarpCrop),
                                     cudaMemcpyHostToDevice));
      FACEPIPE_CUDA_THROW(cudaMemset(out.get(), 0xFF, out.bytes()));
      ASSERT_TRUE(cuda::warp_batch_to_tensor_cuda(records.as<cuda::WarpCrop>(), 6, f, out.as<float>(), nullptr).is_ok());
      ASSERT_TRUE(cuda::warp_batch_to_tensor_cuda(records.as<cuda::WarpCrop>() + 6, 6, f, out.as<float>() + 6 * per, nullptr)
                      .is_ok());
      FACEPIPE_CUDA_THROW(cudaDeviceSynchronize());
      const std::vector<float> all = download<float>(out, 12 * per);
      for (int k = 0; k < 6; ++k) {
        const std::vector<float> got(all.begin() + k * per, all.begin() + (k + 1) * per);
        const std::vector<float> want(all.begin() + (6 + k) * per, all.begin() + (7 + k) * per);
        const Compare c = compare(got, want);
        std::printf("[kernels-cuda] yuv batch %4dx%-4d crop %d (%s, %-10s) %-7s mismatches=%zu max_abs=%.3g\n", w, h, k,
                    crops[k].packed ? "packed" : name(crops[k].frame->format), crops[k].rect.label, name(s), c.mismatches,
                    c.max_abs);
        EXPECT_EQ(c.mismatches, 0u) << "crop " << k << " " << name(s);
      }
    }
  }
}

TEST(KernelsCudaYuv, LetterboxIsBitIdentical) {
  FACEPIPE_REQUIRE_CUDA();
  uint32_t seed = 9400;
  for (const FrameCase& fc : kFrames) {
    const YuvFrame frame(fc.format, fc.width, fc.height, fc.padding, fc.packed_order, seed++);
    for (Sampling s : {Sampling::kOpenCv, Sampling::kPixelCentres}) {
      TensorFormat f = tensor_format_signed_range(128, 128, BorderMode::kZero);
      f.sampling = s;
      char what[64];
      std::snprintf(what, sizeof what, "letterbox 128x128 %s", name(s));
      expect_identical<float>(frame, 128 * 128 * 3, what, [&](const cuda::DeviceImageView& v, float* out) {
        return cuda::letterbox_to_tensor_cuda(v, f, out, nullptr);
      });
    }
  }
}

TEST(KernelsCudaYuv, PlanarResizeIsBitIdentical) {
  FACEPIPE_REQUIRE_CUDA();
  uint32_t seed = 9500;
  for (const FrameCase& fc : kFrames) {
    const YuvFrame frame(fc.format, fc.width, fc.height, fc.padding, fc.packed_order, seed++);
    for (ChannelOrder order : {ChannelOrder::kBGR, ChannelOrder::kRGB}) {
      // RetinaFace's layout: the frame scaled into the top-left of a fixed tensor, the rest padded.
      PlanarTensorFormat f;
      f.width = 640;
      f.height = 640;
      const double scale = std::min(640.0 / fc.width, 640.0 / fc.height);
      f.content_width = std::clamp(static_cast<int>(std::lround(fc.width * scale)), 1, 640);
      f.content_height = std::clamp(static_cast<int>(std::lround(fc.height * scale)), 1, 640);
      f.order = order;
      f.mean = {104.f, 117.f, 123.f};
      f.scale = {1.0f, 0.5f, 1.0f};
      f.pad_value = 0.25f;
      char what[64];
      std::snprintf(what, sizeof what, "planar 640x640 (%dx%d) %s", f.content_width, f.content_height, name(order));
      expect_identical<float>(frame, 3 * 640 * 640, what, [&](const cuda::DeviceImageView& v, float* out) {
        return cuda::resize_to_planar_tensor_cuda(v, f, out, nullptr);
      });
    }
  }
}

TEST(KernelsCudaYuv, PreviewIsBitIdentical) {
  FACEPIPE_REQUIRE_CUDA();
  uint32_t seed = 9600;
  for (const FrameCase& fc : kFrames) {
    const YuvFrame frame(fc.format, fc.width, fc.height, fc.padding, fc.packed_order, seed++);
    for (const auto& size : {std::pair{960, 540}, std::pair{333, 187}}) {
      const int ow = size.first, oh = size.second;
      const int64_t stride = int64_t{ow} * 3 + 2;
      char what[64];
      std::snprintf(what, sizeof what, "preview %dx%d", ow, oh);
      expect_identical<uint8_t>(frame, static_cast<size_t>(stride * oh), what, [&](const cuda::DeviceImageView& v, uint8_t* out) {
        return cuda::preview_downscale_cuda(v, ow, oh, out, stride, nullptr);
      });
    }
  }
}

// What the pipeline saves per 1080p NV12 frame: the full conversion vs the consumers sampling YUV
// (informative, no assertion; the lead's H200 numbers go in docs/benchmarks.md).
TEST(KernelsCudaBench, Nv12DirectSamplingVsConversion) {
  FACEPIPE_REQUIRE_CUDA();
  facepipe::cuda::Stream stream;
  const YuvFrame frame(FrameFormat::kNV12, 1920, 1080, 0, ChannelOrder::kBGR, 9700);
  DeviceBuffer bgr(1920 * 1080 * 3), preview(960 * 540 * 3), det(128 * 128 * 3 * sizeof(float));
  TensorFormat f = tensor_format_signed_range(128, 128, BorderMode::kZero);
  f.sampling = Sampling::kOpenCv;
  const auto time_us = [&](auto&& body) {
    for (int i = 0; i < 10; ++i) body();
    facepipe::cuda::Event start, stop;
    constexpr int kIters = 200;
    FACEPIPE_CUDA_THROW(cudaEventRecord(start.get(), stream.get()));
    for (int i = 0; i < kIters; ++i) body();
    FACEPIPE_CUDA_THROW(cudaEventRecord(stop.get(), stream.get()));
    FACEPIPE_CUDA_THROW(cudaEventSynchronize(stop.get()));
    float ms = 0;
    FACEPIPE_CUDA_THROW(cudaEventElapsedTime(&ms, start.get(), stop.get()));
    return 1000.0 * ms / kIters;
  };
  const double convert = time_us([&] {
    (void)cuda::convert_frame_cuda(frame.frame, bgr.as<uint8_t>(), 1920 * 3, ChannelOrder::kBGR, stream.get());
  });
  const double preview_direct = time_us([&] {
    (void)cuda::preview_downscale_cuda(frame.direct, 960, 540, preview.as<uint8_t>(), 960 * 3, stream.get());
  });
  const auto packed = cuda::DeviceImageView::packed(bgr.as<uint8_t>(), 1920, 1080, 3, ChannelOrder::kBGR);
  const double preview_packed = time_us([&] {
    (void)cuda::preview_downscale_cuda(packed, 960, 540, preview.as<uint8_t>(), 960 * 3, stream.get());
  });
  const double letterbox_direct =
      time_us([&] { (void)cuda::letterbox_to_tensor_cuda(frame.direct, f, det.as<float>(), stream.get()); });
  const double letterbox_packed =
      time_us([&] { (void)cuda::letterbox_to_tensor_cuda(packed, f, det.as<float>(), stream.get()); });
  std::printf("[kernels-cuda] bench nv12 1920x1080: convert %.2f us; preview 960x540 direct %.2f us vs from BGR %.2f us; "
              "letterbox 128x128 direct %.2f us vs from BGR %.2f us\n",
              convert, preview_direct, preview_packed, letterbox_direct, letterbox_packed);
}

}  // namespace
}  // namespace facepipe::kernels
