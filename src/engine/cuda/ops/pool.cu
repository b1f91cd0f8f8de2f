// MaxPool2D / AvgPool2D (NHWC) with a fused activation. One thread per output element, channels
// fastest. Taps in the padding are skipped: they are neither max candidates nor part of the
// average's divisor (TFLite, ONNX count_include_pad = 0), as in the reference.
#include <cfloat>

#include "engine/cuda/ops/common.cuh"
#include "engine/plan/shape_inference.h"

namespace facepipe::engine::cuda {

namespace {

struct PoolParams {
  const void* x = nullptr;
  void* y = nullptr;
  int H = 0, W = 0, C = 0, OH = 0, OW = 0;
  int FH = 1, FW = 1, SH = 1, SW = 1, PT = 0, PL = 0;
  int total = 0;
  bool is_max = true;
  Activation act = Activation::kNone;
  float alpha = 0.f;
  DType storage = DType::kF32;
};

template <typename T>
__global__ void pool_kernel(const PoolParams p) {
  await_inputs();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= p.total) return;
  const T* __restrict__ x = static_cast<const T*>(p.x);
  const int c = i % p.C;
  int t = i / p.C;
  const int ox = t % p.OW;
  t /= p.OW;
  const int oy = t % p.OH;
  const int n = t / p.OH;
  const T* xn = x + static_cast<int64_t>(n) * p.H * p.W * p.C + c;
  float sum = 0.f, best = -FLT_MAX;
  int count = 0;
  for (int ky = 0; ky < p.FH; ++ky) {
    const int iy = oy * p.SH - p.PT + ky;
    if (iy < 0 || iy >= p.H) continue;
    for (int kx = 0; kx < p.FW; ++kx) {
      const int ix = ox * p.SW - p.PL + kx;
      if (ix < 0 || ix >= p.W) continue;
      const float v = load_f32(xn, (iy * p.W + ix) * p.C);
      sum += v;
      best = fmaxf(best, v);
      ++count;
    }
  }
  const float v = count == 0 ? 0.f : (p.is_max ? best : sum / static_cast<float>(count));
  store_f32(static_cast<T*>(p.y), i, activate(v, p.act, p.alpha));
}

Status launch_pool(const PoolParams& p, cudaStream_t stream) {
  if (p.total == 0) return Status::ok();
  constexpr int kThreads = 256;
  if (p.storage == DType::kF16) launch(pool_kernel<__half>, grid_for(p.total, kThreads), kThreads, stream, p);
  else launch(pool_kernel<float>, grid_for(p.total, kThreads), kThreads, stream, p);
  return launch_status();
}

}  // namespace

std::unique_ptr<CudaKernel> make_pool_kernel(const KernelArgs& args) {
  const Op& op = args.op;
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  require_float_tensors(op, x, y);
  const PoolAttrs* a = std::get_if<PoolAttrs>(&op.attrs);
  if (!a) unsupported(op, "missing pool attributes");
  const Padding pad = resolve_padding(a->padding, x.shape[1], x.shape[2], a->filter_h, a->filter_w, a->stride_h,
                                      a->stride_w, 1, 1);
  PoolParams p;
  p.x = x.data;
  p.y = y.data;
  p.H = static_cast<int>(x.shape[1]);
  p.W = static_cast<int>(x.shape[2]);
  p.C = static_cast<int>(x.shape[3]);
  p.OH = static_cast<int>(y.shape[1]);
  p.OW = static_cast<int>(y.shape[2]);
  p.FH = a->filter_h;
  p.FW = a->filter_w;
  p.SH = a->stride_h;
  p.SW = a->stride_w;
  p.PT = static_cast<int>(pad.top);
  p.PL = static_cast<int>(pad.left);
  p.total = static_cast<int>(y.num_elements());
  p.is_max = op.type == OpType::kMaxPool2D;
  p.act = a->activation;
  p.alpha = a->activation_alpha;
  p.storage = x.dtype;
  return std::make_unique<LaunchKernel<PoolParams>>(p, &launch_pool);
}

}  // namespace facepipe::engine::cuda
