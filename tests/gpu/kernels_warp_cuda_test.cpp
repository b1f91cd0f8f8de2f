// GPU warps and resizes against their CPU golds (kernels/image_to_tensor.cpp, kernels/resize.cpp):
// seeded random images of odd sizes (width 1, 3, 17, 641), padded strides, 3 and 4 channels, both
// channel orders, rotated rectangles, rectangles partly and fully outside the image, a batch of 5
// crops from 2 images, the BlazeFace letterbox and RetinaFace's planar resize. Sampling::kOpenCv
// must match bit for bit; kPixelCentres within 1e-5; the planar resize within 1e-4. Every case
// prints its max abs error. The host-side transforms are also checked on the CPU (no GPU needed).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "common/cuda/cuda_resources.h"
#include "gpu/cuda_test_util.h"
#include "kernels/cuda/image_kernels.h"
#include "kernels/image_to_tensor.h"
#include "kernels/resize.h"

namespace facepipe::kernels {
namespace {

using facepipe::cuda::DeviceBuffer;

struct HostImage {
  int width = 0, height = 0, channels = 3;
  int64_t stride = 0;
  ChannelOrder order = ChannelOrder::kRGB;
  std::vector<uint8_t> bytes;
  ImageView view() const { return ImageView{bytes.data(), width, height, stride, channels, order}; }
};

HostImage random_image(int w, int h, int channels, int padding, ChannelOrder order, uint32_t seed) {
  HostImage img{w, h, channels, static_cast<int64_t>(w) * channels + padding, order, {}};
  img.bytes.resize(static_cast<size_t>(img.stride * h));
  std::mt19937 rng(seed);
  for (auto& b : img.bytes) b = static_cast<uint8_t>(rng() & 0xFF);
  return img;
}

// A host image copied to the device.
struct DeviceImage {
  DeviceBuffer buffer;
  cuda::DeviceImageView view;
  explicit DeviceImage(const HostImage& img) : buffer(img.bytes.size()) {
    FACEPIPE_CUDA_THROW(cudaMemcpy(buffer.get(), img.bytes.data(), img.bytes.size(), cudaMemcpyHostToDevice));
    view = cuda::DeviceImageView{buffer.as<uint8_t>(), img.width, img.height, img.stride, img.channels, img.order};
  }
};

std::vector<float> download(const DeviceBuffer& buffer, size_t count) {
  std::vector<float> v(count);
  FACEPIPE_CUDA_THROW(cudaMemcpy(v.data(), buffer.get(), count * sizeof(float), cudaMemcpyDeviceToHost));
  return v;
}

struct Diff {
  double max_abs = 0;
  size_t mismatches = 0;  // elements that differ at all
};
Diff diff(const float* a, const float* b, size_t n) {
  Diff d;
  for (size_t i = 0; i < n; ++i) {
    const double e = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
    if (!(e == 0)) ++d.mismatches;
    if (!(e <= d.max_abs)) d.max_abs = std::isnan(e) ? INFINITY : e;
  }
  return d;
}

const char* name(Sampling s) { return s == Sampling::kOpenCv ? "opencv" : "centres"; }
const char* name(BorderMode b) { return b == BorderMode::kZero ? "zero" : "replicate"; }
const char* name(ChannelOrder o) { return o == ChannelOrder::kRGB ? "rgb" : "bgr"; }

struct ImageCase {
  int width, height, channels, padding;
  ChannelOrder order;
};
const ImageCase kImages[] = {
    {1, 1, 3, 0, ChannelOrder::kRGB},   {1, 7, 3, 1, ChannelOrder::kBGR},  {3, 5, 4, 3, ChannelOrder::kRGB},
    {17, 13, 3, 5, ChannelOrder::kBGR}, {17, 1, 4, 0, ChannelOrder::kRGB}, {641, 479, 4, 7, ChannelOrder::kBGR},
    {641, 3, 3, 1, ChannelOrder::kRGB},
};

// Rectangles relative to the image size: (cx, cy, w, h) as fractions, rotation in radians.
struct RectCase {
  const char* label;
  float cx, cy, w, h, rotation;
};
const RectCase kRects[] = {
    {"inside", 0.5f, 0.5f, 0.6f, 0.5f, 0.0f},
    {"rotated", 0.45f, 0.55f, 0.7f, 0.6f, 0.7f},
    {"rotated-neg", 0.5f, 0.4f, 0.5f, 0.8f, -2.3f},
    {"partly-out", 0.9f, 0.1f, 0.8f, 0.9f, 0.3f},
    {"fully-out", 3.0f, -2.5f, 0.5f, 0.5f, 1.1f},
    {"enlarge", 0.5f, 0.5f, 0.05f, 0.05f, 0.0f},
    {"whole", 0.5f, 0.5f, 1.0f, 1.0f, 0.0f},
};

RotatedRect rect_for(const RectCase& r, int w, int h) {
  return RotatedRect{r.cx * w, r.cy * h, std::max(r.w * w, 0.5f), std::max(r.h * h, 0.5f), r.rotation};
}

double tolerance(Sampling s) { return s == Sampling::kOpenCv ? 0.0 : 1e-5; }

// ---- Host-side transforms (run without a GPU) ------------------------------------------------

// sampling_matrix_for_rect against the CPU: for kPixelCentres it is the CPU's transform exactly (the
// CPU's affine path with it reproduces the rect path bit for bit); for kOpenCv (whose CPU matrix is
// file-local) its last row is (0, 0, 1) up to the rounding of the float corners (which makes tiny
// rectangles measurably projective, as in OpenCV), so only that is checked and the affine-path
// difference is printed. The bit-exact check of kOpenCv is the GPU test below.
TEST(KernelsCudaHost, SamplingMatrixMatchesCpuRectPath) {
  const HostImage img = random_image(97, 61, 3, 2, ChannelOrder::kBGR, 11);
  for (Sampling s : {Sampling::kOpenCv, Sampling::kPixelCentres}) {
    for (const RectCase& rc : kRects) {
      TensorFormat f{33, 21, 2.f / 255.f, -1.f, ChannelOrder::kRGB, BorderMode::kZero, s};
      const RotatedRect rect = rect_for(rc, img.width, img.height);
      std::vector<float> a(33 * 21 * 3), b(33 * 21 * 3);
      ASSERT_TRUE(warp_to_tensor(img.view(), rect, f, a.data()).is_ok());
      cuda::SamplingMatrix m;
      ASSERT_TRUE(cuda::sampling_matrix_for_rect(rect, f, m).is_ok());
      const AffineTransform t{{m[0], m[1], m[2], m[3], m[4], m[5]}};
      ASSERT_TRUE(warp_affine_to_tensor(img.view(), t, f, b.data()).is_ok());
      const Diff d = diff(a.data(), b.data(), a.size());
      std::printf("[kernels-cuda] host matrix %-7s %-11s last row (%.3g, %.3g, 1%+.3g) affine-path max_abs=%.3g mismatches=%zu\n",
                  name(s), rc.label, m[6], m[7], m[8] - 1.0, d.max_abs, d.mismatches);
      if (s == Sampling::kPixelCentres) {
        EXPECT_EQ(d.mismatches, 0u) << rc.label;
      }
      EXPECT_NEAR(m[6], 0.0, 1e-6) << rc.label;
      EXPECT_NEAR(m[7], 0.0, 1e-6) << rc.label;
      EXPECT_NEAR(m[8], 1.0, 1e-4) << rc.label;
    }
  }
}

TEST(KernelsCudaHost, ArgumentErrorsAreStatuses) {
  TensorFormat f = tensor_format_unit_range(8, 8, BorderMode::kZero);
  float dummy = 0;
  cuda::DeviceImageView null_image{};
  EXPECT_EQ(cuda::warp_to_tensor_cuda(null_image, AffineTransform{}, f, &dummy, nullptr).code(),
            StatusCode::kInvalidArgument);
  const uint8_t* fake = reinterpret_cast<const uint8_t*>(&dummy);  // never dereferenced: validation fails first
  cuda::DeviceImageView img = cuda::DeviceImageView::packed(fake, 4, 4, 3);
  EXPECT_EQ(cuda::warp_to_tensor_cuda(img, AffineTransform{}, f, nullptr, nullptr).code(), StatusCode::kInvalidArgument);
  AffineTransform bad;
  bad.m[2] = NAN;
  EXPECT_EQ(cuda::warp_to_tensor_cuda(img, bad, f, &dummy, nullptr).code(), StatusCode::kInvalidArgument);
  img.channels = 2;
  EXPECT_EQ(cuda::warp_to_tensor_cuda(img, AffineTransform{}, f, &dummy, nullptr).code(), StatusCode::kUnsupported);
  cuda::SamplingMatrix m;
  EXPECT_EQ(cuda::sampling_matrix_for_rect(RotatedRect{1, 1, 0, 1, 0}, f, m).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda::warp_batch_to_tensor_cuda(nullptr, 3, f, &dummy, nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(cuda::warp_batch_to_tensor_cuda(nullptr, 0, f, &dummy, nullptr).is_ok());
  PlanarTensorFormat pf{16, 16, 16, 16};
  pf.filter = ResizeFilter::kAntialiasBilinear;
  img.channels = 3;
  EXPECT_EQ(cuda::resize_to_planar_tensor_cuda(img, pf, &dummy, nullptr).code(), StatusCode::kUnsupported);
  pf.filter = ResizeFilter::kBilinear;
  pf.content_width = 17;
  EXPECT_EQ(cuda::resize_to_planar_tensor_cuda(img, pf, &dummy, nullptr).code(), StatusCode::kInvalidArgument);
}

// ---- Single warps ----------------------------------------------------------------------------------

TEST(KernelsCudaWarp, MatchesCpuGoldOnOddImages) {
  FACEPIPE_REQUIRE_CUDA();
  facepipe::cuda::Stream stream;
  uint32_t seed = 100;
  double worst[2] = {0, 0};
  int cases = 0;
  for (const ImageCase& ic : kImages) {
    const HostImage img = random_image(ic.width, ic.height, ic.channels, ic.padding, ic.order, seed++);
    DeviceImage dev(img);
    for (const RectCase& rc : kRects) {
      const RotatedRect rect = rect_for(rc, img.width, img.height);
      for (Sampling s : {Sampling::kOpenCv, Sampling::kPixelCentres}) {
        for (BorderMode b : {BorderMode::kZero, BorderMode::kReplicate}) {
          for (ChannelOrder o : {ChannelOrder::kRGB, ChannelOrder::kBGR}) {
            // Odd output sizes, and the landmark network's 256x256 on the large image.
            const int ow = img.width > 100 ? 256 : 19, oh = img.width > 100 ? 256 : 13;
            TensorFormat f{ow, oh, 1.f / 255.f, 0.f, o, b, s};
            if (b == BorderMode::kZero) f.scale = 2.f / 255.f, f.offset = -1.f;
            const size_t n = static_cast<size_t>(ow) * oh * 3;
            std::vector<float> gold(n);
            ASSERT_TRUE(warp_to_tensor(img.view(), rect, f, gold.data()).is_ok());
            DeviceBuffer out(n * sizeof(float));
            FACEPIPE_CUDA_THROW(cudaMemset(out.get(), 0xFF, out.bytes()));  // NaN sentinel: every element written
            const Status st = cuda::warp_rect_to_tensor_cuda(dev.view, rect, f, out.as<float>(), stream.get());
            ASSERT_TRUE(st.is_ok()) << st.message();
            FACEPIPE_CUDA_THROW(cudaStreamSynchronize(stream.get()));
            const std::vector<float> got = download(out, n);
            const Diff d = diff(got.data(), gold.data(), n);
            std::printf("[kernels-cuda] warp %4dx%-4d c%d %s %-11s %-7s %-9s ->%s %3dx%-3d max_abs=%.3g mismatches=%zu\n",
                        img.width, img.height, img.channels, name(img.order), rc.label, name(s), name(b), name(o), ow,
                        oh, d.max_abs, d.mismatches);
            EXPECT_LE(d.max_abs, tolerance(s)) << img.width << "x" << img.height << " " << rc.label << " " << name(s)
                                               << " " << name(b) << " " << name(o);
            worst[s == Sampling::kOpenCv ? 0 : 1] = std::max(worst[s == Sampling::kOpenCv ? 0 : 1], d.max_abs);
            ++cases;
          }
        }
      }
    }
  }
  std::printf("[kernels-cuda] warp: %d cases, worst max_abs opencv=%.3g (bar 0) centres=%.3g (bar 1e-5)\n", cases,
              worst[0], worst[1]);
}

// An arbitrary affine transform (shear, mirror) through warp_affine_to_tensor, not only rectangles.
TEST(KernelsCudaWarp, ArbitraryAffineMatchesCpuGold) {
  FACEPIPE_REQUIRE_CUDA();
  facepipe::cuda::Stream stream;
  const HostImage img = random_image(129, 77, 3, 3, ChannelOrder::kRGB, 7);
  DeviceImage dev(img);
  AffineTransform t;
  t.m = {-0.731, 0.213, 120.37, 0.4, 0.9127, -3.25};
  for (Sampling s : {Sampling::kOpenCv, Sampling::kPixelCentres}) {
    for (BorderMode b : {BorderMode::kZero, BorderMode::kReplicate}) {
      TensorFormat f{101, 67, 1.f / 255.f, 0.f, ChannelOrder::kBGR, b, s};
      const size_t n = 101 * 67 * 3;
      std::vector<float> gold(n);
      ASSERT_TRUE(warp_affine_to_tensor(img.view(), t, f, gold.data()).is_ok());
      DeviceBuffer out(n * sizeof(float));
      ASSERT_TRUE(cuda::warp_to_tensor_cuda(dev.view, t, f, out.as<float>(), stream.get()).is_ok());
      FACEPIPE_CUDA_THROW(cudaStreamSynchronize(stream.get()));
      const Diff d = diff(download(out, n).data(), gold.data(), n);
      std::printf("[kernels-cuda] affine %s %s max_abs=%.3g mismatches=%zu\n", name(s), name(b), d.max_abs, d.mismatches);
      EXPECT_LE(d.max_abs, tolerance(s));
    }
  }
}

// ---- Batched warps -----------------------------------------------------------------------------------

TEST(KernelsCudaWarp, BatchOfFiveCropsFromTwoImages) {
  FACEPIPE_REQUIRE_CUDA();
  facepipe::cuda::Stream stream;
  const HostImage a = random_image(641, 479, 4, 7, ChannelOrder::kBGR, 21);
  const HostImage b = random_image(320, 243, 3, 1, ChannelOrder::kRGB, 22);
  DeviceImage da(a), db(b);
  struct Crop {
    const HostImage* host;
    const DeviceImage* dev;
    RotatedRect rect;
  };
  const Crop crops[5] = {
      {&a, &da, {320.f, 240.f, 200.f, 200.f, 0.f}},    {&b, &db, {100.f, 120.f, 150.f, 150.f, 0.4f}},
      {&a, &da, {620.f, 20.f, 180.f, 180.f, -0.9f}},   {&b, &db, {-400.f, 900.f, 50.f, 50.f, 0.f}},
      {&a, &da, {100.5f, 400.25f, 90.f, 120.f, 2.5f}},
  };
  for (Sampling s : {Sampling::kOpenCv, Sampling::kPixelCentres}) {
    for (BorderMode border : {BorderMode::kReplicate, BorderMode::kZero}) {
      TensorFormat f{37, 29, 1.f / 255.f, 0.f, ChannelOrder::kRGB, border, s};
      const size_t per = 37 * 29 * 3;
      std::vector<cuda::WarpCrop> records(5);
      for (int k = 0; k < 5; ++k) ASSERT_TRUE(cuda::make_warp_crop(crops[k].dev->view, crops[k].rect, f, records[k]).is_ok());
      DeviceBuffer records_dev(records.size() * sizeof(cuda::WarpCrop));
      FACEPIPE_CUDA_THROW(cudaMemcpyAsync(records_dev.get(), records.data(), records_dev.bytes(), cudaMemcpyHostToDevice,
                                          stream.get()));
      DeviceBuffer out(5 * per * sizeof(float));
      FACEPIPE_CUDA_THROW(cudaMemsetAsync(out.get(), 0xFF, out.bytes(), stream.get()));
      const Status st = cuda::warp_batch_to_tensor_cuda(records_dev.as<cuda::WarpCrop>(), 5, f, out.as<float>(), stream.get());
      ASSERT_TRUE(st.is_ok()) << st.message();
      FACEPIPE_CUDA_THROW(cudaStreamSynchronize(stream.get()));
      const std::vector<float> got = download(out, 5 * per);
      for (int k = 0; k < 5; ++k) {
        std::vector<float> gold(per);
        ASSERT_TRUE(warp_to_tensor(crops[k].host->view(), crops[k].rect, f, gold.data()).is_ok());
        const Diff d = diff(got.data() + k * per, gold.data(), per);
        std::printf("[kernels-cuda] batch crop %d (image %c) %-7s %-9s max_abs=%.3g mismatches=%zu\n", k,
                    crops[k].host == &a ? 'a' : 'b', name(s), name(border), d.max_abs, d.mismatches);
        EXPECT_LE(d.max_abs, tolerance(s)) << "crop " << k;
      }
    }
  }
}

// ---- Letterbox (BlazeFace) ---------------------------------------------------------------------------

TEST(KernelsCudaWarp, LetterboxMatchesBlazeFacePreprocess) {
  FACEPIPE_REQUIRE_CUDA();
  facepipe::cuda::Stream stream;
  for (const ImageCase& ic : {ImageCase{641, 479, 4, 7, ChannelOrder::kBGR}, ImageCase{243, 641, 3, 0, ChannelOrder::kRGB},
                              ImageCase{3, 1, 3, 0, ChannelOrder::kRGB}}) {
    const HostImage img = random_image(ic.width, ic.height, ic.channels, ic.padding, ic.order, 31);
    DeviceImage dev(img);
    for (Sampling s : {Sampling::kOpenCv, Sampling::kPixelCentres}) {
      TensorFormat f = tensor_format_signed_range(128, 128, BorderMode::kZero);
      f.sampling = s;
      const size_t n = 128 * 128 * 3;
      // What BlazeFace::preprocess does on the CPU.
      const RotatedRect rect = letterbox_rect(img.width, img.height, 128, 128);
      std::vector<float> gold(n);
      ASSERT_TRUE(warp_to_tensor(img.view(), rect, f, gold.data()).is_ok());
      DeviceBuffer out(n * sizeof(float));
      RotatedRect region;
      ASSERT_TRUE(cuda::letterbox_to_tensor_cuda(dev.view, f, out.as<float>(), stream.get(), &region).is_ok());
      FACEPIPE_CUDA_THROW(cudaStreamSynchronize(stream.get()));
      const Diff d = diff(download(out, n).data(), gold.data(), n);
      std::printf("[kernels-cuda] letterbox %dx%d c%d %s -> 128x128 max_abs=%.3g mismatches=%zu\n", img.width, img.height,
                  img.channels, name(s), d.max_abs, d.mismatches);
      EXPECT_LE(d.max_abs, tolerance(s));
      EXPECT_EQ(region.cx, rect.cx);
      EXPECT_EQ(region.width, rect.width);
      EXPECT_EQ(region.height, rect.height);
    }
  }
}

// ---- Planar resize (RetinaFace) --------------------------------------------------------------------------

TEST(KernelsCudaResize, PlanarBilinearMatchesCpuGold) {
  FACEPIPE_REQUIRE_CUDA();
  facepipe::cuda::Stream stream;
  struct Case {
    ImageCase image;
    int width, height, content_width, content_height;
    ChannelOrder order;
  };
  const Case cases[] = {
      {{641, 479, 4, 7, ChannelOrder::kBGR}, 640, 640, 640, 478, ChannelOrder::kBGR},
      {{641, 479, 3, 0, ChannelOrder::kRGB}, 360, 640, 360, 269, ChannelOrder::kBGR},
      {{17, 13, 3, 5, ChannelOrder::kBGR}, 32, 24, 31, 23, ChannelOrder::kRGB},
      {{1, 1, 3, 0, ChannelOrder::kRGB}, 5, 4, 3, 2, ChannelOrder::kBGR},
      {{3, 5, 4, 3, ChannelOrder::kRGB}, 7, 9, 7, 9, ChannelOrder::kBGR},
      {{1920, 1080, 3, 0, ChannelOrder::kBGR}, 640, 640, 640, 360, ChannelOrder::kBGR},
  };
  uint32_t seed = 300;
  for (const Case& c : cases) {
    const HostImage img = random_image(c.image.width, c.image.height, c.image.channels, c.image.padding, c.image.order, seed++);
    DeviceImage dev(img);
    PlanarTensorFormat f;
    f.width = c.width;
    f.height = c.height;
    f.content_width = c.content_width;
    f.content_height = c.content_height;
    f.order = c.order;
    f.scale = {1.0f, 0.5f, 1.0f};  // RetinaFace uses 1; one plane scaled to check the per-plane path
    f.pad_value = 0.25f;
    const size_t n = 3 * static_cast<size_t>(c.width) * c.height;
    std::vector<float> gold(n);
    ASSERT_TRUE(resize_to_planar_tensor(img.view(), f, gold.data()).is_ok());
    DeviceBuffer out(n * sizeof(float));
    FACEPIPE_CUDA_THROW(cudaMemset(out.get(), 0xFF, out.bytes()));
    const Status st = cuda::resize_to_planar_tensor_cuda(dev.view, f, out.as<float>(), stream.get());
    ASSERT_TRUE(st.is_ok()) << st.message();
    FACEPIPE_CUDA_THROW(cudaStreamSynchronize(stream.get()));
    const Diff d = diff(download(out, n).data(), gold.data(), n);
    std::printf("[kernels-cuda] planar %4dx%-4d c%d %s -> %dx%d (content %dx%d) %s max_abs=%.3g\n", img.width, img.height,
                img.channels, name(img.order), c.width, c.height, c.content_width, c.content_height, name(c.order),
                d.max_abs);
    EXPECT_LE(d.max_abs, 1e-4);
  }
}

// ---- Throughput (informative, no assertion) --------------------------------------------------------------

TEST(KernelsCudaBench, LandmarkCropBandwidth) {
  FACEPIPE_REQUIRE_CUDA();
  facepipe::cuda::Stream stream;
  const HostImage img = random_image(1920, 1080, 3, 0, ChannelOrder::kBGR, 41);
  DeviceImage dev(img);
  TensorFormat f = tensor_format_unit_range(256, 256, BorderMode::kReplicate);
  f.sampling = Sampling::kOpenCv;
  constexpr int kMaxBatch = 8;
  std::vector<cuda::WarpCrop> records(kMaxBatch);
  for (int k = 0; k < kMaxBatch; ++k) {
    const RotatedRect rect{300.f + 150.f * k, 500.f, 400.f, 400.f, 0.2f * k};
    ASSERT_TRUE(cuda::make_warp_crop(dev.view, rect, f, records[static_cast<size_t>(k)]).is_ok());
  }
  DeviceBuffer records_dev(records.size() * sizeof(cuda::WarpCrop));
  FACEPIPE_CUDA_THROW(cudaMemcpy(records_dev.get(), records.data(), records_dev.bytes(), cudaMemcpyHostToDevice));
  DeviceBuffer out(kMaxBatch * 256 * 256 * 3 * sizeof(float));
  facepipe::cuda::Event start, stop;
  for (int batch : {1, kMaxBatch}) {
    for (Sampling s : {Sampling::kOpenCv, Sampling::kPixelCentres}) {
      f.sampling = s;
      constexpr int kIters = 200;
      for (int i = 0; i < 10; ++i)  // warm-up
        ASSERT_TRUE(cuda::warp_batch_to_tensor_cuda(records_dev.as<cuda::WarpCrop>(), batch, f, out.as<float>(), stream.get()).is_ok());
      FACEPIPE_CUDA_THROW(cudaEventRecord(start.get(), stream.get()));
      for (int i = 0; i < kIters; ++i)
        ASSERT_TRUE(cuda::warp_batch_to_tensor_cuda(records_dev.as<cuda::WarpCrop>(), batch, f, out.as<float>(), stream.get()).is_ok());
      FACEPIPE_CUDA_THROW(cudaEventRecord(stop.get(), stream.get()));
      FACEPIPE_CUDA_THROW(cudaEventSynchronize(stop.get()));
      float ms = 0;
      FACEPIPE_CUDA_THROW(cudaEventElapsedTime(&ms, start.get(), stop.get()));
      const double per_launch_us = 1000.0 * ms / kIters;
      // Bytes: the float output plus (about) one read of the source pixels it covers.
      const double bytes = batch * (256.0 * 256 * 3 * 4 + 256.0 * 256 * 3);
      std::printf("[kernels-cuda] bench warp 256x256 %-7s batch %d: %.2f us/launch, %.1f GB/s (%.0f bytes/launch)\n", name(s),
                  batch, per_launch_us, bytes / (per_launch_us * 1e3), bytes);
    }
  }
}

}  // namespace
}  // namespace facepipe::kernels
