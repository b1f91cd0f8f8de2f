// Direct convolution for short reductions and few output channels (the RGB stems: K = 3x3x3 or
// 5x5x3, 8..32 outputs; 1x1 layers with K <= 32, such as RetinaFace's 8->16 / 16->32 / 32->32 at
// batch 32 and the landmark network's 16<->8 bottlenecks). These layers are memory-bound: the GEMM
// tiling would spend its time on a K of 27 and half-empty N tiles, so the weights sit in shared
// memory (f32) and every input tap is read once per pixel.
//
// Two kernels:
// * conv_direct_vec_kernel (output channels a multiple of a 16-byte vector: 8 f16 / 4 f32 channels,
//   and 1, 2, 4 or 8 vectors per pixel): a thread computes one vector of output channels of PX
//   pixels, so the G threads of a pixel sit next to each other and a warp's stores cover one
//   contiguous run of the NHWC output (a block's pixels are consecutive): 16-byte, fully coalesced
//   stores and residual loads. 1x1 layers whose input channels are a multiple of a vector also read
//   the input pixel as 16-byte vectors (the G threads of a pixel read the same addresses, which the
//   load unit merges); other shapes (the 3-channel stems) read scalar taps.
// * conv_direct_kernel: the scalar kernel for every other shape (odd output channels: one thread
//   per pixel, all <= 32 output channels in registers; small layers split the channels into
//   groups of 8 over blockIdx.y so that batch-1 layers still fill the GPU).
#include <algorithm>

#include "engine/cuda/ops/common.cuh"
#include "engine/cuda/ops/conv_params.h"
#include "engine/cuda/ops/vec16.cuh"

namespace facepipe::engine::cuda {

namespace {

constexpr int kThreads = 128;

template <typename T, int OCB>
__global__ void __launch_bounds__(kThreads) conv_direct_kernel(const ConvParams p) {
  await_inputs();
  __shared__ float ws[kDirectMaxK * OCB];
  const T* __restrict__ w = static_cast<const T*>(p.w);
  const int oc0 = blockIdx.y * OCB;  // this block's output channels: oc0 .. oc0 + count
  const int count = min(OCB, p.OC - oc0);
  for (int i = threadIdx.x; i < p.K * OCB; i += kThreads) {
    const int oc = i / p.K, k = i % p.K;
    ws[k * OCB + oc] = oc < count ? load_f32(w, static_cast<int64_t>(oc0 + oc) * p.K + k) : 0.f;  // OHWI row
  }
  __syncthreads();
  const int m = blockIdx.x * kThreads + threadIdx.x;
  if (m >= p.M) return;
  const int ox = m % p.OW;
  const int t = m / p.OW;
  const int oy = t % p.OH;
  const int n = t / p.OH;
  const T* __restrict__ x = static_cast<const T*>(p.x) + static_cast<int64_t>(n) * p.H * p.W * p.C;
  float acc[OCB];
#pragma unroll
  for (int c = 0; c < OCB; ++c) acc[c] = 0.f;
  const int KH = p.K / (p.KW * p.C);
  int k = 0;
  for (int ky = 0; ky < KH; ++ky) {
    const int iy = oy * p.SH - p.PT + ky * p.DH;
    for (int kx = 0; kx < p.KW; ++kx) {
      const int ix = ox * p.SW - p.PL + kx * p.DW;
      const bool inside = iy >= 0 && iy < p.H && ix >= 0 && ix < p.W;
      for (int ic = 0; ic < p.C; ++ic, ++k) {
        const float v = inside ? load_f32(x, (iy * p.W + ix) * p.C + ic) : 0.f;
#pragma unroll
        for (int c = 0; c < OCB; ++c) acc[c] = fmaf(v, ws[k * OCB + c], acc[c]);
      }
    }
  }
  T* __restrict__ y = static_cast<T*>(p.y);
#pragma unroll
  for (int c = 0; c < OCB; ++c) {
    if (c >= count) break;
    const int64_t index = static_cast<int64_t>(m) * p.OC + oc0 + c;
    store_f32(y, index, apply_epilogue<T>(p.epi, acc[c], oc0 + c, index));
  }
}

// G vectors of V = kVec<T> output channels per pixel (OC = G * V exactly); thread t of a block
// owns vector t % G of the pixels blockIdx.x * kThreads / G * PX + t / G + j * kThreads / G,
// j < PX. kVecIn: 1x1 stride-1 layer with C a multiple of V (the input pixel is read as C / V
// vectors); otherwise any window, taps read one channel at a time.
template <typename T, int G, int PX, bool kVecIn>
__global__ void __launch_bounds__(kThreads) conv_direct_vec_kernel(const ConvParams p) {
  await_inputs();
  constexpr int V = kVec<T>;
  constexpr int OC = G * V;
  constexpr int kSlots = kThreads / G;  // pixels per block and pass
  static_assert(kThreads % G == 0);
  __shared__ __align__(16) float ws[kDirectMaxK * OC];  // [k][oc], f32
  const T* __restrict__ w = static_cast<const T*>(p.w);
  for (int i = threadIdx.x; i < p.K * OC; i += kThreads) {
    const int oc = i / p.K, k = i - oc * p.K;
    ws[k * OC + oc] = load_f32(w, i);  // OHWI row oc, column k
  }
  __syncthreads();  // no thread returns before this; out-of-range pixels are masked below

  const int chunk = threadIdx.x % G;
  const int m0 = blockIdx.x * (kSlots * PX) + threadIdx.x / G;
  const float* wt = ws + chunk * V;  // this thread's output channels in row k: wt[k * OC + 0..V)
  const T* __restrict__ x = static_cast<const T*>(p.x);
  float acc[PX][V];
#pragma unroll
  for (int j = 0; j < PX; ++j)
#pragma unroll
    for (int c = 0; c < V; ++c) acc[j][c] = 0.f;

  // acc[j][c] += xv[j] * w[k][chunk * V + c]; the V weights come as V / 4 shared float4 loads,
  // read at the same or neighbouring addresses by the whole warp (no bank conflicts: OC <= 32).
  auto accumulate = [&](int k, const float (&xv)[PX]) {
    float wv[V];
#pragma unroll
    for (int q = 0; q < V / 4; ++q) {
      const float4 f = *reinterpret_cast<const float4*>(wt + k * OC + 4 * q);
      wv[4 * q] = f.x, wv[4 * q + 1] = f.y, wv[4 * q + 2] = f.z, wv[4 * q + 3] = f.w;
    }
#pragma unroll
    for (int j = 0; j < PX; ++j)
#pragma unroll
      for (int c = 0; c < V; ++c) acc[j][c] = fmaf(xv[j], wv[c], acc[j][c]);
  };

  if constexpr (kVecIn) {
    // K = C <= 32: at most kMaxCV vectors per input pixel, all issued before the arithmetic.
    constexpr int kMaxCV = 32 / V;
    const int cv_count = p.C / V;
    uint4 raw[PX][kMaxCV];
#pragma unroll
    for (int j = 0; j < PX; ++j) {
      const int m = m0 + j * kSlots;
#pragma unroll
      for (int cv = 0; cv < kMaxCV; ++cv)
        raw[j][cv] = m < p.M && cv < cv_count ? load_raw(x + m * p.C + cv * V) : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int cv = 0; cv < kMaxCV; ++cv) {
      if (cv >= cv_count) break;
      float xs[PX][V];
#pragma unroll
      for (int j = 0; j < PX; ++j) unpack_vec<T>(raw[j][cv], xs[j]);
#pragma unroll
      for (int e = 0; e < V; ++e) {
        float xv[PX];
#pragma unroll
        for (int j = 0; j < PX; ++j) xv[j] = xs[j][e];
        accumulate(cv * V + e, xv);
      }
    }
  } else {
    // Per pixel: image base and window origin; out-of-range pixels read nothing.
    int base[PX], iy0[PX], ix0[PX];
    bool valid[PX];
#pragma unroll
    for (int j = 0; j < PX; ++j) {
      const int m = m0 + j * kSlots;
      valid[j] = m < p.M;
      const int mm = valid[j] ? m : 0;
      const int ox = mm % p.OW;
      const int t = mm / p.OW;
      const int oy = t % p.OH;
      const int n = t / p.OH;
      base[j] = n * p.H * p.W * p.C;
      iy0[j] = oy * p.SH - p.PT;
      ix0[j] = ox * p.SW - p.PL;
    }
    const int KH = p.K / (p.KW * p.C);
    int k = 0;
    for (int ky = 0; ky < KH; ++ky) {
      for (int kx = 0; kx < p.KW; ++kx) {
        int offset[PX];
        bool inside[PX];
#pragma unroll
        for (int j = 0; j < PX; ++j) {
          const int iy = iy0[j] + ky * p.DH;
          const int ix = ix0[j] + kx * p.DW;
          inside[j] = valid[j] && iy >= 0 && iy < p.H && ix >= 0 && ix < p.W;
          offset[j] = base[j] + (iy * p.W + ix) * p.C;
        }
        for (int ic = 0; ic < p.C; ++ic, ++k) {
          float xv[PX];
#pragma unroll
          for (int j = 0; j < PX; ++j) xv[j] = inside[j] ? load_f32(x, offset[j] + ic) : 0.f;
          accumulate(k, xv);
        }
      }
    }
  }

  ChannelTerms<V> terms;
  terms.load(p.epi, chunk * V);
  T* __restrict__ y = static_cast<T*>(p.y);
#pragma unroll
  for (int j = 0; j < PX; ++j) {
    const int m = m0 + j * kSlots;
    if (m >= p.M) continue;
    const int64_t i0 = static_cast<int64_t>(m) * OC + chunk * V;  // consecutive threads: consecutive 16 bytes
    apply_epilogue_vec<T>(p.epi, terms, acc[j], i0);
    store_vec(y + i0, acc[j]);
  }
}

template <typename T, int G, int PX>
void launch_vec(const ConvParams& p, cudaStream_t stream) {
  const unsigned grid = grid_for(p.M, kThreads / G * PX);
  if (p.direct_vec_in) launch(conv_direct_vec_kernel<T, G, PX, true>, grid, kThreads, stream, p);
  else launch(conv_direct_vec_kernel<T, G, PX, false>, grid, kThreads, stream, p);
}

template <typename T, int PX>
void launch_vec_px(const ConvParams& p, cudaStream_t stream) {
  switch (p.OC / kVec<T>) {
    case 1: launch_vec<T, 1, PX>(p, stream); break;
    case 2: launch_vec<T, 2, PX>(p, stream); break;
    case 4: launch_vec<T, 4, PX>(p, stream); break;
    default:  // 8 vectors: f32 with 32 channels (plan_conv_direct allows nothing else)
      if constexpr (kVec<T> * 8 <= 32) launch_vec<T, 8, PX>(p, stream);
      break;
  }
}

template <typename T>
void launch_typed(const ConvParams& p, cudaStream_t stream) {
  if (p.direct_vec) {
    if constexpr (std::is_same_v<T, __half>) {
      if (p.direct_px == 2) {
        launch_vec_px<T, 2>(p, stream);
        return;
      }
    }
    launch_vec_px<T, 1>(p, stream);
    return;
  }
  if (p.direct_split) {
    const dim3 grid(grid_for(p.M, kThreads), static_cast<unsigned>((p.OC + 7) / 8));
    launch(conv_direct_kernel<T, 8>, grid, kThreads, stream, p);
    return;
  }
  const unsigned grid = grid_for(p.M, kThreads);
  if (p.OC <= 8) launch(conv_direct_kernel<T, 8>, grid, kThreads, stream, p);
  else if (p.OC <= 16) launch(conv_direct_kernel<T, 16>, grid, kThreads, stream, p);
  else launch(conv_direct_kernel<T, 32>, grid, kThreads, stream, p);
}

}  // namespace

void plan_conv_direct(ConvParams& p, int sms) {
  const int v = p.storage == DType::kF16 ? kVec<__half> : kVec<float>;
  const int g = p.OC % v == 0 ? p.OC / v : 0;
  const bool vec_in = p.pointwise && p.C % v == 0;
  // 16-byte accesses: output and residual at m * OC + chunk * V (OC a multiple of V), the input at
  // m * C + cv * V on the vector-input path. The arena aligns tensors to 64 bytes; checked anyway
  // since the pointers are fixed now.
  p.direct_vec = (g == 1 || g == 2 || g == 4 || g == 8) && p.OC <= 32 && aligned16(p.y) &&
                 (!p.epi.residual || aligned16(p.epi.residual)) && (!vec_in || aligned16(p.x));
  p.direct_vec_in = p.direct_vec && vec_in;
  // Two pixels per thread (f16) halve the shared weight reads per FMA, when the grid still has
  // several waves of blocks; small layers (batch-1 landmarks) keep one for more blocks.
  const int64_t blocks_px2 = g > 0 ? (static_cast<int64_t>(p.M) * g + 2 * kThreads - 1) / (2 * kThreads) : 0;
  p.direct_px = p.storage == DType::kF16 && blocks_px2 >= 4 * sms ? 2 : 1;
  // The scalar kernel has a thread per pixel: at batch 1 (BlazeFace's 64x64 layers with 24..28
  // channels: 32 blocks) most multiprocessors would idle, so small layers split the output
  // channels into groups of 8 over blockIdx.y (inputs are re-read per group, from cache).
  p.direct_split = !p.direct_vec && p.OC > 8 && static_cast<int64_t>(grid_for(p.M, kThreads)) < 4 * sms;
}

void launch_conv_direct(const ConvParams& p, cudaStream_t stream) {
  if (p.storage == DType::kF16) launch_typed<__half>(p, stream);
  else launch_typed<float>(p, stream);
}

}  // namespace facepipe::engine::cuda
