
#include <array>
#include "kernels/image_to_tensor.h"

#include <algorithm>
#include <cmath>

#include "common/thread_pool.h"

namespace facepipe::kernels {

AffineTransform AffineTransform::inverse() const {
  const double det = m[0] * m[4] - m[1] * m[3];
  AffineTransform inv;
  if (det == 0.0) return inv;  // degenerate: identity rather than NaNs
  const double a = m[4] / det, b = -m[1] / det, d = -m[3] / det, e = m[0] / det;
  inv.m = {a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])};
  return inv;
}

AffineTransform rect_to_image_transform(const RotatedRect& rect, int out_width, int out_height) {
  // image = centre + R(rotation) * ((x/out_w - 0.5) * width, (y/out_h - 0.5) * height)
  const double c = std::cos(static_cast<double>(rect.rotation));
  const double s = std::sin(static_cast<double>(rect.rotation));
  const double w = rect.width, h = rect.height;
  AffineTransform t;
  t.m[0] = c * w / out_width;
  t.m[1] = -s * h / out_height;
  t.m[2] = rect.cx - 0.5 * c * w + 0.5 * s * h;
  t.m[3] = s * w / out_width;
  t.m[4] = c * h / out_height;
  t.m[5] = rect.cy - 0.5 * s * w - 0.5 * c * h;
  return t;
}

namespace {

struct WarpJob {
  const ImageView* image;
  const AffineTransform* transform;
  const TensorFormat* format;
  float* out;
  int src_offsets[3];  // byte offset of output channel k within a source pixel
  bool quantize = false;  // Sampling::kOpenCv
  // Sampling::kOpenCv: the output -> image map as cv::warpPerspective holds it (3x3, row-major).
  std::array<double, 9> projective{};
};

// OpenCV's INTER_LINEAR remap in fixed point, as MediaPipe's CPU ImageToTensor runs it: sample
// positions in 1/32 pixel (INTER_BITS = 5), bilinear weights as 15-bit integers that sum to exactly
// 1 << 15, the 8-bit result rounded; with a constant border every neighbour outside the image reads
// 0, with a replicated border it reads the nearest edge pixel.
struct OpenCvBilinearTable {
  std::array<std::array<int32_t, 4>, 32 * 32> weights{};
  OpenCvBilinearTable() {
    for (int fy = 0; fy < 32; ++fy) {
      for (int fx = 0; fx < 32; ++fx) {
        const float ax = static_cast<float>(fx) / 32.f, ay = static_cast<float>(fy) / 32.f;
        const float w[4] = {(1.f - ax) * (1.f - ay), ax * (1.f - ay), (1.f - ax) * ay, ax * ay};
        auto& iw = weights[static_cast<size_t>(fy * 32 + fx)];
        int sum = 0, largest = 0, smallest = 0;
        for (int k = 0; k < 4; ++k) {
          iw[static_cast<size_t>(k)] = static_cast<int32_t>(std::lrint(w[k] * 32768.f));
          sum += iw[static_cast<size_t>(k)];
          if (iw[static_cast<size_t>(k)] > iw[static_cast<size_t>(largest)]) largest = k;
          if (iw[static_cast<size_t>(k)] < iw[static_cast<size_t>(smallest)]) smallest = k;
        }
        // Rounding leaves the sum off by a unit or two: the largest weight absorbs a shortfall, the
        // smallest an excess.
        iw[static_cast<size_t>(sum < 32768 ? largest : smallest)] += 32768 - sum;
      }
    }
  }
};

void warp_rows_opencv(const WarpJob& job, int64_t row_begin, int64_t row_end) {
  static const OpenCvBilinearTable table;
  const ImageView& img = *job.image;
  const TensorFormat& fmt = *job.format;
  const auto& m = job.projective;
  const int W = img.width, H = img.height, C = img.channels;
  const float scale = fmt.scale, offset = fmt.offset;
  const bool zero_border = fmt.border == BorderMode::kZero;
  const int offsets[3] = {job.src_offsets[0], job.src_offsets[1], job.src_offsets[2]};
  for (int64_t oy = row_begin; oy < row_end; ++oy) {
    float* dst = job.out + oy * fmt.width * 3;
    for (int ox = 0; ox < fmt.width; ++ox, dst += 3) {
      // OpenCV coordinates (pixel centres at integers), in 1/32 pixel, evaluated as
      // cv::warpPerspective does: from the start of its 64-pixel block, then a perspective divide.
      // The order of these operations decides which way sample positions exactly halfway between
      // two 1/32 steps round.
      const int block_x = ox / 64 * 64, x1 = ox - block_x;
      const double bx = m[0] * block_x + m[1] * oy + m[2];
      const double by = m[3] * block_x + m[4] * oy + m[5];
      const double bw = m[6] * block_x + m[7] * oy + m[8];
      double scale_w = bw + m[6] * x1;
      scale_w = scale_w != 0 ? 32.0 / scale_w : 0.0;
      const double fx = (bx + m[0] * x1) * scale_w;
      const double fy = (by + m[3] * x1) * scale_w;
      if (!std::isfinite(fx) || !std::isfinite(fy)) {
        dst[0] = dst[1] = dst[2] = offset;
        continue;
      }
      const auto qx = static_cast<int64_t>(std::nearbyint(std::clamp(fx, -1e12, 1e12)));
      const auto qy = static_cast<int64_t>(std::nearbyint(std::clamp(fy, -1e12, 1e12)));
      const int64_t x0 = qx >> 5, y0 = qy >> 5;  // floor division
      const auto& w = table.weights[static_cast<size_t>((qy & 31) * 32 + (qx & 31))];
      const int64_t xs[2] = {x0, x0 + 1}, ys[2] = {y0, y0 + 1};
      int32_t acc[3] = {0, 0, 0};
      for (int k = 0; k < 4; ++k) {
        int64_t px = xs[k & 1], py = ys[k >> 1];
        if (px < 0 || px >= W || py < 0 || py >= H) {
          if (zero_border) continue;
          px = std::clamp<int64_t>(px, 0, W - 1);
          py = std::clamp<int64_t>(py, 0, H - 1);
        }
        const uint8_t* p = img.row(static_cast<int>(py)) + px * C;
        for (int c = 0; c < 3; ++c) acc[c] += w[static_cast<size_t>(k)] * p[offsets[c]];
      }
      for (int c = 0; c < 3; ++c) {
        const int v = std::clamp((acc[c] + (1 << 14)) >> 15, 0, 255);
        dst[c] = static_cast<float>(v) * scale + offset;
      }
    }
  }
}

void warp_rows(const WarpJob& job, int64_t row_begin, int64_t row_end) {
  const ImageView& img = *job.image;
  const TensorFormat& fmt = *job.format;
  const auto& m = job.transform->m;
  const int W = img.width, H = img.height, C = img.channels;
  const float scale = fmt.scale, offset = fmt.offset;
  const bool zero_border = fmt.border == BorderMode::kZero;
  const int o0 = job.src_offsets[0], o1 = job.src_offsets[1], o2 = job.src_offsets[2];

  if (job.quantize) {
    warp_rows_opencv(job, row_begin, row_end);
    return;
  }
  for (int64_t oy = row_begin; oy < row_end; ++oy) {
    float* dst = job.out + oy * fmt.width * 3;
    const double yc = static_cast<double>(oy) + 0.5;
    for (int ox = 0; ox < fmt.width; ++ox, dst += 3) {
      const double xc = static_cast<double>(ox) + 0.5;
      const double x = m[0] * xc + m[1] * yc + m[2];
      const double y = m[3] * xc + m[4] * yc + m[5];
      if (zero_border && (x < 0.0 || x >= W || y < 0.0 || y >= H || std::isnan(x) || std::isnan(y))) {
        dst[0] = dst[1] = dst[2] = offset;  // value 0, normalized
        continue;
      }
      const double sx = x - 0.5, sy = y - 0.5;
      const double fxi = std::floor(sx), fyi = std::floor(sy);
      const float fx = static_cast<float>(sx - fxi), fy = static_cast<float>(sy - fyi);
      // Clamp in double first: far-away points (replicate border) must not overflow int.
      const int xi = static_cast<int>(std::clamp(fxi, -1.0, static_cast<double>(W)));
      const int yi = static_cast<int>(std::clamp(fyi, -1.0, static_cast<double>(H)));
      const int xa = std::clamp(xi, 0, W - 1), xb = std::clamp(xi + 1, 0, W - 1);
      const int ya = std::clamp(yi, 0, H - 1), yb = std::clamp(yi + 1, 0, H - 1);
      const uint8_t* ra = img.row(ya);
      const uint8_t* rb = img.row(yb);
      const uint8_t* p00 = ra + xa * C;
      const uint8_t* p01 = ra + xb * C;
      const uint8_t* p10 = rb + xa * C;
      const uint8_t* p11 = rb + xb * C;
      const float w00 = (1.0f - fx) * (1.0f - fy), w01 = fx * (1.0f - fy);
      const float w10 = (1.0f - fx) * fy, w11 = fx * fy;
      const float v0 = w00 * p00[o0] + w01 * p01[o0] + w10 * p10[o0] + w11 * p11[o0];
      const float v1 = w00 * p00[o1] + w01 * p01[o1] + w10 * p10[o1] + w11 * p11[o1];
      const float v2 = w00 * p00[o2] + w01 * p01[o2] + w10 * p10[o2] + w11 * p11[o2];
      dst[0] = v0 * scale + offset;
      dst[1] = v1 * scale + offset;
      dst[2] = v2 * scale + offset;
    }
  }
}

}  // namespace

namespace {
Status run_warp(const ImageView& image, const AffineTransform& affine, const std::array<double, 9>& projective,
                const TensorFormat& format, float* out, ThreadPool* pool);
}  // namespace

Status warp_affine_to_tensor(const ImageView& image, const AffineTransform& output_to_image,
                             const TensorFormat& format, float* out, ThreadPool* pool) {
  FACEPIPE_RETURN_IF_ERROR(validate(image));
  if (out == nullptr) return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: null output");
  if (format.width <= 0 || format.height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: output size must be positive");
  for (double v : output_to_image.m)
    if (!std::isfinite(v)) return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: non-finite transform");

  const auto& a = output_to_image.m;
  return run_warp(image, output_to_image, {a[0], a[1], a[2], a[3], a[4], a[5], 0.0, 0.0, 1.0}, format, out, pool);
}

namespace {

Status run_warp(const ImageView& image, const AffineTransform& affine, const std::array<double, 9>& projective,
                const TensorFormat& format, float* out, ThreadPool* pool) {
  WarpJob job{&image, &affine, &format, out, {}, format.sampling == Sampling::kOpenCv, projective};
  const RgbOffsets src = rgb_offsets(image.order);
  const RgbOffsets dst = rgb_offsets(format.order);
  // dst.r is the output slot of red; store the source offset of red there (and so on).
  job.src_offsets[dst.r] = src.r;
  job.src_offsets[dst.g] = src.g;
  job.src_offsets[dst.b] = src.b;

  if (pool != nullptr && pool->num_threads() > 1) {
    pool->parallel_for(format.height, 8, [&](int64_t begin, int64_t end) { warp_rows(job, begin, end); });
  } else {
    warp_rows(job, 0, format.height);
  }
  return Status::ok();
}

}  // namespace

// The same steps in the same order as OpenCV give the same last bits, which decide how positions
// exactly halfway between two 1/32 steps round.
std::array<double, 9> opencv_sampling_matrix(const RotatedRect& rect, int out_width, int out_height) {
  const double angle = static_cast<float>(rect.rotation * 180.0 / M_PI) * M_PI / 180.0;
  const float b = static_cast<float>(std::cos(angle)) * 0.5f, a = static_cast<float>(std::sin(angle)) * 0.5f;
  const float cx = rect.cx, cy = rect.cy, w = rect.width, h = rect.height;
  std::array<float, 4> px{}, py{};
  px[0] = cx - a * h - b * w;
  py[0] = cy + b * h - a * w;
  px[1] = cx + a * h - b * w;
  py[1] = cy - b * h - a * w;
  px[2] = 2 * cx - px[0];
  py[2] = 2 * cy - py[0];
  px[3] = 2 * cx - px[1];
  py[3] = 2 * cy - py[1];
  const float ow = static_cast<float>(out_width), oh = static_cast<float>(out_height);
  const std::array<float, 4> qx{0, 0, ow, ow}, qy{oh, 0, 0, oh};  // bottom-left, top-left, top-right, bottom-right

  double A[8][8] = {}, B[8];
  for (int i = 0; i < 4; ++i) {
    A[i][0] = A[i + 4][3] = px[static_cast<size_t>(i)];
    A[i][1] = A[i + 4][4] = py[static_cast<size_t>(i)];
    A[i][2] = A[i + 4][5] = 1;
    A[i][6] = -static_cast<double>(px[static_cast<size_t>(i)]) * qx[static_cast<size_t>(i)];
    A[i][7] = -static_cast<double>(py[static_cast<size_t>(i)]) * qx[static_cast<size_t>(i)];
    A[i + 4][6] = -static_cast<double>(px[static_cast<size_t>(i)]) * qy[static_cast<size_t>(i)];
    A[i + 4][7] = -static_cast<double>(py[static_cast<size_t>(i)]) * qy[static_cast<size_t>(i)];
    B[i] = qx[static_cast<size_t>(i)];
    B[i + 4] = qy[static_cast<size_t>(i)];
  }
  for (int i = 0; i < 8; ++i) {
    int pivot = i;
    for (int j = i + 1; j < 8; ++j)
      if (std::fabs(A[j][i]) > std::fabs(A[pivot][i])) pivot = j;
    if (pivot != i) {
      for (int j = i; j < 8; ++j) std::swap(A[i][j], A[pivot][j]);
      std::swap(B[i], B[pivot]);
    }
    const double d = -1 / A[i][i];
    for (int j = i + 1; j < 8; ++j) {
      const double alpha = A[j][i] * d;
      for (int k = i + 1; k < 8; ++k) A[j][k] += alpha * A[i][k];
      B[j] += alpha * B[i];
    }
  }
  for (int i = 7; i >= 0; --i) {
    double sum = B[i];
    for (int k = i + 1; k < 8; ++k) sum -= A[i][k] * B[k];
    B[i] = sum / A[i][i];
  }
  const double M[9] = {B[0], B[1], B[2], B[3], B[4], B[5], B[6], B[7], 1.0};
  const double det = M[0] * (M[4] * M[8] - M[5] * M[7]) - M[1] * (M[3] * M[8] - M[5] * M[6]) +
                     M[2] * (M[3] * M[7] - M[4] * M[6]);
  const double inv = 1.0 / det;
  return {(M[4] * M[8] - M[5] * M[7]) * inv, (M[2] * M[7] - M[1] * M[8]) * inv, (M[1] * M[5] - M[2] * M[4]) * inv,
          (M[5] * M[6] - M[3] * M[8]) * inv, (M[0] * M[8] - M[2] * M[6]) * inv, (M[2] * M[3] - M[0] * M[5]) * inv,
          (M[3] * M[7] - M[4] * M[6]) * inv, (M[1] * M[6] - M[0] * M[7]) * inv, (M[0] * M[4] - M[1] * M[3]) * inv};
}

namespace {

Status warp_to_tensor_opencv(const ImageView& image, const RotatedRect& rect, const TensorFormat& format,
                             float* out, ThreadPool* pool) {
  FACEPIPE_RETURN_IF_ERROR(validate(image));
  if (out == nullptr) return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: null output");
  const std::array<double, 9> m = opencv_sampling_matrix(rect, format.width, format.height);
  for (double v : m)
    if (!std::isfinite(v)) return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: degenerate rectangle");
  const AffineTransform affine{{m[0], m[1], m[2], m[3], m[4], m[5]}};
  return run_warp(image, affine, m, format, out, pool);
}
}  // namespace

Status warp_to_tensor(const ImageView& image, const RotatedRect& rect, const TensorFormat& format,
                      float* out, ThreadPool* pool) {
  if (!(rect.width > 0) || !(rect.height > 0))
    return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: rectangle width and height must be > 0");
  if (format.width <= 0 || format.height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: output size must be positive");
  if (format.sampling == Sampling::kOpenCv) return warp_to_tensor_opencv(image, rect, format, out, pool);
  return warp_affine_to_tensor(image, rect_to_image_transform(rect, format.width, format.height), format, out, pool);
}

RotatedRect pad_rect_to_aspect(const RotatedRect& rect, int tensor_width, int tensor_height) {
  // MediaPipe PadRoi: grow the short side so that height/width equals the tensor's.
  RotatedRect r = rect;
  const float tensor_aspect = static_cast<float>(tensor_height) / static_cast<float>(tensor_width);
  const float roi_aspect = rect.height / rect.width;
  if (tensor_aspect > roi_aspect) {
    r.height = rect.width * tensor_aspect;
  } else {
    r.width = rect.height / tensor_aspect;
  }
  return r;
}

RotatedRect letterbox_rect(int image_width, int image_height, int tensor_width, int tensor_height) {
  const RotatedRect whole{0.5f * static_cast<float>(image_width), 0.5f * static_cast<float>(image_height),
                          static_cast<float>(image_width), static_cast<float>(image_height), 0.0f};
  return pad_rect_to_aspect(whole, tensor_width, tensor_height);
}

}  // namespace facepipe::kernels
