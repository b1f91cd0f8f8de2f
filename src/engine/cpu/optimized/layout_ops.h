// Optimized pooling and data-movement kernels on NHWC f32 tensors.
#pragma once

#include <memory>
#include <span>

#include "engine/cpu/cpu_kernel.h"

namespace facepipe::engine::cpu::opt {

// MaxPool2D / AvgPool2D, any window, stride and padding (padding never counts: max ignores it,
// the average divides by the number of in-image taps), fused activation.
std::unique_ptr<CpuKernel> make_pool2d_kernel(const Op& op, std::span<const TensorView> inputs,
                                              std::span<const TensorDesc> outputs);

// Concat along any axis (contiguous block copies); any dtype. nullptr when a fused activation is set.
std::unique_ptr<CpuKernel> make_concat_kernel(const Op& op, std::span<const TensorView> inputs,
                                              std::span<const TensorDesc> outputs);

// Resize (nearest only) with every coordinate mode and rounding of ResizeAttrs, via source-index
// tables built at plan time; rows that repeat the previous source row are copied whole.
std::unique_ptr<CpuKernel> make_resize_nearest_kernel(const Op& op, std::span<const TensorView> inputs,
                                                      std::span<const TensorDesc> outputs);

// Transpose of any permutation, 4- or 8-byte elements (blocks over the output's last two dims).
std::unique_ptr<CpuKernel> make_transpose_kernel(const Op& op, std::span<const TensorView> inputs,
                                                 std::span<const TensorDesc> outputs);

}  // namespace facepipe::engine::cpu::opt
