// Conv2D as packed GEMM (conv_gemm.h): plan-time checks, weight packing, parallel tiling.
#include "engine/cpu/optimized/conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/aligned_buffer.h"
#include "engine/cpu/optimized/conv_gemm.h"
#include "engine/cpu/optimized/kernel_util.h"
#include "engine/plan/shape_inference.h"

namespace facepipe::engine::cpu::opt {
namespace {

class ConvGemmKernel final : public CpuKernel {
 public:
  ConvGemmKernel(const ConvGemmPlan& plan, ConvTileFn fn, AlignedBuffer packed, AlignedBuffer bias,
                 AlignedBuffer prelu, AlignedBuffer zeros, bool residual)
      : plan_(plan), fn_(fn), packed_(std::move(packed)), bias_(std::move(bias)), prelu_(std::move(prelu)),
        zeros_(std::move(zeros)), residual_(residual) {
    plan_.packed = packed_.as<float>();
    plan_.bias = bias_.as<float>();
    plan_.prelu = prelu_.size() ? prelu_.as<float>() : nullptr;
    plan_.zeros = zeros_.as<float>();
    grain_ = grain_for(2.0 * plan_.mr * plan_.k * plan_.out_c);
  }

  Status run(std::span<const TensorView> inputs, std::span<const TensorView> outputs, void*,
             ThreadPool& pool) override {
    const float* x = inputs[0].as<const float>();
    const float* residual = nullptr;
    FACEPIPE_RETURN_IF_ERROR(fused_residual_input(inputs, residual_, "conv: fused residual input missing", residual));
    float* y = outputs[0].as<float>();
    const ConvGemmPlan& p = plan_;
    const ConvTileFn fn = fn_;
    pool.parallel_for(p.tiles(), grain_, [&](int64_t begin, int64_t end) { fn(p, x, residual, y, begin, end); });
    return Status::ok();
  }

 private:
  ConvGemmPlan plan_;
  ConvTileFn fn_;
  AlignedBuffer packed_, bias_, prelu_, zeros_;
  bool residual_;
  int64_t grain_ = 1;
};

}  // namespace

// Defined in dwconv.cpp.
std::unique_ptr<CpuKernel> make_depthwise_from_grouped_conv(const ConvAttrs& attrs, const TensorView& weights,
                                                            const TensorView* bias, const TensorDesc& input,
                                                            const TensorDesc& output, const ConvEpilogue& epilogue);

std::unique_ptr<CpuKernel> make_conv2d_kernel(const ConvAttrs& attrs, const TensorView& weights,
                                              const TensorView* bias, const TensorDesc& input,
                                              const TensorDesc& output, const ConvEpilogue& epilogue, Isa isa) {
  if (!is_f32(input) || !is_f32(output) || !is_f32(weights) || !weights.present()) return nullptr;
  if (input.shape.rank() != 4 || output.shape.rank() != 4 || weights.shape.rank() != 4) return nullptr;
  const bool has_bias = bias && bias->present();
  if (has_bias && !is_f32(*bias)) return nullptr;
  const int64_t C = input.shape[3];
  const int64_t O = weights.shape[0];
  if (attrs.groups != 1) {
    if (attrs.groups == C && weights.shape[3] == 1 && O % C == 0)
      return make_depthwise_from_grouped_conv(attrs, weights, bias, input, output, epilogue);
    return nullptr;
  }
  if (weights.shape[3] != C || output.shape[3] != O || output.shape[0] != input.shape[0])
    throw Error("Conv2D: weights " + weights.shape.to_string() + " do not fit input " + input.shape.to_string() +
                " / output " + output.shape.to_string());
  if (has_bias && bias->num_elements() != O) throw Error("Conv2D: bias size does not match the output channels");
  if (!epilogue.prelu_alpha.empty() && static_cast<int64_t>(epilogue.prelu_alpha.size()) != O)
    throw Error("Conv2D: fused PReLU needs one slope per output channel");
  if (!isa_supported(isa)) isa = Isa::kAvx2;

  ConvGemmPlan p;
  p.batch = input.shape[0];
  p.in_h = input.shape[1];
  p.in_w = input.shape[2];
  p.in_c = C;
  p.out_h = output.shape[1];
  p.out_w = output.shape[2];
  p.out_c = O;
  p.kernel_h = static_cast<int>(weights.shape[1]);
  p.kernel_w = static_cast<int>(weights.shape[2]);
  p.stride_h = attrs.stride_h;
  p.stride_w = attrs.stride_w;
  p.dilation_h = attrs.dilation_h;
  p.dilation_w = attrs.dilation_w;
  const Padding pad = resolve_padding(attrs.padding, p.in_h, p.in_w, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w,
                                      p.dilation_h, p.dilation_w);
  p.pad_top = pad.top;
  p.pad_left = pad.left;
  p.k = p.kernel_h * p.kernel_w * C;
  p.activation = epilogue.activation;
  p.activation_alpha = epilogue.activation_alpha;
  if (p.pixels() == 0 || O == 0) return nullptr;

  // Layers with few output channels waste most of a 16-lane vector: keep them on AVX2.
  const ConvTileConfig cfg =
      (isa == Isa::kAvx512 && O > 8) ? conv_tile_config_avx512(O) : conv_tile_config_avx2(O);
  p.mr = cfg.mr;
  p.nv = cfg.nv;
  p.lanes = cfg.lanes;

  const bool pointwise = p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                         pad.top == 0 && pad.left == 0 && pad.bottom == 0 && pad.right == 0 &&
                         p.out_h == p.in_h && p.out_w == p.in_w;
  if (pointwise) {
    p.segments = ConvGemmPlan::Segments::kPointwise;
    p.seg_count = 1;
    p.seg_len = static_cast<int>(C);
  } else if (p.dilation_w == 1 && int64_t{p.mr} * p.kernel_h * p.kernel_w * C <= kConvRowScratchFloats &&
             p.kernel_h <= kConvMaxSegments) {
    p.segments = ConvGemmPlan::Segments::kRows;
    p.seg_count = p.kernel_h;
    p.seg_len = static_cast<int>(p.kernel_w * C);
  } else if (int64_t{p.kernel_h} * p.kernel_w <= kConvMaxSegments) {
    p.segments = ConvGemmPlan::Segments::kTaps;
    p.seg_count = p.kernel_h * p.kernel_w;
    p.seg_len = static_cast<int>(C);
  } else {
    return nullptr;
  }

  // Pack weights: column group g (width gw = min(nv*lanes, padded remaining)) as [k][gw].
  const int64_t L = p.lanes;
  const int64_t group_width = int64_t{p.nv} * L;
  const int64_t padded_o = round_up(O, L);
  AlignedBuffer packed(static_cast<size_t>(padded_o * p.k) * sizeof(float));
  const float* w = weights.as<const float>();
  float* dst = packed.as<float>();
  for (int64_t c0 = 0; c0 < O; c0 += group_width) {
    const int64_t width = std::min(group_width, padded_o - c0);
    float* group = dst + c0 * p.k;
    for (int64_t k = 0; k < p.k; ++k) {
      for (int64_t j = 0; j < width; ++j) {
        const int64_t o = c0 + j;
        group[k * width + j] = o < O ? w[o * p.k + k] : 0.f;
      }
    }
  }
  AlignedBuffer bias_buf = padded_copy(
      has_bias ? std::span<const float>(bias->as<const float>(), static_cast<size_t>(O)) : std::span<const float>(),
      padded_o);
  AlignedBuffer prelu_buf;
  if (!epilogue.prelu_alpha.empty()) prelu_buf = padded_copy(epilogue.prelu_alpha, padded_o);
  AlignedBuffer zeros(static_cast<size_t>(p.seg_len) * sizeof(float));
  return std::make_unique<ConvGemmKernel>(p, cfg.fn, std::move(packed), std::move(bias_buf), std::move(prelu_buf),
                                          std::move(zeros), epilogue.residual);
}

}  // namespace facepipe::engine::cpu::opt
