// Optimized elementwise kernels (NHWC-agnostic): binary ops with numpy broadcasting and fused
// activation, unary activations, PReLU.
#pragma once

#include <memory>
#include <span>

#include "engine/cpu/cpu_kernel.h"

namespace facepipe::engine::cpu::opt {

// Add, Sub, Mul, Div, Maximum, Minimum, SquaredDifference on f32 with BinaryAttrs' activation.
// Fast paths: same shape, either side a scalar, and (generally) any broadcast whose innermost
// output dimension is contiguous or broadcast in each input (per-channel vectors included).
std::unique_ptr<CpuKernel> make_binary_kernel(const Op& op, std::span<const TensorView> inputs,
                                              std::span<const TensorDesc> outputs);

// Relu, Relu6, LeakyRelu, Logistic, Tanh on f32.
std::unique_ptr<CpuKernel> make_unary_kernel(const Op& op, std::span<const TensorView> inputs,
                                             std::span<const TensorDesc> outputs);

// PRelu with alpha a scalar, a per-channel vector (last dimension), or x's full shape.
std::unique_ptr<CpuKernel> make_prelu_kernel(const Op& op, std::span<const TensorView> inputs,
                                             std::span<const TensorDesc> outputs);

}  // namespace facepipe::engine::cpu::opt
