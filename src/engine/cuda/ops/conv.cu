// Conv2D (NHWC, OHWI weights, groups, dilation) and FullyConnected as one implicit GEMM:
//   C[m][n] = sum_k A[m][k] * B[k][n],  m = output pixel (n, oy, ox), n = output channel of the
//   group, k = (ky, kx, ic) so that B[k][n] = W[n][k] is the OHWI weight row as stored.
// A is gathered from the input on the fly (no im2col buffer). Tiles of BM x BN outputs per block of
// 256 threads, 4x4 outputs per thread, BK = 16, with the next K slice prefetched into registers
// while the current one is multiplied. BN follows the output channels (16/32/64) so that the many
// narrow layers of these networks do not waste three quarters of every tile. The epilogue (bias,
// activation, PRelu, residual add) runs on the accumulators before the single store.
// make_conv_kernel picks this GEMM, the tensor-core GEMM (conv_wmma.cu) or, for short reductions
// with few output channels, the direct kernels (conv_direct.cu).
#include <algorithm>
#include <cstdlib>

#include "engine/cuda/ops/common.cuh"
#include "engine/cuda/ops/conv_params.h"
#include "engine/cuda/ops/window_geometry.h"
#include "engine/cuda/ops/ops.h"
#include "engine/plan/shape_inference.h"

namespace facepipe::engine::cuda {

namespace {

constexpr int kBK = 16;



template <typename T, int BN, int BM, bool kPointwise>
__global__ void __launch_bounds__(BM * BN / 16) conv_igemm_kernel(const ConvParams p) {
  await_inputs();
  constexpr int kThreads = BM * BN / 16;  // 4x4 outputs per thread
  constexpr int TN = BN / 4;              // threads along N
  constexpr int kRowStep = kThreads / kBK;  // rows (A) / columns (B) one pass of loads covers
  constexpr int A_PER = BM / kRowStep;
  constexpr int B_PER = BN / kRowStep;
  __shared__ __align__(16) float As[kBK][BM + 4];
  __shared__ __align__(16) float Bs[kBK][BN + 4];

  const T* __restrict__ x = static_cast<const T*>(p.x);
  const T* __restrict__ w = static_cast<const T*>(p.w);
  const int g = blockIdx.z;
  const int m0 = blockIdx.x * BM;
  const int n0 = blockIdx.y * BN;
  const int tid = threadIdx.x;
  const int lk = tid % kBK;  // the K column this thread loads for A and B
  const int lr = tid / kBK;  // first A row / B column it loads

  // Per loaded A row: where its window starts in the input.
  int a_base[A_PER], a_iy[A_PER], a_ix[A_PER];
#pragma unroll
  for (int i = 0; i < A_PER; ++i) {
    const int m = m0 + lr + kRowStep * i;
    if (m < p.M) {
      const int ox = m % p.OW;
      const int t = m / p.OW;
      const int oy = t % p.OH;
      const int n = t / p.OH;
      if constexpr (kPointwise) {
        a_base[i] = m * p.C;
      } else {
        a_base[i] = n * p.H * p.W * p.C + g * p.ICg;
      }
      a_iy[i] = oy * p.SH - p.PT;
      a_ix[i] = ox * p.SW - p.PL;
    } else {
      a_base[i] = -1;
      a_iy[i] = a_ix[i] = 0;
    }
  }
  const T* w_group = w + static_cast<int64_t>(g) * p.OCg * p.K;

  float a_reg[A_PER], b_reg[B_PER];
  auto load_tile = [&](int k0) {
    const int k = k0 + lk;
    if constexpr (kPointwise) {
#pragma unroll
      for (int i = 0; i < A_PER; ++i) a_reg[i] = (a_base[i] >= 0 && k < p.K) ? load_f32(x, a_base[i] + k) : 0.f;
    } else {
      int ic = 0, ky = 0, kx = 0;
      if (k < p.K) {
        ic = k % p.ICg;
        const int t = k / p.ICg;
        kx = t % p.KW;
        ky = t / p.KW;
      }
#pragma unroll
      for (int i = 0; i < A_PER; ++i) {
        const int iy = a_iy[i] + ky * p.DH;
        const int ix = a_ix[i] + kx * p.DW;
        const bool inside = a_base[i] >= 0 && k < p.K && iy >= 0 && iy < p.H && ix >= 0 && ix < p.W;
        a_reg[i] = inside ? load_f32(x, a_base[i] + (iy * p.W + ix) * p.C + ic) : 0.f;
      }
    }
#pragma unroll
    for (int j = 0; j < B_PER; ++j) {
      const int n = n0 + lr + kRowStep * j;
      b_reg[j] = (n < p.OCg && k < p.K) ? load_f32(w_group, static_cast<int64_t>(n) * p.K + k) : 0.f;
    }
  };

  float acc[4][4] = {};
  const int tx = tid % TN;
  const int ty = tid / TN;
  load_tile(0);
  for (int k0 = 0; k0 < p.K; k0 += kBK) {
#pragma unroll
    for (int i = 0; i < A_PER; ++i) As[lk][lr + kRowStep * i] = a_reg[i];
#pragma unroll
    for (int j = 0; j < B_PER; ++j) Bs[lk][lr + kRowStep * j] = b_reg[j];
    __syncthreads();
    if (k0 + kBK < p.K) load_tile(k0 + kBK);  // in flight while this slice is multiplied
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
      const float4 a = *reinterpret_cast<const float4*>(&As[kk][ty * 4]);
      const float4 b = *reinterpret_cast<const float4*>(&Bs[kk][tx * 4]);
      const float av[4] = {a.x, a.y, a.z, a.w};
      const float bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }

  T* __restrict__ y = static_cast<T*>(p.y);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int m = m0 + ty * 4 + i;
    if (m >= p.M) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int n = n0 + tx * 4 + j;
      if (n >= p.OCg) continue;
      const int c = g * p.OCg + n;
      const int64_t index = static_cast<int64_t>(m) * p.OC + c;
      store_f32(y, index, apply_epilogue<T>(p.epi, acc[i][j], c, index));
    }
  }
}

template <typename T, int BN, int BM>
void launch_tile(const ConvParams& p, cudaStream_t stream) {
  const dim3 grid((p.M + BM - 1) / BM, (p.OCg + BN - 1) / BN, p.groups);
  constexpr int threads = BM * BN / 16;
  if (p.pointwise) {
    launch(conv_igemm_kernel<T, BN, BM, true>, grid, threads, stream, p);
  } else {
    launch(conv_igemm_kernel<T, BN, BM, false>, grid, threads, stream, p);
  }
}

// Default tiles have 256 threads (BM = 4096 / BN); small_m takes BM = 32.
template <typename T, int BN>
void launch_typed(const ConvParams& p, cudaStream_t stream) {
  if (p.small_m) launch_tile<T, BN, 32>(p, stream);
  else launch_tile<T, BN, 4096 / BN>(p, stream);
}

template <typename T>
void launch_bn(const ConvParams& p, cudaStream_t stream) {
  if (p.bn == 16) launch_typed<T, 16>(p, stream);
  else if (p.bn == 32) launch_typed<T, 32>(p, stream);
  else launch_typed<T, 64>(p, stream);
}

Status launch_conv(const ConvParams& p, cudaStream_t stream) {
  if (p.M == 0 || p.OC == 0) return Status::ok();
  if (p.direct) {
    launch_conv_direct(p, stream);
  } else if (p.warp) {
    launch_conv_warp(p, stream);
  } else if (p.tensor_cores) {
    launch_conv_wmma(p, stream);
  } else if (p.storage == DType::kF16) {
    launch_bn<__half>(p, stream);
  } else {
    launch_bn<float>(p, stream);
  }
  return launch_status();
}

// A per-channel f32 vector of `channels` from a plan-time PRelu alpha (scalar or broadcast along
// the last axis only); throws when the alpha has another layout.
std::vector<float> channel_vector(const Op& op, const TensorView& alpha, int64_t channels) {
  if (!alpha.present() || alpha.dtype != DType::kF32) unsupported(op, "fused PRelu alpha must be a f32 constant");
  const int64_t n = alpha.num_elements();
  for (int d = 0; d + 1 < alpha.shape.rank(); ++d)
    if (alpha.shape[d] != 1) unsupported(op, "fused PRelu alpha must be per channel");
  if (n != 1 && n != channels) unsupported(op, "fused PRelu alpha must be per channel");
  std::vector<float> v(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) v[static_cast<size_t>(c)] = alpha.as<const float>()[n == 1 ? 0 : c];
  return v;
}

// Outputs up to which a small-M layer takes conv_warp.cu (FACEPIPE_CUDA_CONV_WARP_MAX_OUTPUTS
// overrides it for timing; 0 turns the kernel off).
int64_t warp_conv_max_outputs() {
  static const int64_t limit = [] {
    const char* v = std::getenv("FACEPIPE_CUDA_CONV_WARP_MAX_OUTPUTS");
    return v ? std::atoll(v) : int64_t{65536};
  }();
  return limit;
}

}  // namespace

void build_epilogue(const KernelArgs& args, int64_t channels, Activation act, float alpha, Epilogue& epi,
                    KernelMemory& kernel) {
  const Op& op = args.op;
  auto input = [&](size_t i) -> const TensorView* {
    return i < op.inputs.size() && op.inputs[i] >= 0 ? &args.inputs[i] : nullptr;
  };
  epi.act = act;
  epi.alpha = alpha;
  if (const TensorView* bias = input(2)) {
    const TensorView& hb = args.host_inputs[2];
    if (!hb.present() || hb.dtype != DType::kF32 || hb.num_elements() != channels) {
      unsupported(op, "bias must be a f32 constant with one value per output channel");
    }
    (void)bias;
    epi.bias = static_cast<const float*>(kernel.upload(hb.data, static_cast<size_t>(channels) * 4));
  }
  if (input(3)) {
    const std::vector<float> v = channel_vector(op, args.host_inputs[3], channels);
    epi.prelu1 = static_cast<const float*>(kernel.upload(v.data(), v.size() * 4));
  }
  if (const TensorView* r = input(4)) {
    if (r->dtype != args.outputs[0].dtype || r->shape != args.outputs[0].shape) {
      unsupported(op, "fused residual must match the output");
    }
    epi.residual = r->data;
    epi.act2 = args.act2;
    epi.alpha2 = args.act2_alpha;
  }
  if (input(5)) {
    const std::vector<float> v = channel_vector(op, args.host_inputs[5], channels);
    epi.prelu2 = static_cast<const float*>(kernel.upload(v.data(), v.size() * 4));
  }
}

std::unique_ptr<CudaKernel> make_conv_kernel(const KernelArgs& args) {
  const Op& op = args.op;
  const TensorView& x = args.inputs[0];
  const TensorView& w = args.inputs[1];
  const TensorView& y = args.outputs[0];
  require_float_tensors(op, x, y, &w);
  ConvParams p;
  p.x = x.data;
  p.w = w.data;
  p.y = y.data;
  p.storage = x.dtype;
  Activation act = Activation::kNone;
  float alpha = 0.f;
  if (op.type == OpType::kFullyConnected) {
    const auto* a = std::get_if<FullyConnectedAttrs>(&op.attrs);
    act = a ? a->activation : Activation::kNone;
    p.K = p.C = p.ICg = static_cast<int>(w.shape[1]);
    p.OC = p.OCg = static_cast<int>(w.shape[0]);
    p.M = static_cast<int>(x.num_elements() / p.K);
    p.H = p.W = p.OH = p.OW = 1;
    p.KW = 1;
    p.pointwise = true;
  } else {
    const ConvAttrs& a = op.as<ConvAttrs>();
    act = a.activation;
    alpha = a.activation_alpha;
    const Padding pad = set_window_geometry(p, a, x, w, y);
    p.groups = a.groups;
    p.ICg = static_cast<int>(w.shape[3]);
    p.OCg = p.OC / a.groups;
    p.K = static_cast<int>(w.shape[1] * w.shape[2] * w.shape[3]);
    p.M = static_cast<int>(y.shape[0] * y.shape[1] * y.shape[2]);
    p.pointwise = w.shape[1] == 1 && w.shape[2] == 1 && a.stride_h == 1 && a.stride_w == 1 && pad.top == 0 &&
                  pad.left == 0 && a.groups == 1 && p.OH == p.H && p.OW == p.W;
  }
  p.bn = p.OCg <= 16 ? 16 : p.OCg <= 32 ? 32 : 64;
  // Fewer default blocks than two waves of the multiprocessors leaves the GPU idle (batch-1 layers
  // at low resolution): then smaller M tiles.
  const int sms = multiprocessor_count();
  const int64_t default_blocks = (p.M + 4096 / p.bn - 1) / (4096 / p.bn) * ((p.OCg + p.bn - 1) / p.bn) * p.groups;
  p.small_m = default_blocks < 2 * sms;
  // Direct: the stems (K <= 96) and the narrow 1x1 layers (K <= 32: the landmark network's 8<->16
  // bottlenecks at 128x128), both memory-bound; tensor cores where K gives them work (K >= 64).
  p.direct = p.groups == 1 && p.OC <= 32 && (p.pointwise ? p.K <= 32 : p.K <= kDirectMaxK);
  // Few outputs: lane groups that split K (conv_warp.cu) instead of a few tiles walking all of K.
  p.warp = !p.direct && p.small_m && static_cast<int64_t>(p.M) * p.OC <= warp_conv_max_outputs() &&
           configure_conv_warp(p);
  p.tensor_cores = !p.direct && !p.warp && p.storage == DType::kF16 && p.ICg % 8 == 0 && p.K % 8 == 0 && p.K >= 64 && p.OCg >= 16 &&
                   (p.pointwise ? p.C % 8 == 0 : p.C % 8 == 0 && (p.groups * p.ICg) % 8 == 0);
  auto kernel = std::make_unique<LaunchKernel<ConvParams>>(p, &launch_conv);
  build_epilogue(args, p.OC, act, alpha, kernel->params().epi, *kernel);
  if (p.direct) plan_conv_direct(kernel->params(), sms);  // its vector paths check the residual too
  return kernel;
}

}  // namespace facepipe::engine::cuda
