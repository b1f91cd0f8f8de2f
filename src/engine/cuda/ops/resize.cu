// Resize (NHWC, f32/f16 storage): nearest and bilinear. The source taps of every output row and
// column are computed once at plan time with op_geometry's resize_source_coordinate /
// resize_nearest_index / resize_linear_taps (the functions the reference uses, so rounding ties
// cannot differ) and uploaded as small tables; the kernel only reads and blends.
#include <vector>

#include "engine/cuda/ops/common.cuh"
#include "engine/plan/op_geometry.h"

namespace facepipe::engine::cuda {

namespace {

struct Taps {
  const int32_t* lo = nullptr;
  const int32_t* hi = nullptr;
  const float* frac = nullptr;
};

struct ResizeParams {
  const void* x = nullptr;
  void* y = nullptr;
  int IH = 0, IW = 0, C = 0, OH = 0, OW = 0;
  int total = 0;
  bool bilinear = false;
  Taps rows, cols;
  DType storage = DType::kF32;
};

template <typename T>
__global__ void resize_kernel(const ResizeParams p) {
  await_inputs();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= p.total) return;
  const int c = i % p.C;
  int t = i / p.C;
  const int ox = t % p.OW;
  t /= p.OW;
  const int oy = t % p.OH;
  const int n = t / p.OH;
  const T* x = static_cast<const T*>(p.x) + static_cast<int64_t>(n) * p.IH * p.IW * p.C + c;
  auto at = [&](int y, int xx) { return load_f32(x, (y * p.IW + xx) * p.C); };
  float v;
  if (!p.bilinear) {
    v = at(p.rows.lo[oy], p.cols.lo[ox]);
  } else {
    const float fy = p.rows.frac[oy], fx = p.cols.frac[ox];
    const int y0 = p.rows.lo[oy], y1 = p.rows.hi[oy], x0 = p.cols.lo[ox], x1 = p.cols.hi[ox];
    const float top = (1.f - fx) * at(y0, x0) + fx * at(y0, x1);
    const float bottom = (1.f - fx) * at(y1, x0) + fx * at(y1, x1);
    v = (1.f - fy) * top + fy * bottom;
  }
  store_f32(static_cast<T*>(p.y), i, v);
}

Status launch_resize(const ResizeParams& p, cudaStream_t stream) {
  if (p.total == 0) return Status::ok();
  constexpr int kThreads = 256;
  if (p.storage == DType::kF16) launch(resize_kernel<__half>, grid_for(p.total, kThreads), kThreads, stream, p);
  else launch(resize_kernel<float>, grid_for(p.total, kThreads), kThreads, stream, p);
  return launch_status();
}

// Host tables for one axis: lo[out], hi[out] (int32) then frac[out] (f32), packed.
void axis_taps(const ResizeAttrs& a, int64_t in, int64_t out, float scale, std::vector<int32_t>& lo,
               std::vector<int32_t>& hi, std::vector<float>& frac) {
  for (int64_t o = 0; o < out; ++o) {
    const float s = resize_source_coordinate(a.coordinates, o, in, out, scale);
    if (a.mode == ResizeMode::kNearest) {
      const int64_t idx = resize_nearest_index(a.nearest_rounding, s, in);
      lo.push_back(static_cast<int32_t>(idx));
      hi.push_back(static_cast<int32_t>(idx));
      frac.push_back(0.f);
    } else {
      const LinearTaps t = resize_linear_taps(s, in);
      lo.push_back(static_cast<int32_t>(t.lo));
      hi.push_back(static_cast<int32_t>(t.hi));
      frac.push_back(t.frac);
    }
  }
}

}  // namespace

std::unique_ptr<CudaKernel> make_resize_kernel(const KernelArgs& args) {
  const Op& op = args.op;
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  require_float_tensors(op, x, y);
  const auto* attrs = std::get_if<ResizeAttrs>(&op.attrs);
  const ResizeAttrs a = attrs ? *attrs : ResizeAttrs{};
  ResizeParams p;
  p.x = x.data;
  p.y = y.data;
  p.IH = static_cast<int>(x.shape[1]);
  p.IW = static_cast<int>(x.shape[2]);
  p.C = static_cast<int>(x.shape[3]);
  p.OH = static_cast<int>(y.shape[1]);
  p.OW = static_cast<int>(y.shape[2]);
  p.total = static_cast<int>(y.num_elements());
  p.bilinear = a.mode == ResizeMode::kBilinear;
  p.storage = x.dtype;
  // As the reference: with a size input the scale is out/in, otherwise the attribute's.
  const bool sized = args.inputs.size() > 1 && op.inputs.size() > 1 && op.inputs[1] >= 0;
  const float scale_h = sized ? static_cast<float>(p.OH) / static_cast<float>(p.IH) : a.scale_h;
  const float scale_w = sized ? static_cast<float>(p.OW) / static_cast<float>(p.IW) : a.scale_w;
  std::vector<int32_t> rlo, rhi, clo, chi;
  std::vector<float> rf, cf;
  axis_taps(a, p.IH, p.OH, scale_h, rlo, rhi, rf);
  axis_taps(a, p.IW, p.OW, scale_w, clo, chi, cf);
  auto kernel = std::make_unique<LaunchKernel<ResizeParams>>(p, &launch_resize);
  ResizeParams& kp = kernel->params();
  kp.rows.lo = static_cast<const int32_t*>(kernel->upload(rlo.data(), rlo.size() * 4));
  kp.rows.hi = static_cast<const int32_t*>(kernel->upload(rhi.data(), rhi.size() * 4));
  kp.rows.frac = static_cast<const float*>(kernel->upload(rf.data(), rf.size() * 4));
  kp.cols.lo = static_cast<const int32_t*>(kernel->upload(clo.data(), clo.size() * 4));
  kp.cols.hi = static_cast<const int32_t*>(kernel->upload(chi.data(), chi.size() * 4));
  kp.cols.frac = static_cast<const float*>(kernel->upload(cf.data(), cf.size() * 4));
  return kernel;
}

}  // namespace facepipe::engine::cuda
