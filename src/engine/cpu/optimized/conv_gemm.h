// Convolution as a GEMM with pre-packed weights: the shared plan and the per-ISA entry points.
//
// out[m, o] = sum_k A[m, k] * W[o, k] where m runs over output pixels (N*OH*OW), k over
// (kh, kw, ci) in the weights' OHWI order and A is the implicit im2col matrix. A is never
// materialized: each tile of `mr` output pixels gets one pointer per "segment" of its im2col row:
//  * kPointwise: 1x1, stride 1, no padding: one segment of in_c floats, the input pixel itself.
//  * kRows (dilation_w == 1): one segment per kernel row kh, kernel_w*in_c floats that are
//    contiguous in NHWC memory; pixels whose row segment crosses the left/right border get a
//    zero-padded copy in a stack scratch, rows above/below the image point at a zero buffer.
//  * kTaps: one segment per (kh, kw) of in_c floats (any dilation; out-of-image taps -> zeros).
// Weights are packed at plan time into column groups of nv*lanes output channels, each stored
// [K][group width] so that the micro-kernel reads them sequentially; bias (and the optional
// PReLU slopes) are zero-padded to the packed width. The micro-kernel keeps an mr x nv block of
// vector accumulators and applies bias, residual, activation and PReLU in its epilogue.
#pragma once

#include <cstdint>

#include "engine/ir/op.h"

namespace facepipe::engine::cpu::opt {

struct ConvGemmPlan {
  enum class Segments : uint8_t { kPointwise, kRows, kTaps };

  int64_t batch = 0, in_h = 0, in_w = 0, in_c = 0, out_h = 0, out_w = 0, out_c = 0;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0;

  Segments segments = Segments::kPointwise;
  int seg_count = 1;  // segments per im2col row
  int seg_len = 0;    // floats per segment; seg_count * seg_len == K

  int lanes = 8;  // vector width of the ISA the weights were packed for
  int mr = 1;     // output pixels per micro-tile
  int nv = 1;     // vectors of output channels per micro-tile (column group = nv * lanes)
  int64_t k = 0;
  const float* packed = nullptr;  // column groups, each [k][width]; group g starts at g*nv*lanes*k
  const float* bias = nullptr;    // padded to a multiple of lanes (zeros when the op has no bias)
  const float* prelu = nullptr;   // padded per-channel PReLU slopes, or null
  Activation activation = Activation::kNone;
  float activation_alpha = 0.f;
  const float* zeros = nullptr;  // at least seg_len zeros

  int64_t pixels() const { return batch * out_h * out_w; }
  int64_t tiles() const { return (pixels() + mr - 1) / mr; }
};

// Scratch floats a kRows tile may need on the stack (mr * kernel_h * kernel_w * in_c must fit).
inline constexpr int kConvRowScratchFloats = 8192;
// Upper bound on segments per im2col row (pointer array on the stack).
inline constexpr int kConvMaxSegments = 64;

// Runs tiles [tile_begin, tile_end) of the plan: x is the NHWC input, residual (or null) a tensor
// shaped like y that is added before the activation.
using ConvTileFn = void (*)(const ConvGemmPlan& plan, const float* x, const float* residual, float* y,
                            int64_t tile_begin, int64_t tile_end);

struct ConvTileConfig {
  int mr = 0;
  int nv = 0;
  int lanes = 0;
  ConvTileFn fn = nullptr;
};

// Tile shape and runner for a layer with `out_c` output channels, per ISA (conv_gemm_avx2.cpp,
// conv_gemm_avx512.cpp).
ConvTileConfig conv_tile_config_avx2(int64_t out_c);
ConvTileConfig conv_tile_config_avx512(int64_t out_c);

}  // namespace facepipe::engine::cpu::opt
