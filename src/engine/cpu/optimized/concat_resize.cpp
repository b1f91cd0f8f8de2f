// Concat and nearest Resize (layout_ops.h): pure data movement with tables computed at plan time.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "engine/cpu/optimized/kernel_util.h"
#include "engine/cpu/optimized/layout_ops.h"

namespace facepipe::engine::cpu::opt {
namespace {

constexpr int64_t kCopyGrainBytes = 64 * 1024;

// Output = [outer][sum of blocks]; input i contributes a contiguous block of block_bytes_[i] per
// outer index. Work items are (outer, input) pairs.
class ConcatKernel final : public CpuKernel {
 public:
  ConcatKernel(int64_t outer, std::vector<int64_t> block_bytes)
      : outer_(outer), block_bytes_(std::move(block_bytes)) {
    row_bytes_ = 0;
    offsets_.reserve(block_bytes_.size());
    for (int64_t b : block_bytes_) {
      offsets_.push_back(row_bytes_);
      row_bytes_ += b;
    }
  }

  Status run(std::span<const TensorView> inputs, std::span<const TensorView> outputs, void*,
             ThreadPool& pool) override {
    if (inputs.size() != block_bytes_.size()) return Status::error(StatusCode::kInvalidArgument, "concat: input count");
    auto* out = static_cast<std::byte*>(outputs[0].data);
    const int64_t n_in = static_cast<int64_t>(block_bytes_.size());
    const int64_t items = outer_ * n_in;
    const int64_t grain = std::max<int64_t>(1, kCopyGrainBytes / std::max<int64_t>(1, row_bytes_ / n_in));
    pool.parallel_for(items, grain, [&](int64_t b, int64_t e) {
      for (int64_t it = b; it < e; ++it) {
        const int64_t o = it / n_in, i = it - o * n_in;
        const int64_t bytes = block_bytes_[static_cast<size_t>(i)];
        if (bytes == 0) continue;
        std::memcpy(out + o * row_bytes_ + offsets_[static_cast<size_t>(i)],
                    static_cast<const std::byte*>(inputs[static_cast<size_t>(i)].data) + o * bytes,
                    static_cast<size_t>(bytes));
      }
    });
    return Status::ok();
  }

 private:
  int64_t outer_;
  std::vector<int64_t> block_bytes_, offsets_;
  int64_t row_bytes_ = 0;
};

class ResizeNearestKernel final : public CpuKernel {
 public:
  ResizeNearestKernel(const Shape& in, const Shape& out, std::vector<int32_t> src_h, std::vector<int32_t> src_w)
      : in_(in), out_(out), src_h_(std::move(src_h)), src_w_(std::move(src_w)) {}

  Status run(std::span<const TensorView> inputs, std::span<const TensorView> outputs, void*,
             ThreadPool& pool) override {
    const float* x = inputs[0].as<const float>();
    float* y = outputs[0].as<float>();
    const int64_t H = in_[1], W = in_[2], C = in_[3], OH = out_[1], OW = out_[2];
    const size_t pixel_bytes = static_cast<size_t>(C) * sizeof(float);
    const int64_t rows = out_[0] * OH;
    pool.parallel_for(rows, std::max<int64_t>(1, kCopyGrainBytes / std::max<int64_t>(1, OW * C * 4)),
                      [&](int64_t b, int64_t e) {
                        for (int64_t r = b; r < e; ++r) {
                          const int64_t n = r / OH, oh = r - n * OH;
                          float* dst = y + r * OW * C;
                          // Same source row as the previous output row (upsampling): copy that row.
                          if (r > b && oh > 0 && src_h_[static_cast<size_t>(oh)] == src_h_[static_cast<size_t>(oh - 1)]) {
                            std::memcpy(dst, dst - OW * C, static_cast<size_t>(OW) * pixel_bytes);
                            continue;
                          }
                          const float* src_row = x + (n * H + src_h_[static_cast<size_t>(oh)]) * W * C;
                          for (int64_t ow = 0; ow < OW; ++ow)
                            std::memcpy(dst + ow * C, src_row + int64_t{src_w_[static_cast<size_t>(ow)]} * C, pixel_bytes);
                        }
                      });
    return Status::ok();
  }

 private:
  Shape in_, out_;
  std::vector<int32_t> src_h_, src_w_;
};

// Source index of output coordinate `o` for one axis (ONNX Resize semantics, nearest mode).
int32_t nearest_source(int64_t o, int64_t in_size, int64_t out_size, double scale, const ResizeAttrs& a) {
  double x = 0;
  switch (a.coordinates) {
    case ResizeCoordinates::kAsymmetric: x = o / scale; break;
    case ResizeCoordinates::kHalfPixel: x = (o + 0.5) / scale - 0.5; break;
    case ResizeCoordinates::kPytorchHalfPixel: x = out_size > 1 ? (o + 0.5) / scale - 0.5 : 0.0; break;
    case ResizeCoordinates::kAlignCorners:
      x = out_size > 1 ? o * static_cast<double>(in_size - 1) / static_cast<double>(out_size - 1) : 0.0;
      break;
    case ResizeCoordinates::kTfHalfPixelForNearest: x = (o + 0.5) / scale; break;
  }
  double r = 0;
  switch (a.nearest_rounding) {
    case ResizeNearestRounding::kFloor: r = std::floor(x); break;
    case ResizeNearestRounding::kCeil: r = std::ceil(x); break;
    case ResizeNearestRounding::kRoundPreferFloor: r = (x - std::floor(x) == 0.5) ? std::floor(x) : std::round(x); break;
    case ResizeNearestRounding::kRoundPreferCeil: r = (x - std::floor(x) == 0.5) ? std::ceil(x) : std::round(x); break;
  }
  return static_cast<int32_t>(std::clamp<double>(r, 0, static_cast<double>(in_size - 1)));
}

}  // namespace

std::unique_ptr<CpuKernel> make_concat_kernel(const Op& op, std::span<const TensorView> inputs,
                                              std::span<const TensorDesc> outputs) {
  if (op.type != OpType::kConcat || inputs.empty() || outputs.size() != 1) return nullptr;
  const auto& attrs = op.as<ConcatAttrs>();
  if (attrs.activation != Activation::kNone) return nullptr;
  const Shape& out = outputs[0].shape;
  const int rank = out.rank();
  if (rank == 0 || !out.is_static()) return nullptr;
  const int axis = attrs.axis < 0 ? attrs.axis + rank : attrs.axis;
  if (axis < 0 || axis >= rank) return nullptr;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= out[d];
  for (int d = axis + 1; d < rank; ++d) inner *= out[d];
  const size_t elem = dtype_size(outputs[0].dtype);
  std::vector<int64_t> blocks;
  for (const TensorView& t : inputs) {
    if (t.dtype != outputs[0].dtype || t.shape.rank() != rank || !t.shape.is_static()) return nullptr;
    blocks.push_back(t.shape[axis] * inner * static_cast<int64_t>(elem));
  }
  return std::make_unique<ConcatKernel>(outer, std::move(blocks));
}

std::unique_ptr<CpuKernel> make_resize_nearest_kernel(const Op& op, std::span<const TensorView> inputs,
                                                      std::span<const TensorDesc> outputs) {
  if (op.type != OpType::kResize || inputs.empty() || outputs.size() != 1) return nullptr;
  const auto& attrs = op.as<ResizeAttrs>();
  if (attrs.mode != ResizeMode::kNearest) return nullptr;
  const TensorDesc in = inputs[0].desc();
  const TensorDesc& out = outputs[0];
  if (!is_f32(in) || !is_f32(out) || in.shape.rank() != 4 || out.shape.rank() != 4) return nullptr;
  if (in.shape[0] != out.shape[0] || in.shape[3] != out.shape[3] || out.shape.num_elements() == 0) return nullptr;
  // The scale relating the axes: the attribute when the op has no size input, else out / in.
  const bool has_size = inputs.size() > 1 && op.inputs.size() > 1 && op.inputs[1] >= 0;
  const double scale_h = has_size ? double(out.shape[1]) / double(in.shape[1]) : attrs.scale_h;
  const double scale_w = has_size ? double(out.shape[2]) / double(in.shape[2]) : attrs.scale_w;
  if (scale_h <= 0 || scale_w <= 0) return nullptr;
  std::vector<int32_t> src_h(static_cast<size_t>(out.shape[1])), src_w(static_cast<size_t>(out.shape[2]));
  for (int64_t o = 0; o < out.shape[1]; ++o)
    src_h[static_cast<size_t>(o)] = nearest_source(o, in.shape[1], out.shape[1], scale_h, attrs);
  for (int64_t o = 0; o < out.shape[2]; ++o)
    src_w[static_cast<size_t>(o)] = nearest_source(o, in.shape[2], out.shape[2], scale_w, attrs);
  return std::make_unique<ResizeNearestKernel>(in.shape, out.shape, std::move(src_h), std::move(src_w));
}

}  // namespace facepipe::engine::cpu::opt
