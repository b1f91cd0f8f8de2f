// Parameters of DepthwiseConv2D (depthwise.cu: entry point and the general kernel), shared with the
// 16-byte vector kernel (depthwise_vec.cu).
#pragma once

#include <cuda_runtime.h>

#include "engine/cuda/ops/epilogue.h"
#include "engine/ir/dtype.h"

namespace facepipe::engine::cuda {

struct DwParams {
  const void* x = nullptr;
  const void* w = nullptr;
  void* y = nullptr;
  int H = 0, W = 0, C = 0;
  int OH = 0, OW = 0, OC = 0;
  int KH = 0, KW = 0, SH = 1, SW = 1, DH = 1, DW = 1, PT = 0, PL = 0;
  int multiplier = 1;
  int total = 0;
  int rows = 0;  // N * OH
  bool vec = false;     // depthwise_vec.cu (plan_depthwise_vec decides)
  DType storage = DType::kF32;
  Epilogue epi;
};

// Output columns per thread, both kernels: the thread's weight loads and index arithmetic serve
// this many outputs, and (stride 1) neighbouring columns share input taps.
constexpr int kDwColumns = 4;

// Sets p.vec for a layer whose epilogue is built: multiplier 1, channels a multiple of a 16-byte
// vector (8 f16 / 4 f32), 16-byte aligned tensors.
void plan_depthwise_vec(DwParams& p);
void launch_depthwise_vec(const DwParams& p, cudaStream_t stream);

}  // namespace facepipe::engine::cuda
