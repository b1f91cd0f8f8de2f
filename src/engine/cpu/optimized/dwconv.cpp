// DepthwiseConv2D (and Conv2D with groups == in_channels) on NHWC, vectorized over channels.
//
// Fast path: multiplier 1, dilation 1, square kernel 3 or 5, any stride. Per output row the KH
// input rows are resolved once (rows above/below the image point at a zero row), so interior
// pixels run a branch-free KxK loop; only the few pixels whose window crosses the left/right
// border check columns. Everything else (other kernels, dilation, multiplier > 1) runs a generic
// loop that clips the window per pixel (vectorized over channels for multiplier 1).
// Depthwise is memory bound (9 FMAs per 4+4 bytes moved), so AVX2 is used on every CPU.
#include <algorithm>
#include <cstring>

#include "common/aligned_buffer.h"
#include "engine/cpu/optimized/conv.h"
#include "engine/cpu/optimized/kernel_util.h"
#include "engine/cpu/optimized/simd_avx2.h"
#include "engine/cpu/optimized/vec_math.h"
#include "engine/plan/shape_inference.h"

namespace facepipe::engine::cpu::opt {
namespace {

using I = Avx2;
using V = I::V;
constexpr int L = I::kLanes;

struct DwPlan {
  int64_t batch = 0, in_h = 0, in_w = 0, in_c = 0, multiplier = 1, out_h = 0, out_w = 0, out_c = 0;
  int kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0;
  const float* weights = nullptr;  // [KH*KW][out_c padded to L]
  int64_t wstride = 0;             // out_c padded
  const float* bias = nullptr;     // padded
  const float* prelu = nullptr;    // padded or null
  const float* zero_row = nullptr; // in_w * in_c (+ L) zeros
  Activation activation = Activation::kNone;
  float activation_alpha = 0.f;
};

// Bias + residual + activation + PReLU, then store `n` lanes (n == L: full vector).
inline void finish(const DwPlan& p, V acc, int64_t c, const float* res, float* out, int n, V alpha) {
  if (res) acc = I::add(acc, n == L ? I::load(res + c) : I::load_partial(res + c, n));
  acc = activate<I>(acc, p.activation, alpha);
  if (p.prelu) {
    const V s = I::load(p.prelu + c);
    acc = I::select_neg(acc, I::mul(acc, s), acc);
  }
  if (n == L) {
    I::store(out + c, acc);
  } else {
    I::store_partial(out + c, acc, n);
  }
}

// One output pixel with clipped window: taps [kh0, kh1) x [kw0, kw1) are inside the image.
inline void dw_pixel_clipped(const DwPlan& p, const float* image, int64_t ih0, int64_t iw0, const float* res,
                             float* out, V alpha) {
  const int64_t C = p.in_c;
  const int kh0 = static_cast<int>(std::max<int64_t>(0, (-ih0 + p.dilation_h - 1) / p.dilation_h));
  const int kh1 = static_cast<int>(std::min<int64_t>(p.kernel_h, (p.in_h - ih0 + p.dilation_h - 1) / p.dilation_h));
  const int kw0 = static_cast<int>(std::max<int64_t>(0, (-iw0 + p.dilation_w - 1) / p.dilation_w));
  const int kw1 = static_cast<int>(std::min<int64_t>(p.kernel_w, (p.in_w - iw0 + p.dilation_w - 1) / p.dilation_w));
  if (p.multiplier == 1) {
    for (int64_t c = 0; c < C; c += L) {
      const int n = static_cast<int>(std::min<int64_t>(L, C - c));
      V acc = I::load(p.bias + c);
      for (int kh = kh0; kh < kh1; ++kh) {
        const float* row = image + ((ih0 + int64_t{kh} * p.dilation_h) * p.in_w) * C;
        for (int kw = kw0; kw < kw1; ++kw) {
          const float* src = row + (iw0 + int64_t{kw} * p.dilation_w) * C + c;
          const V xv = n == L ? I::load(src) : I::load_partial(src, n);
          acc = I::fmadd(xv, I::load(p.weights + (kh * p.kernel_w + kw) * p.wstride + c), acc);
        }
      }
      finish(p, acc, c, res, out, n, alpha);
    }
    return;
  }
  // Multiplier > 1: output channel o reads input channel o / multiplier (scalar accumulation).
  alignas(32) float tmp[L];
  for (int64_t c = 0; c < p.out_c; c += L) {
    const int n = static_cast<int>(std::min<int64_t>(L, p.out_c - c));
    for (int j = 0; j < L; ++j) tmp[j] = 0.f;
    for (int kh = kh0; kh < kh1; ++kh) {
      const float* row = image + ((ih0 + int64_t{kh} * p.dilation_h) * p.in_w) * C;
      for (int kw = kw0; kw < kw1; ++kw) {
        const float* src = row + (iw0 + int64_t{kw} * p.dilation_w) * C;
        const float* wt = p.weights + (kh * p.kernel_w + kw) * p.wstride + c;
        for (int j = 0; j < n; ++j) tmp[j] += src[(c + j) / p.multiplier] * wt[j];
      }
    }
    finish(p, I::add(I::load(tmp), I::load(p.bias + c)), c, res, out, n, alpha);
  }
}

void dw_row_generic(const DwPlan& p, const float* x, const float* residual, float* y, int64_t row) {
  const int64_t n = row / p.out_h;
  const int64_t oh = row - n * p.out_h;
  const float* image = x + n * p.in_h * p.in_w * p.in_c;
  const int64_t out_off = (n * p.out_h + oh) * p.out_w * p.out_c;
  const V alpha = I::set1(p.activation_alpha);
  const int64_t ih0 = oh * p.stride_h - p.pad_top;
  for (int64_t ow = 0; ow < p.out_w; ++ow) {
    const int64_t o = out_off + ow * p.out_c;
    dw_pixel_clipped(p, image, ih0, ow * p.stride_w - p.pad_left, residual ? residual + o : nullptr, y + o, alpha);
  }
}

// KxK, multiplier 1, dilation 1, activation A. Plan fields are copied to locals first: the
// intrinsic stores may alias anything, so the compiler would otherwise reload them per vector.
template <int K, Activation A>
void dw_row_fast(const DwPlan& p, const float* x, const float* residual, float* y, int64_t row) {
  const int64_t out_h = p.out_h, out_w = p.out_w, in_h = p.in_h, in_w = p.in_w, C = p.in_c;
  const int64_t s = p.stride_w, pad_left = p.pad_left, wstride = p.wstride;
  const float* const weights = p.weights;
  const float* const bias = p.bias;
  const float* const prelu = p.prelu;
  const int64_t n = row / out_h;
  const int64_t oh = row - n * out_h;
  const float* image = x + n * in_h * in_w * C;
  const int64_t out_off = (n * out_h + oh) * out_w * C;
  float* const out_row = y + out_off;
  const float* const res_row = residual ? residual + out_off : nullptr;
  const V alpha = I::set1(p.activation_alpha);
  const int64_t ih0 = oh * p.stride_h - p.pad_top;
  const float* rows[K];
  for (int kh = 0; kh < K; ++kh) {
    const int64_t ih = ih0 + kh;
    rows[kh] = (ih >= 0 && ih < in_h) ? image + ih * in_w * C : p.zero_row;
  }
  // Bias + residual + activation + PReLU + store of n lanes.
  auto finish_vec = [&](V acc, int64_t pixel_off, int64_t c, int nl) {
    if (res_row) acc = I::add(acc, nl == L ? I::load(res_row + pixel_off + c) : I::load_partial(res_row + pixel_off + c, nl));
    acc = activate<I, A>(acc, alpha);
    if (prelu) acc = I::select_neg(acc, I::mul(acc, I::load(prelu + c)), acc);
    if (nl == L) {
      I::store(out_row + pixel_off + c, acc);
    } else {
      I::store_partial(out_row + pixel_off + c, acc, nl);
    }
  };
  // Interior columns: 0 <= ow*s - pad_left and ow*s - pad_left + K - 1 < in_w.
  int64_t lo = (pad_left + s - 1) / s;
  int64_t hi = in_w - K + pad_left >= 0 ? (in_w - K + pad_left) / s + 1 : 0;
  lo = std::min(lo, out_w);
  hi = std::clamp(hi, lo, out_w);
  // Border pixels: the zero rows make vertical clipping unnecessary, only columns are checked.
  auto border = [&](int64_t ow) {
    const int64_t iw0 = ow * s - pad_left;
    const int kw0 = static_cast<int>(std::max<int64_t>(0, -iw0));
    const int kw1 = static_cast<int>(std::min<int64_t>(K, in_w - iw0));
    for (int64_t c = 0; c < C; c += L) {
      const int nl = static_cast<int>(std::min<int64_t>(L, C - c));
      V acc = I::load(bias + c);
      for (int kh = 0; kh < K; ++kh) {
        for (int kw = kw0; kw < kw1; ++kw) {
          const float* src = rows[kh] + (iw0 + kw) * C + c;
          acc = I::fmadd(nl == L ? I::load(src) : I::load_partial(src, nl), I::load(weights + (kh * K + kw) * wstride + c),
                         acc);
        }
      }
      finish_vec(acc, ow * C, c, nl);
    }
  };
  for (int64_t ow = 0; ow < lo; ++ow) border(ow);
  // Interior: channel block outer (its K*K weights and bias stay in registers), pixels inner.
  const int64_t step = s * C;
  for (int64_t c = 0; c < C; c += L) {
    const int nl = static_cast<int>(std::min<int64_t>(L, C - c));
    V w[K * K];
#pragma GCC unroll 25
    for (int t = 0; t < K * K; ++t) w[t] = I::load(weights + t * wstride + c);
    const V b = I::load(bias + c);
    const float* src[K];
    for (int kh = 0; kh < K; ++kh) src[kh] = rows[kh] + (lo * s - pad_left) * C + c;
    float* out = out_row + lo * C + c;
    const float* res = res_row ? res_row + lo * C + c : nullptr;
    const V slope = prelu ? I::load(prelu + c) : I::zero();
    auto pixel = [&](auto load, auto store) {
      for (int64_t ow = lo; ow < hi; ++ow) {
        // One partial sum per kernel row: K short FMA chains instead of one long one.
        V part[K];
#pragma GCC unroll 5
        for (int kh = 0; kh < K; ++kh) {
          V acc = kh == 0 ? b : I::zero();
#pragma GCC unroll 5
          for (int kw = 0; kw < K; ++kw) acc = I::fmadd(load(src[kh] + kw * C), w[kh * K + kw], acc);
          part[kh] = acc;
          src[kh] += step;
        }
        V acc = part[0];
#pragma GCC unroll 5
        for (int kh = 1; kh < K; ++kh) acc = I::add(acc, part[kh]);
        if (res) {
          acc = I::add(acc, load(res));
          res += C;
        }
        acc = activate<I, A>(acc, alpha);
        if (prelu) acc = I::select_neg(acc, I::mul(acc, slope), acc);
        store(out, acc);
        out += C;
      }
    };
    if (nl == L) {
      pixel([](const float* q) { return I::load(q); }, [](float* q, V v) { I::store(q, v); });
    } else {
      pixel([nl](const float* q) { return I::load_partial(q, nl); }, [nl](float* q, V v) { I::store_partial(q, v, nl); });
    }
  }
  for (int64_t ow = hi; ow < out_w; ++ow) border(ow);
}

using DwRowFn = void (*)(const DwPlan&, const float*, const float*, float*, int64_t);

class DepthwiseKernel final : public CpuKernel {
 public:
  DepthwiseKernel(const DwPlan& plan, DwRowFn fn, AlignedBuffer weights, AlignedBuffer bias, AlignedBuffer prelu,
                  AlignedBuffer zero_row, bool residual)
      : plan_(plan), fn_(fn), weights_(std::move(weights)), bias_(std::move(bias)), prelu_(std::move(prelu)),
        zero_row_(std::move(zero_row)), residual_(residual) {
    plan_.weights = weights_.as<float>();
    plan_.bias = bias_.as<float>();
    plan_.prelu = prelu_.size() ? prelu_.as<float>() : nullptr;
    plan_.zero_row = zero_row_.as<float>();
    grain_ = grain_for(2.0 * plan_.out_w * plan_.out_c * plan_.kernel_h * plan_.kernel_w);
  }

  Status run(std::span<const TensorView> inputs, std::span<const TensorView> outputs, void*,
             ThreadPool& pool) override {
    const float* x = inputs[0].as<const float>();
    const float* residual = nullptr;
    FACEPIPE_RETURN_IF_ERROR(fused_residual_input(inputs, residual_, "depthwise conv: fused residual input missing", residual));
    float* y = outputs[0].as<float>();
    const DwPlan& p = plan_;
    const DwRowFn fn = fn_;
    pool.parallel_for(p.batch * p.out_h, grain_, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) fn(p, x, residual, y, r);
    });
    return Status::ok();
  }

 private:
  DwPlan plan_;
  DwRowFn fn_;
  AlignedBuffer weights_, bias_, prelu_, zero_row_;
  bool residual_;
  int64_t grain_ = 1;
};

// `weight_at(tap, o)` gives the weight of tap (kh*KW+kw) for output channel o.
template <typename WeightAt>
std::unique_ptr<CpuKernel> build_depthwise(const ConvAttrs& attrs, int kernel_h, int kernel_w, int64_t multiplier,
                                           WeightAt weight_at, const TensorView* bias, const TensorDesc& input,
                                           const TensorDesc& output, const ConvEpilogue& epilogue) {
  DwPlan p;
  p.batch = input.shape[0];
  p.in_h = input.shape[1];
  p.in_w = input.shape[2];
  p.in_c = input.shape[3];
  p.multiplier = multiplier;
  p.out_h = output.shape[1];
  p.out_w = output.shape[2];
  p.out_c = output.shape[3];
  if (p.out_c != p.in_c * multiplier || output.shape[0] != p.batch)
    throw Error("DepthwiseConv2D: output " + output.shape.to_string() + " does not fit input " +
                input.shape.to_string());
  if (bias && bias->present() && (!is_f32(*bias) || bias->num_elements() != p.out_c))
    throw Error("DepthwiseConv2D: bias size does not match the output channels");
  if (!epilogue.prelu_alpha.empty() && static_cast<int64_t>(epilogue.prelu_alpha.size()) != p.out_c)
    throw Error("DepthwiseConv2D: fused PReLU needs one slope per output channel");
  p.kernel_h = kernel_h;
  p.kernel_w = kernel_w;
  p.stride_h = attrs.stride_h;
  p.stride_w = attrs.stride_w;
  p.dilation_h = attrs.dilation_h;
  p.dilation_w = attrs.dilation_w;
  const Padding pad = resolve_padding(attrs.padding, p.in_h, p.in_w, kernel_h, kernel_w, p.stride_h, p.stride_w,
                                      p.dilation_h, p.dilation_w);
  p.pad_top = pad.top;
  p.pad_left = pad.left;
  p.activation = epilogue.activation;
  p.activation_alpha = epilogue.activation_alpha;
  if (p.batch * p.out_h * p.out_w * p.out_c == 0) return nullptr;

  p.wstride = round_up(p.out_c, L);
  const int taps = kernel_h * kernel_w;
  AlignedBuffer weights(static_cast<size_t>(taps * p.wstride) * sizeof(float));
  for (int t = 0; t < taps; ++t)
    for (int64_t o = 0; o < p.out_c; ++o) weights.as<float>()[t * p.wstride + o] = weight_at(t, o);
  const bool has_bias = bias && bias->present();
  AlignedBuffer bias_buf = padded_copy(has_bias ? std::span<const float>(bias->as<const float>(), static_cast<size_t>(p.out_c))
                                                : std::span<const float>(),
                                       p.wstride);
  AlignedBuffer prelu_buf;
  if (!epilogue.prelu_alpha.empty()) prelu_buf = padded_copy(epilogue.prelu_alpha, p.wstride);
  AlignedBuffer zero_row(static_cast<size_t>(p.in_w * p.in_c + L) * sizeof(float));

  DwRowFn fn = &dw_row_generic;
  if (multiplier == 1 && p.dilation_h == 1 && p.dilation_w == 1 && kernel_h == kernel_w) {
    fn = dispatch_activation(p.activation, [&](auto a) -> DwRowFn {
      constexpr Activation kAct = decltype(a)::value;
      if (kernel_h == 3) return &dw_row_fast<3, kAct>;
      if (kernel_h == 5) return &dw_row_fast<5, kAct>;
      return &dw_row_generic;
    });
  }
  return std::make_unique<DepthwiseKernel>(p, fn, std::move(weights), std::move(bias_buf), std::move(prelu_buf),
                                           std::move(zero_row), epilogue.residual);
}

bool depthwise_shapes_ok(const TensorDesc& input, const TensorDesc& output) {
  return is_f32(input) && is_f32(output) && input.shape.rank() == 4 && output.shape.rank() == 4;
}

}  // namespace

std::unique_ptr<CpuKernel> make_depthwise_conv2d_kernel(const ConvAttrs& attrs, const TensorView& weights,
                                                        const TensorView* bias, const TensorDesc& input,
                                                        const TensorDesc& output, const ConvEpilogue& epilogue, Isa) {
  if (!depthwise_shapes_ok(input, output) || !weights.present() || !is_f32(weights) || weights.shape.rank() != 4)
    return nullptr;
  const int64_t C = input.shape[3];
  const int64_t OC = weights.shape[3];
  if (C == 0 || OC % C != 0) throw Error("DepthwiseConv2D: weight channels are not a multiple of input channels");
  const float* w = weights.as<const float>();
  return build_depthwise(
      attrs, static_cast<int>(weights.shape[1]), static_cast<int>(weights.shape[2]), OC / C,
      [&](int t, int64_t o) { return w[t * OC + o]; }, bias, input, output, epilogue);
}

// Conv2D with groups == in_channels and weights [O, KH, KW, 1]: output channel o reads input
// channel o / (O / C), exactly the depthwise multiplier order.
std::unique_ptr<CpuKernel> make_depthwise_from_grouped_conv(const ConvAttrs& attrs, const TensorView& weights,
                                                            const TensorView* bias, const TensorDesc& input,
                                                            const TensorDesc& output, const ConvEpilogue& epilogue) {
  if (!depthwise_shapes_ok(input, output)) return nullptr;
  const int64_t O = weights.shape[0];
  const int taps = static_cast<int>(weights.shape[1] * weights.shape[2]);
  const float* w = weights.as<const float>();
  return build_depthwise(
      attrs, static_cast<int>(weights.shape[1]), static_cast<int>(weights.shape[2]), O / input.shape[3],
      [&](int t, int64_t o) { return w[o * taps + t]; }, bias, input, output, epilogue);
}

}  // namespace facepipe::engine::cpu::opt
