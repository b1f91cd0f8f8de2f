// Entry points of the op families (one .cu file each); make_cuda_kernel dispatches to them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/cuda/cuda_kernel.h"

namespace facepipe::engine::cuda {

std::unique_ptr<CudaKernel> make_conv_kernel(const KernelArgs& args);       // Conv2D, FullyConnected (conv.cu)
std::unique_ptr<CudaKernel> make_depthwise_kernel(const KernelArgs& args);  // DepthwiseConv2D (depthwise.cu)
std::unique_ptr<CudaKernel> make_pool_kernel(const KernelArgs& args);       // MaxPool2D, AvgPool2D (pool.cu)
std::unique_ptr<CudaKernel> make_binary_kernel(const KernelArgs& args);     // binary ops, PRelu (binary.cu)
std::unique_ptr<CudaKernel> make_unary_kernel(const KernelArgs& args);      // unary ops, Cast, Dequantize (unary.cu)
std::unique_ptr<CudaKernel> make_layout_kernel(const KernelArgs& args);     // Transpose, Slice, Pad, Gather,
                                                                            // Concat, Reshape copies (layout.cu)
std::unique_ptr<CudaKernel> make_resize_kernel(const KernelArgs& args);     // Resize (resize.cu)
std::unique_ptr<CudaKernel> make_reduce_kernel(const KernelArgs& args);     // Mean, Sum, Softmax, LayerNorm (reduce.cu)

// Helpers of the entry points (cuda_kernels.cpp).
// Kernels index with 32-bit integers: plan-time check that a tensor fits.
void require_int32_elements(const Op& op, int64_t n);
// Throws facepipe::Error "CUDA backend: op '<name>' (<type>): <what>".
[[noreturn]] void unsupported(const Op& op, const std::string& what);
bool is_float_storage(DType d);
// The current device's multiprocessor count (at least 1): what the launch-shape rules compare
// grid sizes with.
int multiprocessor_count();
// The prologue of the float ops' entry points: x, y (and w when given) share one float storage
// type and have at most 2^31 elements (kernels index with int); throws naming the op otherwise.
void require_float_tensors(const Op& op, const TensorView& x, const TensorView& y, const TensorView* w = nullptr);

}  // namespace facepipe::engine::cuda
