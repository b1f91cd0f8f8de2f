// Parameters of the Conv2D / FullyConnected implicit GEMM (conv.cu), shared with the tensor-core
// variant (conv_wmma.cu) and the direct kernels (conv_direct.cu).
#pragma once

#include <cuda_runtime.h>

#include "common/status.h"
#include "engine/cuda/ops/epilogue.h"
#include "engine/ir/dtype.h"

namespace facepipe::engine::cuda {

struct ConvParams {
  const void* x = nullptr;
  const void* w = nullptr;
  void* y = nullptr;
  int H = 0, W = 0, C = 0;  // input NHWC (batch folded into M)
  int OH = 0, OW = 0, OC = 0;
  int KW = 0, SH = 1, SW = 1, DH = 1, DW = 1, PT = 0, PL = 0;
  int ICg = 0, OCg = 0;
  int M = 0, K = 0;
  bool pointwise = false;  // A is the input itself as an [M, C] matrix
  int bn = 64;
  bool small_m = false;    // BM = 32: more, smaller blocks when the default tiles leave SMs idle
  bool direct = false;     // conv_direct.cu (short K, few output channels)
  bool direct_vec = false;     // direct, 16-byte output vectors (plan_conv_direct decides)
  bool direct_vec_in = false;  // direct_vec, and the 1x1 input read as 16-byte vectors
  int direct_px = 1;           // direct_vec: output pixels per thread (1 or 2)
  bool direct_split = false;  // scalar direct kernel: output channels in groups of 8 over blockIdx.y
  bool tensor_cores = false;  // conv_wmma.cu (f16 storage, channels in multiples of 8)
  bool warp = false;          // conv_warp.cu (few outputs, long K: lane groups split K)
  int warp_vector = 1;        // elements per load along K (8/4/2/1)
  int warp_lanes = 32;        // lanes per output group (4..32)
  DType storage = DType::kF32;
  int groups = 1;
  Epilogue epi;
};

// The direct kernels' reduction limit: K <= kDirectMaxK (their weights live in shared memory).
constexpr int kDirectMaxK = 96;

// Direct kernels (conv_direct.cu). plan_conv_direct fills direct_vec/direct_vec_in/direct_px for a
// layer with `direct` set and its epilogue built; `sms` is the device's multiprocessor count.
void plan_conv_direct(ConvParams& p, int sms);
void launch_conv_direct(const ConvParams& p, cudaStream_t stream);

// f16 storage, tensor cores (wmma 16x16x16, f32 accumulate), 64x64 tiles. Requires K and the
// input channels of a group to be multiples of 8 (16-byte loads).
void launch_conv_wmma(const ConvParams& p, cudaStream_t stream);

// Lane groups split K (conv_warp.cu). configure_conv_warp picks the vector width and lanes per
// group; false when the layer is not one it handles (groups > 1, K < 16).
bool configure_conv_warp(ConvParams& p);
void launch_conv_warp(const ConvParams& p, cudaStream_t stream);

}  // namespace facepipe::engine::cuda
