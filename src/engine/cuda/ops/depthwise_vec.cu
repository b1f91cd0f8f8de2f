// DepthwiseConv2D with multiplier 1 and channels in whole 16-byte vectors (C % 8 == 0 for f16,
// C % 4 == 0 for f32): the general kernel (depthwise.cu) moves 2 or 4 bytes per load and store, so
// at batch 32 and high resolution it is bound by load/store instructions, not by bandwidth. Here a
// thread owns one vector of channels (8 f16 / 4 f32) of kDwColumns consecutive output columns:
// one 16-byte load per input tap and per weight tap, one 16-byte store (and residual load) per
// output pixel. Threads run (row, column group, channel vector) with the channel vector fastest,
// so a warp covers whole pixels.
//
// Square 3x3 / 5x5 windows with stride 1 or 2 along x and no x dilation (every layer of the
// networks) know their column pattern at compile time: the (kDwColumns - 1) * SX + KS input
// columns of a row are each loaded once and feed every output column they touch (stride 1, 3x3:
// 6 loads for 12 taps). Other windows loop over taps.
#include <algorithm>

#include "engine/cuda/ops/common.cuh"
#include "engine/cuda/ops/depthwise_params.h"
#include "engine/cuda/ops/vec16.cuh"

namespace facepipe::engine::cuda {

namespace {

constexpr int kThreads = 128;

int64_t vec_threads_total(const DwParams& p) {
  const int v = p.storage == DType::kF16 ? kVec<__half> : kVec<float>;
  return static_cast<int64_t>((p.OW + kDwColumns - 1) / kDwColumns) * (p.C / v) * p.rows;
}

template <typename T, int KS, int SX>
__global__ void __launch_bounds__(kThreads) depthwise_vec_kernel(const DwParams p) {
  await_inputs();
  constexpr int V = kVec<T>;
  constexpr int NX = kDwColumns;
  const int vectors = p.C / V;  // channel vectors per pixel
  const int per_row = (p.OW + NX - 1) / NX * vectors;
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= p.rows * per_row) return;
  const int row = idx / per_row;
  const int rest = idx - row * per_row;
  const int c0 = rest % vectors * V;
  const int ox0 = rest / vectors * NX;
  const int oy = row % p.OH;
  const int n = row / p.OH;
  const T* __restrict__ x = static_cast<const T*>(p.x) + static_cast<int64_t>(n) * p.H * p.W * p.C + c0;
  const T* __restrict__ w = static_cast<const T*>(p.w) + c0;  // [KH][KW][C]

  float acc[NX][V];
#pragma unroll
  for (int j = 0; j < NX; ++j)
#pragma unroll
    for (int e = 0; e < V; ++e) acc[j][e] = 0.f;
  auto fma_vec = [](float (&a)[V], const float (&xv)[V], const float (&wv)[V]) {
#pragma unroll
    for (int e = 0; e < V; ++e) a[e] = fmaf(xv[e], wv[e], a[e]);
  };

  const int kh = KS ? KS : p.KH;
  const int iy0 = oy * p.SH - p.PT;
  for (int ky = 0; ky < kh; ++ky) {
    const int iy = iy0 + ky * p.DH;
    if (iy < 0 || iy >= p.H) continue;
    const T* xrow = x + static_cast<int64_t>(iy) * p.W * p.C;
    if constexpr (KS > 0) {
      // Input column ix0 + u feeds output column j through tap kx = u - j * SX (compile time).
      float wk[KS][V];
#pragma unroll
      for (int kx = 0; kx < KS; ++kx) load_vec(w + (ky * KS + kx) * p.C, wk[kx]);
      constexpr int kInputColumns = (NX - 1) * SX + KS;
      const int ix0 = ox0 * SX - p.PL;
#pragma unroll
      for (int u = 0; u < kInputColumns; ++u) {
        const int ix = ix0 + u;
        if (ix < 0 || ix >= p.W) continue;  // padding (columns past OW only feed unstored outputs)
        float xv[V];
        load_vec(xrow + ix * p.C, xv);
#pragma unroll
        for (int j = 0; j < NX; ++j) {
          const int kx = u - j * SX;
          if (kx >= 0 && kx < KS) fma_vec(acc[j], xv, wk[kx]);
        }
      }
    } else {
      for (int kx = 0; kx < p.KW; ++kx) {
        float wv[V];
        load_vec(w + (ky * p.KW + kx) * p.C, wv);
#pragma unroll
        for (int j = 0; j < NX; ++j) {
          const int ix = (ox0 + j) * p.SW - p.PL + kx * p.DW;
          if (ix < 0 || ix >= p.W) continue;
          float xv[V];
          load_vec(xrow + ix * p.C, xv);
          fma_vec(acc[j], xv, wv);
        }
      }
    }
  }

  ChannelTerms<V> terms;
  terms.load(p.epi, c0);
  T* __restrict__ y = static_cast<T*>(p.y);
#pragma unroll
  for (int j = 0; j < NX; ++j) {
    if (ox0 + j >= p.OW) break;
    const int64_t i0 = (static_cast<int64_t>(row) * p.OW + ox0 + j) * p.C + c0;
    apply_epilogue_vec<T>(p.epi, terms, acc[j], i0);
    store_vec(y + i0, acc[j]);
  }
}

template <typename T>
void launch_typed(const DwParams& p, cudaStream_t stream) {
  const int threads = kThreads;
  const unsigned grid = grid_for(vec_threads_total(p), threads);
  const bool fixed_columns = p.DW == 1 && (p.SW == 1 || p.SW == 2);
  if (fixed_columns && p.KH == 3 && p.KW == 3) {
    if (p.SW == 1) launch(depthwise_vec_kernel<T, 3, 1>, grid, threads, stream, p);
    else launch(depthwise_vec_kernel<T, 3, 2>, grid, threads, stream, p);
  } else if (fixed_columns && p.KH == 5 && p.KW == 5) {
    if (p.SW == 1) launch(depthwise_vec_kernel<T, 5, 1>, grid, threads, stream, p);
    else launch(depthwise_vec_kernel<T, 5, 2>, grid, threads, stream, p);
  } else {
    launch(depthwise_vec_kernel<T, 0, 0>, grid, threads, stream, p);
  }
}

}  // namespace

void plan_depthwise_vec(DwParams& p) {
  const int v = p.storage == DType::kF16 ? kVec<__half> : kVec<float>;
  // Every pixel's channel run starts at a multiple of C elements: 16-byte aligned when C % v == 0
  // and the tensor's base is (the arena aligns to 64 bytes, constants to 256; checked anyway).
  p.vec = p.multiplier == 1 && p.OC == p.C && p.C % v == 0 && aligned16(p.x) && aligned16(p.w) && aligned16(p.y) &&
          (!p.epi.residual || aligned16(p.epi.residual));
  // A thread does the work of 8 (f16) threads of the general kernel, so small layers (batch-1
  // landmarks at 16x16..128x128) would leave most multiprocessors idle: measured on the H200, the
  // landmark network's 8-channel 128x128 layers took 10 us instead of 6.5. They stay on the
  // general kernel; the vector kernel takes layers with at least four waves of its blocks.
  p.vec = p.vec && vec_threads_total(p) >= 4 * static_cast<int64_t>(multiprocessor_count()) * kThreads;
}

void launch_depthwise_vec(const DwParams& p, cudaStream_t stream) {
  if (p.storage == DType::kF16) launch_typed<__half>(p, stream);
  else launch_typed<float>(p, stream);
}

}  // namespace facepipe::engine::cuda
