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
};

void warp_rows(const WarpJob& job, int64_t row_begin, int64_t row_end) {
  const ImageView& img = *job.image;
  const TensorFormat& fmt = *job.format;
  const auto& m = job.transform->m;
  const int W = img.width, H = img.height, C = img.channels;
  const float scale = fmt.scale, offset = fmt.offset;
  const bool zero_border = fmt.border == BorderMode::kZero;
  const int o0 = job.src_offsets[0], o1 = job.src_offsets[1], o2 = job.src_offsets[2];

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

Status warp_affine_to_tensor(const ImageView& image, const AffineTransform& output_to_image,
                             const TensorFormat& format, float* out, ThreadPool* pool) {
  FACEPIPE_RETURN_IF_ERROR(validate(image));
  if (out == nullptr) return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: null output");
  if (format.width <= 0 || format.height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: output size must be positive");
  for (double v : output_to_image.m)
    if (!std::isfinite(v)) return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: non-finite transform");

  WarpJob job{&image, &output_to_image, &format, out, {}};
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

Status warp_to_tensor(const ImageView& image, const RotatedRect& rect, const TensorFormat& format,
                      float* out, ThreadPool* pool) {
  if (!(rect.width > 0) || !(rect.height > 0))
    return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: rectangle width and height must be > 0");
  if (format.width <= 0 || format.height <= 0)
    return Status::error(StatusCode::kInvalidArgument, "warp_to_tensor: output size must be positive");
  return warp_affine_to_tensor(image, rect_to_image_transform(rect, format.width, format.height), format, out,
                               pool);
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
