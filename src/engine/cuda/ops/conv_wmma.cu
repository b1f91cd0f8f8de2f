// The implicit GEMM of conv.cu on tensor cores, for f16 storage: 64x64 output tiles per block of
// 4 warps, each warp 32x32 as 2x2 wmma 16x16x16 fragments with f32 accumulators, K in slices of
// 32. A rows are gathered from the input 8 channels (16 bytes) at a time, which needs the group's
// input channels (and so K) in multiples of 8; the entry point checks. The accumulators go through
// shared memory so that the epilogue (bias, activation, PRelu, residual) runs per element in f32
// before the single f16 store.
#include <mma.h>

#include "engine/cuda/ops/common.cuh"
#include "engine/cuda/ops/conv_params.h"

namespace facepipe::engine::cuda {

namespace {

constexpr int kBM = 64, kBN = 64, kBK = 32;
constexpr int kThreads = 128;
constexpr int kPad = 8;  // halves of padding per shared row: 16 bytes, keeps wmma pointers aligned

struct alignas(16) Half8 {
  __half v[8];
};

template <bool kPointwise>
__global__ void __launch_bounds__(kThreads) conv_wmma_kernel(const ConvParams p) {
  await_inputs();
  using namespace nvcuda;
  __shared__ __align__(32) __half As[kBM][kBK + kPad];
  __shared__ __align__(32) __half Bs[kBN][kBK + kPad];
  __shared__ __align__(32) float Cs[kBM][kBN + 4];

  const __half* __restrict__ x = static_cast<const __half*>(p.x);
  const __half* __restrict__ w = static_cast<const __half*>(p.w);
  const int g = blockIdx.z;
  const int m0 = blockIdx.x * kBM;
  const int n0 = blockIdx.y * kBN;
  const int tid = threadIdx.x;
  const int warp = tid / 32;
  const int wm = (warp / 2) * 32, wn = (warp % 2) * 32;

  // Loads: each thread fills rows r0 and r0 + 32 of A and of B, 8 halves at column c8.
  const int r0 = tid / 4;
  const int c8 = (tid % 4) * 8;
  int a_base[2], a_iy[2], a_ix[2];
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int m = m0 + r0 + 32 * i;
    if (m < p.M) {
      const int ox = m % p.OW;
      const int t = m / p.OW;
      const int oy = t % p.OH;
      const int n = t / p.OH;
      a_base[i] = kPointwise ? m * p.C : n * p.H * p.W * p.C + g * p.ICg;
      a_iy[i] = oy * p.SH - p.PT;
      a_ix[i] = ox * p.SW - p.PL;
    } else {
      a_base[i] = -1;
      a_iy[i] = a_ix[i] = 0;
    }
  }
  const __half* w_group = w + static_cast<int64_t>(g) * p.OCg * p.K;

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.f);

  Half8 zero;
#pragma unroll
  for (int e = 0; e < 8; ++e) zero.v[e] = __float2half(0.f);

  for (int k0 = 0; k0 < p.K; k0 += kBK) {
    const int k = k0 + c8;  // the 8 columns k..k+7 share (ky, kx): ICg is a multiple of 8
    int ic = 0, ky = 0, kx = 0;
    if (!kPointwise && k < p.K) {
      ic = k % p.ICg;
      const int t = k / p.ICg;
      kx = t % p.KW;
      ky = t / p.KW;
    }
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      Half8 v = zero;
      if (a_base[i] >= 0 && k < p.K) {
        if (kPointwise) {
          v = *reinterpret_cast<const Half8*>(x + a_base[i] + k);
        } else {
          const int iy = a_iy[i] + ky * p.DH;
          const int ix = a_ix[i] + kx * p.DW;
          if (iy >= 0 && iy < p.H && ix >= 0 && ix < p.W)
            v = *reinterpret_cast<const Half8*>(x + a_base[i] + (iy * p.W + ix) * p.C + ic);
        }
      }
      *reinterpret_cast<Half8*>(&As[r0 + 32 * i][c8]) = v;
      const int n = n0 + r0 + 32 * i;
      Half8 b = zero;
      if (n < p.OCg && k < p.K) b = *reinterpret_cast<const Half8*>(w_group + static_cast<int64_t>(n) * p.K + k);
      *reinterpret_cast<Half8*>(&Bs[r0 + 32 * i][c8]) = b;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kBK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) wmma::load_matrix_sync(a[i], &As[wm + 16 * i][kk], kBK + kPad);
#pragma unroll
      for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(b[j], &Bs[wn + 16 * j][kk], kBK + kPad);
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(&Cs[wm + 16 * i][wn + 16 * j], acc[i][j], kBN + 4, wmma::mem_row_major);
  __syncthreads();
  __half* __restrict__ y = static_cast<__half*>(p.y);
  for (int e = tid; e < kBM * kBN; e += kThreads) {
    const int r = e / kBN, c = e % kBN;
    const int m = m0 + r, n = n0 + c;
    if (m >= p.M || n >= p.OCg) continue;
    const int channel = g * p.OCg + n;
    const int64_t index = static_cast<int64_t>(m) * p.OC + channel;
    store_f32(y, index, apply_epilogue<__half>(p.epi, Cs[r][c], channel, index));
  }
}

}  // namespace

void launch_conv_wmma(const ConvParams& p, cudaStream_t stream) {
  const dim3 grid((p.M + kBM - 1) / kBM, (p.OCg + kBN - 1) / kBN, p.groups);
  if (p.pointwise) launch(conv_wmma_kernel<true>, grid, kThreads, stream, p);
  else launch(conv_wmma_kernel<false>, grid, kThreads, stream, p);
}

}  // namespace facepipe::engine::cuda
