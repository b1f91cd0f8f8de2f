// Optimized Conv2D and DepthwiseConv2D kernels, including the fused-epilogue interface for the
// graph optimizer.
//
// Fused epilogue
// --------------
// Every convolution kernel computes, per output element,
//
//     y = prelu( act( conv(x, w) + bias + residual ) )
//
// where
//   * bias      is the op's optional bias input (absent: 0);
//   * residual  is an optional extra run-time input shaped exactly like the output (a Conv -> Add
//               pair where the other Add operand is computed elsewhere, e.g. a ResNet/MobileNetV2
//               skip connection), enabled by ConvEpilogue::residual;
//   * act       is ConvEpilogue::activation (with activation_alpha for kLeakyRelu);
//   * prelu     is an optional per-output-channel PReLU (Conv -> PRelu with a [C], [1,C], [1,1,C]
//               or [1,1,1,C] slope tensor), given as ConvEpilogue::prelu_alpha (copied at plan
//               time). PReLU and a non-kNone activation may both be set; they apply in that order.
// So a graph optimizer can fuse, in order, Conv -> Add(residual) -> {Relu | Relu6 | PRelu | ...}.
//
// Run-time inputs of a kernel made here: inputs[0] = x, inputs[1] = weights, inputs[2] = bias (may
// be absent); when the epilogue has a residual, inputs[3] = residual. Weights and bias are read at
// plan time only (they are packed), so inputs[1..2] may be anything at run time.
//
// make_optimized_kernel (cpu_kernel.h) calls these with the op's own attributes and an epilogue
// holding only the op's fused activation; the graph optimizer may call them directly.
#pragma once

#include <memory>
#include <span>

#include "engine/cpu/cpu_kernel.h"
#include "engine/cpu/optimized/isa.h"

namespace facepipe::engine::cpu::opt {

struct ConvEpilogue {
  Activation activation = Activation::kNone;
  float activation_alpha = 0.f;
  std::span<const float> prelu_alpha;  // empty: no PReLU; else one slope per output channel
  bool residual = false;               // inputs[3] is added before the activation
};

// The index of the residual input in run()'s inputs.
inline constexpr size_t kConvResidualInput = 3;

// The residual operand of a convolution kernel built with ConvEpilogue::residual (nullptr when none
// is fused), or kInvalidArgument with `missing` when the op was not given one.
inline Status fused_residual_input(std::span<const TensorView> inputs, bool fused, const char* missing,
                                   const float*& residual) {
  residual = nullptr;
  if (!fused) return Status::ok();
  if (inputs.size() <= kConvResidualInput || !inputs[kConvResidualInput].present())
    return Status::error(StatusCode::kInvalidArgument, missing);
  residual = inputs[kConvResidualInput].as<const float>();
  return Status::ok();
}

// Conv2D (groups == 1, or groups == in_channels which is run as a depthwise convolution).
// `weights` must have data (a plan-time constant); `bias` may be null or absent. Returns nullptr
// for configurations without an optimized kernel; throws facepipe::Error for invalid ones.
std::unique_ptr<CpuKernel> make_conv2d_kernel(const ConvAttrs& attrs, const TensorView& weights,
                                              const TensorView* bias, const TensorDesc& input,
                                              const TensorDesc& output, const ConvEpilogue& epilogue,
                                              Isa isa = best_isa());

// DepthwiseConv2D with weights [1, KH, KW, C * depth_multiplier].
std::unique_ptr<CpuKernel> make_depthwise_conv2d_kernel(const ConvAttrs& attrs, const TensorView& weights,
                                                        const TensorView* bias, const TensorDesc& input,
                                                        const TensorDesc& output, const ConvEpilogue& epilogue,
                                                        Isa isa = best_isa());

// Epilogue for an op's own attributes (activation only).
inline ConvEpilogue epilogue_of(const ConvAttrs& attrs) {
  ConvEpilogue e;
  e.activation = attrs.activation;
  e.activation_alpha = attrs.activation_alpha;
  return e;
}

}  // namespace facepipe::engine::cpu::opt
