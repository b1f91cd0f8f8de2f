// CUDA kernels of the engine. A kernel is built once at plan time for concrete shapes and device
// addresses (the plan's arena and uploaded constants never move), so enqueue() only launches: it
// allocates nothing and is what a CUDA graph captures.
//
// Layout (ggml's, see shared/STYLE.md): one small .cu file per op family under ops/, each with the
// __global__ kernels, a launcher taking an explicit stream, and an entry point (make_*_kernel) that
// checks dtypes and attributes and precomputes every index parameter with engine/plan/op_geometry.
#pragma once

#include <cuda_runtime.h>

#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "common/cuda/cuda_resources.h"
#include "common/status.h"
#include "engine/ir/op.h"
#include "engine/ir/tensor_view.h"

namespace facepipe::engine::cuda {

class CudaKernel {
 public:
  virtual ~CudaKernel() = default;
  // Launches the op's kernel(s) on `stream`. Returns kDeviceError when a launch fails.
  virtual Status enqueue(cudaStream_t stream) const = 0;
};

// What an entry point sees of one scheduled op.
//  * inputs/outputs: device memory in the plan's storage dtypes (f32 tensors are f16 with fp16
//    storage), parallel to op.inputs/op.outputs; absent optional inputs have data == nullptr.
//  * host_inputs: the same tensors in graph dtypes; plan-time values (weights, shape and size
//    inputs) have host data, run-time tensors data == nullptr.
//  * Conv2D/DepthwiseConv2D may carry a fused epilogue the CUDA planner added: op.inputs[3..5] =
//    per-channel PRelu alpha applied after the conv's activation, a residual tensor added next, and
//    a PRelu alpha applied last; `act2` is applied after the residual add.
struct KernelArgs {
  const Op& op;
  std::span<const TensorView> inputs;
  std::span<const TensorView> host_inputs;
  std::span<const TensorView> outputs;
  Activation act2 = Activation::kNone;
  float act2_alpha = 0.f;
};

// Plan-time device memory a kernel's parameters point to (f32 epilogue vectors, resize tables).
class KernelMemory {
 public:
  // Copies `bytes` of host data to a device buffer owned by this object (plan time only).
  const void* upload(const void* host, size_t bytes) {
    owned_.emplace_back(bytes);
    if (bytes) FACEPIPE_CUDA_THROW(cudaMemcpy(owned_.back().get(), host, bytes, cudaMemcpyHostToDevice));
    return owned_.back().get();
  }

 private:
  std::vector<facepipe::cuda::DeviceBuffer> owned_;
};

// A kernel that is a launcher function plus its parameters.
template <typename Params> class LaunchKernel final : public CudaKernel, public KernelMemory {
 public:
  using Launcher = Status (*)(const Params&, cudaStream_t);
  LaunchKernel(Params params, Launcher launcher) : params_(std::move(params)), launcher_(launcher) {}
  Status enqueue(cudaStream_t stream) const override { return launcher_(params_, stream); }
  Params& params() { return params_; }

 private:
  Params params_;
  Launcher launcher_;
};

// The entry point for op.type (throws facepipe::Error for an op or dtype the backend lacks).
std::unique_ptr<CudaKernel> make_cuda_kernel(const KernelArgs& args);
// True when make_cuda_kernel has an entry point for this op type (ggml's supports_op).
bool cuda_supports(OpType type);

// Converts n elements between f32 and f16 (the plan's f32 inputs/outputs with fp16 storage).
Status launch_convert(const void* src, DType src_type, void* dst, DType dst_type, int64_t n, cudaStream_t stream);

}  // namespace facepipe::engine::cuda
