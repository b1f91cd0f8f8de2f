// The fused epilogue of Conv2D/DepthwiseConv2D/FullyConnected (applied in common.cuh's
// apply_epilogue), per output element of channel c at flat output index i:
//   v = act(acc + bias[c]); v = prelu(v, prelu1[c]); v += residual[i]; v = act2(v);
//   v = prelu(v, prelu2[c]).
// The vectors are f32 device memory whatever the storage type; absent ones are nullptr.
#pragma once

#include <cstdint>

#include "engine/cuda/cuda_kernel.h"
#include "engine/ir/op.h"

namespace facepipe::engine::cuda {

struct Epilogue {
  const float* bias = nullptr;
  Activation act = Activation::kNone;
  float alpha = 0.f;
  const float* prelu1 = nullptr;
  const void* residual = nullptr;  // storage type, same shape as the output
  Activation act2 = Activation::kNone;
  float alpha2 = 0.f;
  const float* prelu2 = nullptr;
};

// Fills `epi` from the op's bias (input 2) and the planner's fused inputs 3..5 (see KernelArgs),
// uploading f32 copies of the vectors into `memory`. Throws for layouts it cannot fuse.
void build_epilogue(const KernelArgs& args, int64_t channels, Activation act, float alpha, Epilogue& epi,
                    KernelMemory& memory);

}  // namespace facepipe::engine::cuda
