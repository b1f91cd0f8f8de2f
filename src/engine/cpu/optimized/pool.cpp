// MaxPool2D / AvgPool2D (layout_ops.h): per output pixel the window is clipped to the image once,
// then reduced with channel vectors.
#include <algorithm>
#include <limits>

#include "engine/cpu/optimized/kernel_util.h"
#include "engine/cpu/optimized/layout_ops.h"
#include "engine/cpu/optimized/simd_avx2.h"
#include "engine/cpu/optimized/vec_math.h"
#include "engine/plan/shape_inference.h"

namespace facepipe::engine::cpu::opt {
namespace {

using I = Avx2;
using V = I::V;
constexpr int L = I::kLanes;

class Pool2DKernel final : public CpuKernel {
 public:
  Pool2DKernel(bool is_max, const TensorDesc& in, const TensorDesc& out, const PoolAttrs& attrs, const Padding& pad)
      : is_max_(is_max), attrs_(attrs), pad_(pad), in_(in.shape), out_(out.shape) {}

  Status run(std::span<const TensorView> inputs, std::span<const TensorView> outputs, void*,
             ThreadPool& pool) override {
    const float* x = inputs[0].as<const float>();
    float* y = outputs[0].as<float>();
    const int64_t rows = out_[0] * out_[1];
    const int64_t work = out_[2] * out_[3] * attrs_.filter_h * attrs_.filter_w;
    pool.parallel_for(rows, grain_for(double(work), 1e5), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) run_row(x, y, r);
    });
    return Status::ok();
  }

 private:
  void run_row(const float* x, float* y, int64_t row) const {
    const int64_t H = in_[1], W = in_[2], C = in_[3], OH = out_[1], OW = out_[2];
    const int64_t n = row / OH, oh = row - n * OH;
    const float* image = x + n * H * W * C;
    float* out = y + row * OW * C;
    const int64_t ih0 = oh * attrs_.stride_h - pad_.top;
    const int64_t kh0 = std::max<int64_t>(0, -ih0), kh1 = std::min<int64_t>(attrs_.filter_h, H - ih0);
    const V alpha = I::set1(attrs_.activation_alpha);
    const V lowest = I::set1(-std::numeric_limits<float>::infinity());
    for (int64_t ow = 0; ow < OW; ++ow) {
      const int64_t iw0 = ow * attrs_.stride_w - pad_.left;
      const int64_t kw0 = std::max<int64_t>(0, -iw0), kw1 = std::min<int64_t>(attrs_.filter_w, W - iw0);
      const int64_t count = std::max<int64_t>(0, kh1 - kh0) * std::max<int64_t>(0, kw1 - kw0);
      const V scale = I::set1(count > 0 ? 1.f / static_cast<float>(count) : 0.f);
      for (int64_t c = 0; c < C; c += L) {
        const int nl = static_cast<int>(std::min<int64_t>(L, C - c));
        V acc = is_max_ ? lowest : I::zero();
        for (int64_t kh = kh0; kh < kh1; ++kh) {
          const float* src = image + ((ih0 + kh) * W + iw0) * C + c;
          for (int64_t kw = kw0; kw < kw1; ++kw) {
            const V v = nl == L ? I::load(src + kw * C) : I::load_partial(src + kw * C, nl);
            acc = is_max_ ? I::max(acc, v) : I::add(acc, v);
          }
        }
        if (!is_max_) acc = I::mul(acc, scale);
        acc = activate<I>(acc, attrs_.activation, alpha);
        if (nl == L) {
          I::store(out + ow * C + c, acc);
        } else {
          I::store_partial(out + ow * C + c, acc, nl);
        }
      }
    }
  }

  bool is_max_;
  PoolAttrs attrs_;
  Padding pad_;
  Shape in_, out_;
};

}  // namespace

std::unique_ptr<CpuKernel> make_pool2d_kernel(const Op& op, std::span<const TensorView> inputs,
                                              std::span<const TensorDesc> outputs) {
  if ((op.type != OpType::kMaxPool2D && op.type != OpType::kAvgPool2D) || inputs.size() != 1 || outputs.size() != 1)
    return nullptr;
  const TensorDesc in = inputs[0].desc();
  const TensorDesc& out = outputs[0];
  if (!is_f32(in) || !is_f32(out) || in.shape.rank() != 4 || out.shape.rank() != 4) return nullptr;
  if (out.shape.num_elements() == 0 || out.shape[3] != in.shape[3]) return nullptr;
  const auto& attrs = op.as<PoolAttrs>();
  const Padding pad = resolve_padding(attrs.padding, in.shape[1], in.shape[2], attrs.filter_h, attrs.filter_w,
                                      attrs.stride_h, attrs.stride_w, 1, 1);
  return std::make_unique<Pool2DKernel>(op.type == OpType::kMaxPool2D, in, out, attrs, pad);
}

}  // namespace facepipe::engine::cpu::opt
