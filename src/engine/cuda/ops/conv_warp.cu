// Conv2D / FullyConnected for layers with few outputs and a long reduction (batch-1 layers at
// 16x16 and below, the landmark network's 2x2x128 -> 1434 head, the blendshape MLP): the tiled
// GEMM gives such layers a handful of blocks that each walk all of K in 16-wide slices with two
// barriers per slice, so they take 10-35 us while the GPU idles. Here a group of L lanes (a power
// of two <= 32, sized to K) computes NPW = 4 consecutive output channels of one output pixel: the
// lanes split K in vectors of V elements (16/8/4-byte loads of the input window and of the OHWI
// weight rows, both contiguous along K), then reduce with warp shuffles. Every output gets its
// own few lanes, so the whole GPU works on even a 1x1x1434 output.
#include "engine/cuda/ops/common.cuh"
#include "engine/cuda/ops/conv_params.h"

namespace facepipe::engine::cuda {

namespace {

constexpr int kNpw = 4;  // output channels per lane group
constexpr int kWarpConvThreads = 256;

// The unsigned type of `Bytes` bytes (one load instruction).
template <int Bytes> struct RawOf;
template <> struct RawOf<16> { using type = uint4; };
template <> struct RawOf<8> { using type = uint2; };
template <> struct RawOf<4> { using type = uint32_t; };
template <> struct RawOf<2> { using type = uint16_t; };

// V consecutive elements as f32, from an address aligned to V elements: one load of V elements'
// bytes, then f16 pairs or floats unpacked from registers.
template <typename T, int V>
__device__ __forceinline__ void load_vector(const T* p, float (&out)[V]) {
  using Raw = typename RawOf<V * static_cast<int>(sizeof(T))>::type;
  const Raw raw = *reinterpret_cast<const Raw*>(p);
  if constexpr (std::is_same_v<T, __half> && V >= 2) {
    const __half2* h = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
    for (int i = 0; i < V / 2; ++i) {
      const float2 f = __half22float2(h[i]);
      out[2 * i] = f.x;
      out[2 * i + 1] = f.y;
    }
  } else {
    const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
    for (int i = 0; i < V; ++i) out[i] = load_f32(e, i);
  }
}

template <typename T, int V, int L, bool kPointwise>
__global__ void __launch_bounds__(kWarpConvThreads) conv_warp_kernel(const ConvParams p) {
  await_inputs();
  const T* __restrict__ x = static_cast<const T*>(p.x);
  const T* __restrict__ w = static_cast<const T*>(p.w);
  const int thread = blockIdx.x * kWarpConvThreads + threadIdx.x;
  const int lane = thread % L;
  const int group = thread / L;
  const int n_blocks = (p.OC + kNpw - 1) / kNpw;
  // Groups past the end still run the loop with nothing to add: every lane must reach the shuffles.
  const bool live = group < p.M * n_blocks;
  const int m = live ? group / n_blocks : 0;
  const int n0 = live ? (group % n_blocks) * kNpw : 0;

  int base = 0, iy0 = 0, ix0 = 0;
  if constexpr (kPointwise) {
    base = m * p.C;
  } else {
    const int ox = m % p.OW;
    const int t = m / p.OW;
    const int oy = t % p.OH;
    base = (t / p.OH) * p.H * p.W * p.C;
    iy0 = oy * p.SH - p.PT;
    ix0 = ox * p.SW - p.PL;
  }
  const T* wrow[kNpw];
#pragma unroll
  for (int j = 0; j < kNpw; ++j) wrow[j] = w + static_cast<int64_t>(min(n0 + j, p.OC - 1)) * p.K;

  float acc[kNpw] = {};
  for (int k = lane * V; live && k < p.K; k += L * V) {
    float a[V];
    if constexpr (kPointwise) {
      load_vector<T, V>(x + base + k, a);
    } else {
      const int ic = k % p.C;
      const int t = k / p.C;
      const int iy = iy0 + (t / p.KW) * p.DH;
      const int ix = ix0 + (t % p.KW) * p.DW;
      if (iy < 0 || iy >= p.H || ix < 0 || ix >= p.W) continue;  // zero padding adds nothing
      load_vector<T, V>(x + base + (iy * p.W + ix) * p.C + ic, a);
    }
#pragma unroll
    for (int j = 0; j < kNpw; ++j) {
      float b[V];
      load_vector<T, V>(wrow[j] + k, b);
#pragma unroll
      for (int v = 0; v < V; ++v) acc[j] = fmaf(a[v], b[v], acc[j]);
    }
  }
#pragma unroll
  for (int offset = L / 2; offset > 0; offset /= 2)
#pragma unroll
    for (int j = 0; j < kNpw; ++j) acc[j] += __shfl_xor_sync(0xffffffffu, acc[j], offset, L);

  // Lane j of the group stores channel n0 + j (every lane holds every sum after the butterfly).
  if (!live || lane >= kNpw) return;
  float sum = acc[0];
#pragma unroll
  for (int j = 1; j < kNpw; ++j)
    if (lane == j) sum = acc[j];
  const int c = n0 + lane;
  if (c >= p.OC) return;
  const int64_t index = static_cast<int64_t>(m) * p.OC + c;
  store_f32(static_cast<T*>(p.y), index, apply_epilogue<T>(p.epi, sum, c, index));
}

template <typename T, int V, int L>
void launch_lanes(const ConvParams& p, cudaStream_t stream) {
  const int64_t groups = static_cast<int64_t>(p.M) * ((p.OC + kNpw - 1) / kNpw);
  const unsigned grid = grid_for(groups * L, kWarpConvThreads);
  if (p.pointwise) launch(conv_warp_kernel<T, V, L, true>, grid, kWarpConvThreads, stream, p);
  else launch(conv_warp_kernel<T, V, L, false>, grid, kWarpConvThreads, stream, p);
}

template <typename T, int V>
void launch_vector(const ConvParams& p, cudaStream_t stream) {
  switch (p.warp_lanes) {
    case 4: launch_lanes<T, V, 4>(p, stream); break;
    case 8: launch_lanes<T, V, 8>(p, stream); break;
    case 16: launch_lanes<T, V, 16>(p, stream); break;
    default: launch_lanes<T, V, 32>(p, stream); break;
  }
}

template <typename T>
void launch_typed(const ConvParams& p, cudaStream_t stream) {
  if (p.warp_vector == 8) {
    if constexpr (std::is_same_v<T, __half>) launch_vector<T, 8>(p, stream);
  } else if (p.warp_vector == 4) {
    launch_vector<T, 4>(p, stream);
  } else if (p.warp_vector == 2) {
    launch_vector<T, 2>(p, stream);
  } else {
    launch_vector<T, 1>(p, stream);
  }
}

}  // namespace

bool configure_conv_warp(ConvParams& p) {
  if (p.groups != 1 || p.K < 16) return false;
  // The widest vector that divides every run along K: the input channels (a vector never
  // crosses a window tap) and K itself (weight rows start aligned).
  const int max_vector = p.storage == DType::kF16 ? 8 : 4;
  int v = max_vector;
  while (v > 1 && (p.C % v != 0 || p.K % v != 0)) v /= 2;
  p.warp_vector = v;
  const int chunks = (p.K + v - 1) / v;
  int lanes = 4;
  while (lanes < 32 && lanes < chunks) lanes *= 2;
  p.warp_lanes = lanes;
  return true;
}

void launch_conv_warp(const ConvParams& p, cudaStream_t stream) {
  if (p.storage == DType::kF16) launch_typed<__half>(p, stream);
  else launch_typed<float>(p, stream);
}

}  // namespace facepipe::engine::cuda
