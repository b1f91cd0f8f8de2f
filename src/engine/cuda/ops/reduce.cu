// Mean and Sum over any set of axes, Softmax along one axis, LayerNorm over the last axis (f32/f16
// storage).
// Reductions: one block of 128 threads per output element, each thread summing a strided share of
// the reduced elements in double, then a shared-memory tree: the blendshape MLP's reductions are
// short (tens to hundreds of elements) and few, so this is about launch latency, not bandwidth.
// Softmax: one thread per row (the rows of these networks are 2..a few hundred long), max-subtracted
// so exp never overflows, f32 math.
#include <cfloat>

#include "engine/cuda/ops/common.cuh"
#include "engine/plan/op_geometry.h"

namespace facepipe::engine::cuda {

namespace {

constexpr int kReduceThreads = 128;

struct ReduceParams {
  const void* x = nullptr;
  void* y = nullptr;
  int outputs = 0;
  int count = 0;  // reduced elements per output
  int kept_rank = 0, red_rank = 0;
  int32_t kept_dims[kMaxRank] = {}, kept_strides[kMaxRank] = {};
  int32_t red_dims[kMaxRank] = {}, red_strides[kMaxRank] = {};
  bool mean = true;
  DType storage = DType::kF32;
};

template <typename T>
__global__ void __launch_bounds__(kReduceThreads) reduce_kernel(const ReduceParams p) {
  await_inputs();
  const int o = blockIdx.x;
  int base = 0, rest = o;
  for (int d = p.kept_rank - 1; d >= 0; --d) {
    base += (rest % p.kept_dims[d]) * p.kept_strides[d];
    rest /= p.kept_dims[d];
  }
  const T* x = static_cast<const T*>(p.x);
  double sum = 0.0;
  for (int k = threadIdx.x; k < p.count; k += kReduceThreads) {
    int offset = base, r = k;
    for (int d = p.red_rank - 1; d >= 0; --d) {
      offset += (r % p.red_dims[d]) * p.red_strides[d];
      r /= p.red_dims[d];
    }
    sum += static_cast<double>(load_f32(x, offset));
  }
  __shared__ double partial[kReduceThreads];
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int s = kReduceThreads / 2; s > 0; s /= 2) {
    if (static_cast<int>(threadIdx.x) < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const double v = p.mean ? partial[0] / static_cast<double>(p.count) : partial[0];
    store_f32(static_cast<T*>(p.y), o, static_cast<float>(v));
  }
}

Status launch_reduce(const ReduceParams& p, cudaStream_t stream) {
  if (p.outputs == 0) return Status::ok();
  if (p.storage == DType::kF16) launch(reduce_kernel<__half>, p.outputs, kReduceThreads, stream, p);
  else launch(reduce_kernel<float>, p.outputs, kReduceThreads, stream, p);
  return launch_status();
}

struct SoftmaxParams {
  const void* x = nullptr;
  void* y = nullptr;
  int rows = 0;  // outer * inner
  int len = 0, inner = 0;
  float beta = 1.f;
  DType storage = DType::kF32;
};

template <typename T>
__global__ void softmax_kernel(const SoftmaxParams p) {
  await_inputs();
  const int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= p.rows) return;
  const int o = r / p.inner, i = r % p.inner;
  const int64_t start = static_cast<int64_t>(o) * p.len * p.inner + i;
  const T* x = static_cast<const T*>(p.x) + start;
  T* y = static_cast<T*>(p.y) + start;
  float max = -FLT_MAX;
  for (int k = 0; k < p.len; ++k) max = fmaxf(max, p.beta * load_f32(x, static_cast<int64_t>(k) * p.inner));
  float sum = 0.f;
  for (int k = 0; k < p.len; ++k) sum += expf(p.beta * load_f32(x, static_cast<int64_t>(k) * p.inner) - max);
  const float inv = 1.f / sum;
  for (int k = 0; k < p.len; ++k) {
    const int64_t j = static_cast<int64_t>(k) * p.inner;
    store_f32(y, j, expf(p.beta * load_f32(x, j) - max) * inv);
  }
}

Status launch_softmax(const SoftmaxParams& p, cudaStream_t stream) {
  if (p.rows == 0 || p.len == 0) return Status::ok();
  constexpr int kThreads = 128;
  if (p.storage == DType::kF16) launch(softmax_kernel<__half>, grid_for(p.rows, kThreads), kThreads, stream, p);
  else launch(softmax_kernel<float>, grid_for(p.rows, kThreads), kThreads, stream, p);
  return launch_status();
}

// LayerNorm: a warp per row of the last axis; two passes over the row (mean, then the centred
// variance, as the reference does) with shuffle reductions, then the affine part.
struct LayerNormParams {
  const void* x = nullptr;
  void* y = nullptr;
  const float* gamma = nullptr;  // f32 device copies of the plan-time vectors (or nullptr)
  const float* beta = nullptr;
  int rows = 0, len = 0;
  float epsilon = 1e-5f;
  DType storage = DType::kF32;
};

constexpr int kLayerNormThreads = 128;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

template <typename T>
__global__ void __launch_bounds__(kLayerNormThreads) layer_norm_kernel(const LayerNormParams p) {
  await_inputs();
  const int row = (blockIdx.x * kLayerNormThreads + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= p.rows) return;  // whole warps leave together: rows are warp-uniform
  const T* x = static_cast<const T*>(p.x) + static_cast<int64_t>(row) * p.len;
  T* y = static_cast<T*>(p.y) + static_cast<int64_t>(row) * p.len;
  float sum = 0.f;
  for (int k = lane; k < p.len; k += 32) sum += load_f32(x, k);
  const float mean = warp_sum(sum) / static_cast<float>(p.len);
  float sq = 0.f;
  for (int k = lane; k < p.len; k += 32) {
    const float d = load_f32(x, k) - mean;
    sq = fmaf(d, d, sq);
  }
  const float inv = rsqrtf(warp_sum(sq) / static_cast<float>(p.len) + p.epsilon);
  for (int k = lane; k < p.len; k += 32) {
    float v = (load_f32(x, k) - mean) * inv;
    if (p.gamma) v *= p.gamma[k];
    if (p.beta) v += p.beta[k];
    store_f32(y, k, v);
  }
}

Status launch_layer_norm(const LayerNormParams& p, cudaStream_t stream) {
  if (p.rows == 0 || p.len == 0) return Status::ok();
  const unsigned grid = grid_for(static_cast<int64_t>(p.rows) * 32, kLayerNormThreads);
  if (p.storage == DType::kF16) launch(layer_norm_kernel<__half>, grid, kLayerNormThreads, stream, p);
  else launch(layer_norm_kernel<float>, grid, kLayerNormThreads, stream, p);
  return launch_status();
}

std::unique_ptr<CudaKernel> make_layer_norm_kernel(const KernelArgs& args) {
  const Op& op = args.op;
  const TensorView& x = args.inputs[0];
  LayerNormParams p;
  p.x = x.data;
  p.y = args.outputs[0].data;
  p.len = static_cast<int>(x.shape[x.shape.rank() - 1]);
  p.rows = p.len ? static_cast<int>(x.num_elements() / p.len) : 0;
  p.storage = x.dtype;
  const auto* a = std::get_if<LayerNormAttrs>(&op.attrs);
  p.epsilon = a ? a->epsilon : LayerNormAttrs{}.epsilon;
  auto kernel = std::make_unique<LaunchKernel<LayerNormParams>>(p, &launch_layer_norm);
  const float* vectors[2] = {nullptr, nullptr};
  for (size_t i = 1; i <= 2 && i < op.inputs.size(); ++i) {
    if (op.inputs[i] < 0) continue;
    const TensorView& h = args.host_inputs[i];
    if (!h.present() || h.dtype != DType::kF32) unsupported(op, "gamma/beta must be f32 constants");
    vectors[i - 1] = static_cast<const float*>(kernel->upload(h.data, static_cast<size_t>(p.len) * 4));
  }
  kernel->params().gamma = vectors[0];
  kernel->params().beta = vectors[1];
  return kernel;
}

}  // namespace

std::unique_ptr<CudaKernel> make_reduce_kernel(const KernelArgs& args) {
  const Op& op = args.op;
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  require_float_tensors(op, x, y);
  if (op.type == OpType::kLayerNorm) return make_layer_norm_kernel(args);
  if (op.type == OpType::kSoftmax) {
    const auto* a = std::get_if<SoftmaxAttrs>(&op.attrs);
    const SoftmaxAttrs attrs = a ? *a : SoftmaxAttrs{};
    const int axis = normalize_axis(attrs.axis, x.shape.rank());
    SoftmaxParams p;
    p.x = x.data;
    p.y = y.data;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= x.shape[d];
    for (int d = axis + 1; d < x.shape.rank(); ++d) inner *= x.shape[d];
    p.rows = static_cast<int>(outer * inner);
    p.len = static_cast<int>(x.shape[axis]);
    p.inner = static_cast<int>(inner);
    p.beta = attrs.beta;
    p.storage = x.dtype;
    return std::make_unique<LaunchKernel<SoftmaxParams>>(p, &launch_softmax);
  }
  const auto* a = std::get_if<ReduceAttrs>(&op.attrs);
  const auto reduced = resolve_reduce_axes(a ? std::span<const int32_t>(a->axes) : std::span<const int32_t>(),
                                           x.shape.rank());
  const DimArray xs = row_major_strides(x.shape);
  ReduceParams p;
  p.x = x.data;
  p.y = y.data;
  p.outputs = static_cast<int>(y.num_elements());
  p.count = 1;
  for (int d = 0; d < x.shape.rank(); ++d) {
    const auto dim = static_cast<int32_t>(x.shape[d]);
    const auto stride = static_cast<int32_t>(xs[static_cast<size_t>(d)]);
    if (reduced[static_cast<size_t>(d)]) {
      p.red_dims[p.red_rank] = dim;
      p.red_strides[p.red_rank++] = stride;
      p.count *= dim;
    } else {
      p.kept_dims[p.kept_rank] = dim;
      p.kept_strides[p.kept_rank++] = stride;
    }
  }
  p.mean = op.type == OpType::kMean;
  p.storage = x.dtype;
  return std::make_unique<LaunchKernel<ReduceParams>>(p, &launch_reduce);
}

}  // namespace facepipe::engine::cuda
