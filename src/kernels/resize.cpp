#include "kernels/resize.h"

#include <algorithm>
#include <cmath>

#include "common/thread_pool.h"

namespace facepipe::kernels {
namespace {

constexpr int kMaxTaps = 64;

// Filter taps of one output coordinate: source indices [first, first + count) with weights.
struct Taps {
  int first = 0;
  int count = 0;
  float weight[kMaxTaps];
};

// Bilinear: the two nearest source centres, clamped (OpenCV INTER_LINEAR).
void bilinear_taps(int out_index, double in_per_out, int in_size, Taps& taps) {
  const double s = (out_index + 0.5) * in_per_out - 0.5;
  const double fi = std::floor(s);
  const float f = static_cast<float>(s - fi);
  const int i = static_cast<int>(fi);
  const int a = std::clamp(i, 0, in_size - 1), b = std::clamp(i + 1, 0, in_size - 1);
  taps.first = a;
  if (a == b) {
    taps.count = 1;
    taps.weight[0] = 1.0f;
  } else {
    taps.count = 2;
    taps.weight[0] = 1.0f - f;
    taps.weight[1] = f;
  }
}

// Triangle filter with support max(1, in_per_out), weights normalized (PIL's resampling).
void antialias_taps(int out_index, double in_per_out, int in_size, Taps& taps) {
  const double filter_scale = std::max(1.0, in_per_out);
  const double support = filter_scale;  // triangle has radius 1
  const double centre = (out_index + 0.5) * in_per_out;
  int lo = static_cast<int>(std::floor(centre - support + 0.5));
  int hi = static_cast<int>(std::floor(centre + support + 0.5));
  lo = std::max(lo, 0);
  hi = std::min(hi, in_size);
  if (hi - lo > kMaxTaps) hi = lo + kMaxTaps;  // guarded by the caller's factor check
  double total = 0;
  double w[kMaxTaps];
  for (int i = lo; i < hi; ++i) {
    const double t = std::fabs((i + 0.5 - centre) / filter_scale);
    w[i - lo] = t < 1.0 ? 1.0 - t : 0.0;
    total += w[i - lo];
  }
  taps.first = lo;
  taps.count = hi - lo;
  if (total <= 0) {  // cannot happen for a valid geometry; fall back to nearest
    taps.first = std::clamp(static_cast<int>(centre), 0, in_size - 1);
    taps.count = 1;
    taps.weight[0] = 1.0f;
    return;
  }
  for (int k = 0; k < taps.count; ++k) taps.weight[k] = static_cast<float>(w[k] / total);
}

struct ResizeJob {
  const ImageView* image;
  const PlanarTensorFormat* format;
  float* out;
  int src_offsets[3];  // byte offset of plane k's colour within a source pixel
};

void resize_rows(const ResizeJob& job, int64_t row_begin, int64_t row_end) {
  const ImageView& img = *job.image;
  const PlanarTensorFormat& fmt = *job.format;
  const int C = img.channels;
  const int64_t plane = static_cast<int64_t>(fmt.width) * fmt.height;
  const double x_ratio = static_cast<double>(img.width) / fmt.content_width;
  const double y_ratio = static_cast<double>(img.height) / fmt.content_height;
  const bool antialias = fmt.filter == ResizeFilter::kAntialiasBilinear;
  const int o0 = job.src_offsets[0], o1 = job.src_offsets[1], o2 = job.src_offsets[2];
  const float m0 = fmt.mean[0], m1 = fmt.mean[1], m2 = fmt.mean[2];
  const float s0 = fmt.scale[0], s1 = fmt.scale[1], s2 = fmt.scale[2];

  Taps ytaps, xtaps;
  for (int64_t oy = row_begin; oy < row_end; ++oy) {
    float* d0 = job.out + oy * fmt.width;
    float* d1 = d0 + plane;
    float* d2 = d1 + plane;
    if (oy >= fmt.content_height) {
      std::fill(d0, d0 + fmt.width, fmt.pad_value);
      std::fill(d1, d1 + fmt.width, fmt.pad_value);
      std::fill(d2, d2 + fmt.width, fmt.pad_value);
      continue;
    }
    if (antialias) {
      antialias_taps(static_cast<int>(oy), y_ratio, img.height, ytaps);
    } else {
      bilinear_taps(static_cast<int>(oy), y_ratio, img.height, ytaps);
    }
    if (!antialias) {
      // Two taps per axis: the common, fast case.
      const uint8_t* ra = img.row(ytaps.first);
      const uint8_t* rb = img.row(ytaps.count == 2 ? ytaps.first + 1 : ytaps.first);
      const float wy1 = ytaps.count == 2 ? ytaps.weight[1] : 0.0f, wy0 = 1.0f - wy1;
      const int last = img.width - 1;
      for (int ox = 0; ox < fmt.content_width; ++ox) {
        const double sx = (ox + 0.5) * x_ratio - 0.5;
        const double fxi = std::floor(sx);
        const float fx = static_cast<float>(sx - fxi);
        const int xi = static_cast<int>(fxi);
        const int xa = std::clamp(xi, 0, last) * C, xb = std::clamp(xi + 1, 0, last) * C;
        const float w00 = (1.0f - fx) * wy0, w01 = fx * wy0, w10 = (1.0f - fx) * wy1, w11 = fx * wy1;
        const float a0 = w00 * ra[xa + o0] + w01 * ra[xb + o0] + w10 * rb[xa + o0] + w11 * rb[xb + o0];
        const float a1 = w00 * ra[xa + o1] + w01 * ra[xb + o1] + w10 * rb[xa + o1] + w11 * rb[xb + o1];
        const float a2 = w00 * ra[xa + o2] + w01 * ra[xb + o2] + w10 * rb[xa + o2] + w11 * rb[xb + o2];
        d0[ox] = (a0 - m0) * s0;
        d1[ox] = (a1 - m1) * s1;
        d2[ox] = (a2 - m2) * s2;
      }
      for (int ox = fmt.content_width; ox < fmt.width; ++ox) d0[ox] = d1[ox] = d2[ox] = fmt.pad_value;
      continue;
    }
    for (int ox = 0; ox < fmt.content_width; ++ox) {
      if (antialias) {
        antialias_taps(ox, x_ratio, img.width, xtaps);
      } else {
        bilinear_taps(ox, x_ratio, img.width, xtaps);
      }
      float a0 = 0, a1 = 0, a2 = 0;
      for (int ky = 0; ky < ytaps.count; ++ky) {
        const uint8_t* p = img.row(ytaps.first + ky) + static_cast<int64_t>(xtaps.first) * C;
        float r0 = 0, r1 = 0, r2 = 0;
        for (int kx = 0; kx < xtaps.count; ++kx, p += C) {
          const float w = xtaps.weight[kx];
          r0 += w * p[o0];
          r1 += w * p[o1];
          r2 += w * p[o2];
        }
        const float wy = ytaps.weight[ky];
        a0 += wy * r0;
        a1 += wy * r1;
        a2 += wy * r2;
      }
      d0[ox] = (a0 - m0) * s0;
      d1[ox] = (a1 - m1) * s1;
      d2[ox] = (a2 - m2) * s2;
    }
    for (int ox = fmt.content_width; ox < fmt.width; ++ox) d0[ox] = d1[ox] = d2[ox] = fmt.pad_value;
  }
}

}  // namespace

Status resize_to_planar_tensor(const ImageView& image, const PlanarTensorFormat& format, float* out,
                               ThreadPool* pool) {
  FACEPIPE_RETURN_IF_ERROR(validate(image));
  if (out == nullptr) return Status::error(StatusCode::kInvalidArgument, "resize: null output");
  if (format.width <= 0 || format.height <= 0 || format.content_width <= 0 || format.content_height <= 0 ||
      format.content_width > format.width || format.content_height > format.height)
    return Status::error(StatusCode::kInvalidArgument, "resize: content size must be positive and fit the tensor");
  if (format.filter == ResizeFilter::kAntialiasBilinear) {
    // Support radius = shrink factor; the taps span at most 2 * factor + 2 pixels.
    const double fx = static_cast<double>(image.width) / format.content_width;
    const double fy = static_cast<double>(image.height) / format.content_height;
    if (2.0 * std::max(fx, fy) + 2.0 > kMaxTaps)
      return Status::error(StatusCode::kUnsupported, "resize: antialias shrink factor above 30");
  }

  ResizeJob job{&image, &format, out, {}};
  const RgbOffsets src = rgb_offsets(image.order);
  const RgbOffsets dst = rgb_offsets(format.order);
  job.src_offsets[dst.r] = src.r;
  job.src_offsets[dst.g] = src.g;
  job.src_offsets[dst.b] = src.b;

  if (pool != nullptr && pool->num_threads() > 1) {
    pool->parallel_for(format.height, 8, [&](int64_t begin, int64_t end) { resize_rows(job, begin, end); });
  } else {
    resize_rows(job, 0, format.height);
  }
  return Status::ok();
}

}  // namespace facepipe::kernels
