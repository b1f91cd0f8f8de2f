// Device helpers shared by the op kernels: f32/f16 storage access, the fused activations and the
// conv epilogue, launch geometry. Everything accumulates in f32 whatever the storage type.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <utility>

#include "common/status.h"
#include "engine/ir/op.h"
#include "engine/ir/tensor_view.h"
#include "engine/cuda/ops/epilogue.h"
#include "engine/cuda/ops/ops.h"

namespace facepipe::engine::cuda {

constexpr int kMaxRank = 8;

__device__ __forceinline__ float load_f32(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float load_f32(const __half* p, int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ void store_f32(float* p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void store_f32(__half* p, int64_t i, float v) { p[i] = __float2half_rn(v); }

__device__ __forceinline__ float activate(float v, Activation a, float alpha) {
  switch (a) {
    case Activation::kNone: return v;
    case Activation::kRelu: return v < 0.f ? 0.f : v;
    case Activation::kRelu6: return v < 0.f ? 0.f : (v > 6.f ? 6.f : v);
    case Activation::kReluN1To1: return v < -1.f ? -1.f : (v > 1.f ? 1.f : v);
    case Activation::kTanh: return tanhf(v);
    case Activation::kSigmoid: return 1.f / (1.f + expf(-v));
    case Activation::kLeakyRelu: return v < 0.f ? alpha * v : v;
  }
  return v;
}

template <typename T>
__device__ __forceinline__ float apply_epilogue(const Epilogue& e, float v, int c, int64_t i) {
  if (e.bias) v += e.bias[c];
  v = activate(v, e.act, e.alpha);
  if (e.prelu1 && v < 0.f) v *= e.prelu1[c];
  if (e.residual) {
    v += load_f32(static_cast<const T*>(e.residual), i);
    v = activate(v, e.act2, e.alpha2);
  }
  if (e.prelu2 && v < 0.f) v *= e.prelu2[c];
  return v;
}

// Programmatic dependent launch (sm_90+). Engine kernels are launched with `launch()`, which lets
// the next kernel of the stream (or of the captured graph) be scheduled while this one drains, so
// the per-kernel launch gap (2-3 us a node, most of a batch-1 network's time) overlaps the tail
// of the previous kernel. The price is that a kernel may start before its inputs exist:
// await_inputs() must be the first statement of every engine kernel, before any early return
// (a thread that exits without waiting would let the grid complete, and the kernel after it
// start, while the producer still runs). No-op on older GPUs and without the launch attribute.
// No explicit early trigger (griddepcontrol.launch_dependents): measured on the H200, letting the
// next kernel's blocks start spinning while this one still has work made batch-1 networks 15-30%
// slower; the implicit trigger at block exit only overlaps the launch with the last blocks.
__device__ __forceinline__ void await_inputs() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

// FACEPIPE_CUDA_PDL=0 turns programmatic launches off (for A/B timing); read once.
bool programmatic_launch_enabled();

// kernel<<<grid, block, 0, stream>>>(args...) with the programmatic-serialization attribute.
// Errors surface through cudaGetLastError() like a <<<>>> launch (see launch_status()).
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, cudaStream_t stream, Args&&... args) {
  cudaLaunchAttribute attribute[1];
  attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config = {};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = 0;
  config.stream = stream;
  config.attrs = attribute;
  config.numAttrs = programmatic_launch_enabled() ? 1 : 0;
  (void)cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

inline unsigned grid_for(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

inline Status launch_status() {
  return cudaGetLastError() == cudaSuccess ? Status::ok()
                                           : Status::error(StatusCode::kDeviceError, "CUDA kernel launch failed");
}

}  // namespace facepipe::engine::cuda
