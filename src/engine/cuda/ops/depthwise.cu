// DepthwiseConv2D (NHWC, weights [1, KH, KW, C*M]) with the fused epilogue. Memory-bound; no
// shared memory needed at these channel counts. Layers with multiplier 1 and channels in whole
// 16-byte vectors take depthwise_vec.cu; this file's kernel handles every layer: threads over
// (output columns, channel), channels fastest, so a warp reads consecutive channels of input
// pixels and the matching consecutive weights: every access is coalesced, if only 2 or 4 bytes
// wide.
#include <algorithm>

#include "engine/cuda/ops/common.cuh"
#include "engine/cuda/ops/depthwise_params.h"
#include "engine/cuda/ops/window_geometry.h"

namespace facepipe::engine::cuda {

namespace {

// One block row per output row (n, oy): threads walk (4 output columns, oc) with oc fastest, so a
// thread's index arithmetic and weight loads serve four outputs; square 3x3 and 5x5 windows are
// unrolled (KS), others loop (KS = 0).
constexpr int kVX = kDwColumns;

template <typename T, int KS>
__global__ void depthwise_kernel(const DwParams p) {
  await_inputs();
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  const int groups = (p.OW + kVX - 1) / kVX;
  if (idx >= groups * p.OC) return;
  const T* __restrict__ x = static_cast<const T*>(p.x);
  const T* __restrict__ w = static_cast<const T*>(p.w);
  const int oc = idx % p.OC;
  const int ox0 = (idx / p.OC) * kVX;
  const int ic = p.multiplier == 1 ? oc : oc / p.multiplier;
  const int kh = KS ? KS : p.KH, kw = KS ? KS : p.KW;
  for (int row = blockIdx.y; row < p.rows; row += gridDim.y) {
    const int oy = row % p.OH;
    const int n = row / p.OH;
    const int iy0 = oy * p.SH - p.PT;
    const T* xn = x + static_cast<int64_t>(n) * p.H * p.W * p.C + ic;
    float acc[kVX] = {};
#pragma unroll
    for (int ky = 0; ky < kh; ++ky) {  // kh, kw are compile-time constants when KS != 0
      const int iy = iy0 + ky * p.DH;
      if (iy < 0 || iy >= p.H) continue;
      const T* xrow = xn + static_cast<int64_t>(iy) * p.W * p.C;
#pragma unroll
      for (int kx = 0; kx < kw; ++kx) {
        const float wv = load_f32(w, (ky * kw + kx) * p.OC + oc);
#pragma unroll
        for (int j = 0; j < kVX; ++j) {
          const int ix = (ox0 + j) * p.SW - p.PL + kx * p.DW;
          if (ix >= 0 && ix < p.W) acc[j] = fmaf(load_f32(xrow, ix * p.C), wv, acc[j]);
        }
      }
    }
#pragma unroll
    for (int j = 0; j < kVX; ++j) {
      if (ox0 + j >= p.OW) break;
      const int64_t i = (static_cast<int64_t>(row) * p.OW + ox0 + j) * p.OC + oc;
      store_f32(static_cast<T*>(p.y), i, apply_epilogue<T>(p.epi, acc[j], oc, i));
    }
  }
}

template <typename T>
void launch_typed(const DwParams& p, cudaStream_t stream) {
  constexpr int kThreads = 256;
  const int64_t per_row = static_cast<int64_t>((p.OW + kVX - 1) / kVX) * p.OC;
  const dim3 grid(grid_for(per_row, kThreads), static_cast<unsigned>(std::min(p.rows, 65535)));
  if (p.KH == 3 && p.KW == 3) launch(depthwise_kernel<T, 3>, grid, kThreads, stream, p);
  else if (p.KH == 5 && p.KW == 5) launch(depthwise_kernel<T, 5>, grid, kThreads, stream, p);
  else launch(depthwise_kernel<T, 0>, grid, kThreads, stream, p);
}

Status launch_depthwise(const DwParams& p, cudaStream_t stream) {
  if (p.total == 0) return Status::ok();
  if (p.vec) {
    launch_depthwise_vec(p, stream);
    return launch_status();
  }
  if (p.storage == DType::kF16) launch_typed<__half>(p, stream);
  else launch_typed<float>(p, stream);
  return launch_status();
}

}  // namespace

std::unique_ptr<CudaKernel> make_depthwise_kernel(const KernelArgs& args) {
  const Op& op = args.op;
  const TensorView& x = args.inputs[0];
  const TensorView& w = args.inputs[1];
  const TensorView& y = args.outputs[0];
  require_float_tensors(op, x, y, &w);
  const ConvAttrs& a = op.as<ConvAttrs>();
  DwParams p;
  p.x = x.data;
  p.w = w.data;
  p.y = y.data;
  p.storage = x.dtype;
  set_window_geometry(p, a, x, w, y);
  p.multiplier = a.depth_multiplier;
  p.total = static_cast<int>(y.num_elements());
  p.rows = static_cast<int>(y.shape[0] * y.shape[1]);
  auto kernel = std::make_unique<LaunchKernel<DwParams>>(p, &launch_depthwise);
  build_epilogue(args, p.OC, a.activation, a.activation_alpha, kernel->params().epi, *kernel);
  plan_depthwise_vec(kernel->params());  // after the epilogue: the residual's alignment counts
  return kernel;
}

}  // namespace facepipe::engine::cuda
