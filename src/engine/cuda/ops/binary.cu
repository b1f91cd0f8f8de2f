// Elementwise binary ops with numpy broadcasting and a fused activation (f32/f16 storage, f32
// math; i32/i64 without activation, wrapping like the reference), and PRelu as the binary op
// x < 0 ? alpha * x : x with alpha broadcast. One thread per output element; the broadcast is
// collapsed at plan time (broadcast.h) so the common bias-like and same-shape cases cost one or
// two divisions per element.
#include <type_traits>

#include "engine/cuda/ops/broadcast.h"
#include "engine/cuda/ops/common.cuh"

namespace facepipe::engine::cuda {

namespace {

enum class BinOp : uint8_t { kAdd, kSub, kMul, kDiv, kSquaredDifference, kMaximum, kMinimum, kPRelu };

struct BinaryParams {
  const void* a = nullptr;
  const void* b = nullptr;
  void* y = nullptr;
  int total = 0;
  BroadcastIndex index;
  BinOp op = BinOp::kAdd;
  Activation act = Activation::kNone;
  float alpha = 0.f;
  DType dtype = DType::kF32;
};

__device__ __forceinline__ float apply_float(BinOp op, float x, float y) {
  switch (op) {
    case BinOp::kAdd: return x + y;
    case BinOp::kSub: return x - y;
    case BinOp::kMul: return x * y;
    case BinOp::kDiv: return x / y;
    case BinOp::kSquaredDifference: return (x - y) * (x - y);
    case BinOp::kMaximum: return fmaxf(x, y);
    case BinOp::kMinimum: return fminf(x, y);
    case BinOp::kPRelu: return x < 0.f ? y * x : x;
  }
  return 0.f;
}

template <typename I>
__device__ __forceinline__ I apply_int(BinOp op, I x, I y) {
  using U = std::make_unsigned_t<I>;
  switch (op) {
    case BinOp::kAdd: return static_cast<I>(static_cast<U>(x) + static_cast<U>(y));
    case BinOp::kSub: return static_cast<I>(static_cast<U>(x) - static_cast<U>(y));
    case BinOp::kMul: return static_cast<I>(static_cast<U>(x) * static_cast<U>(y));
    case BinOp::kDiv: return y == 0 ? I(0) : (y == I(-1) ? static_cast<I>(U(0) - static_cast<U>(x)) : x / y);
    case BinOp::kSquaredDifference: {
      const U d = static_cast<U>(x) - static_cast<U>(y);
      return static_cast<I>(d * d);
    }
    case BinOp::kMaximum: return x < y ? y : x;
    case BinOp::kMinimum: return y < x ? y : x;
    case BinOp::kPRelu: return x < 0 ? static_cast<I>(static_cast<U>(x) * static_cast<U>(y)) : x;
  }
  return 0;
}

template <typename T>
__global__ void binary_kernel(const BinaryParams p) {
  await_inputs();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= p.total) return;
  int ia = 0, ib = 0, rest = i;
  for (int d = p.index.rank - 1; d >= 0; --d) {
    const int coord = rest % p.index.dims[d];
    rest /= p.index.dims[d];
    ia += coord * p.index.a_strides[d];
    ib += coord * p.index.b_strides[d];
  }
  const T* a = static_cast<const T*>(p.a);
  const T* b = static_cast<const T*>(p.b);
  T* y = static_cast<T*>(p.y);
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, __half>) {
    store_f32(y, i, activate(apply_float(p.op, load_f32(a, ia), load_f32(b, ib)), p.act, p.alpha));
  } else {
    y[i] = apply_int<T>(p.op, a[ia], b[ib]);
  }
}

Status launch_binary(const BinaryParams& p, cudaStream_t stream) {
  if (p.total == 0) return Status::ok();
  constexpr int kThreads = 256;
  const unsigned grid = grid_for(p.total, kThreads);
  switch (p.dtype) {
    case DType::kF32: launch(binary_kernel<float>, grid, kThreads, stream, p); break;
    case DType::kF16: launch(binary_kernel<__half>, grid, kThreads, stream, p); break;
    case DType::kI32: launch(binary_kernel<int32_t>, grid, kThreads, stream, p); break;
    case DType::kI64: launch(binary_kernel<int64_t>, grid, kThreads, stream, p); break;
    default: return Status::error(StatusCode::kUnsupported, "binary op dtype");
  }
  return launch_status();
}

BinOp bin_op(OpType t) {
  switch (t) {
    case OpType::kAdd: return BinOp::kAdd;
    case OpType::kSub: return BinOp::kSub;
    case OpType::kMul: return BinOp::kMul;
    case OpType::kDiv: return BinOp::kDiv;
    case OpType::kSquaredDifference: return BinOp::kSquaredDifference;
    case OpType::kMaximum: return BinOp::kMaximum;
    case OpType::kMinimum: return BinOp::kMinimum;
    default: return BinOp::kPRelu;
  }
}

}  // namespace

std::unique_ptr<CudaKernel> make_binary_kernel(const KernelArgs& args) {
  const Op& op = args.op;
  const TensorView& a = args.inputs[0];
  const TensorView& b = args.inputs[1];
  const TensorView& y = args.outputs[0];
  if (a.dtype != b.dtype || y.dtype != a.dtype) unsupported(op, "operands and output must share one dtype");
  if (a.dtype != DType::kF32 && a.dtype != DType::kF16 && a.dtype != DType::kI32 && a.dtype != DType::kI64) {
    unsupported(op, "binary ops support f32, f16, i32 and i64");
  }
  require_int32_elements(op, y.num_elements());
  BinaryParams p;
  p.a = a.data;
  p.b = b.data;
  p.y = y.data;
  p.total = static_cast<int>(y.num_elements());
  p.index = collapse_broadcast(y.shape, a.shape, b.shape);
  p.op = bin_op(op.type);
  p.dtype = a.dtype;
  if (const auto* attrs = std::get_if<BinaryAttrs>(&op.attrs)) {
    p.act = attrs->activation;
    p.alpha = attrs->activation_alpha;
  }
  if (p.act != Activation::kNone && !is_float_storage(a.dtype)) unsupported(op, "fused activation on integers");
  return std::make_unique<LaunchKernel<BinaryParams>>(p, &launch_binary);
}

}  // namespace facepipe::engine::cuda
