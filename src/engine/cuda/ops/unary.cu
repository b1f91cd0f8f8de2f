// Elementwise unary ops (f32/f16 storage, f32 math; Neg also on i32/i64), and conversions between
// f32, f16, i32 and i64: Cast, Dequantize (f16 -> float), and the plan's f32 <-> f16 conversion of
// its inputs and outputs. Float -> integer truncates toward zero, saturates, and maps NaN to 0, as
// the reference does.
#include <type_traits>

#include "engine/cuda/ops/common.cuh"

namespace facepipe::engine::cuda {

namespace {

struct UnaryParams {
  const void* x = nullptr;
  void* y = nullptr;
  int total = 0;
  OpType op = OpType::kRelu;
  float alpha = 0.f;
  DType dtype = DType::kF32;
};

template <typename T>
__global__ void unary_kernel(const UnaryParams p) {
  await_inputs();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= p.total) return;
  const T* x = static_cast<const T*>(p.x);
  T* y = static_cast<T*>(p.y);
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    y[i] = static_cast<T>(U(0) - static_cast<U>(x[i]));  // Neg, wrapping
  } else {
    const float v = load_f32(x, i);
    float r = 0.f;
    switch (p.op) {
      case OpType::kRelu: r = activate(v, Activation::kRelu, 0.f); break;
      case OpType::kRelu6: r = activate(v, Activation::kRelu6, 0.f); break;
      case OpType::kLeakyRelu: r = activate(v, Activation::kLeakyRelu, p.alpha); break;
      case OpType::kLogistic: r = activate(v, Activation::kSigmoid, 0.f); break;
      case OpType::kTanh: r = tanhf(v); break;
      case OpType::kNeg: r = -v; break;
      case OpType::kSqrt: r = sqrtf(v); break;
      case OpType::kRsqrt: r = 1.f / sqrtf(v); break;
      case OpType::kExp: r = expf(v); break;
      default: break;
    }
    store_f32(y, i, r);
  }
}

template <typename T> __device__ __forceinline__ double to_double(T v) {
  if constexpr (std::is_same_v<T, __half>) return static_cast<double>(__half2float(v));
  else return static_cast<double>(v);
}

template <typename I> __device__ __forceinline__ I saturate(double v) {
  // The integer's range as doubles (2^31 and 2^63 are exact); written out because numeric_limits
  // is not callable from device code without relaxed constexpr.
  constexpr bool k64 = sizeof(I) == 8;
  const double lo = k64 ? -9223372036854775808.0 : -2147483648.0;
  const double hi = k64 ? 9223372036854775808.0 : 2147483648.0;
  if (v != v) return 0;
  if (v <= lo) return static_cast<I>(k64 ? INT64_MIN : INT32_MIN);
  if (v >= hi) return static_cast<I>(k64 ? INT64_MAX : INT32_MAX);
  return static_cast<I>(v);
}

template <typename S, typename D>
__global__ void convert_kernel(const S* __restrict__ x, D* __restrict__ y, int n) {
  await_inputs();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if constexpr (std::is_same_v<D, __half>) {
    if constexpr (std::is_integral_v<S>) y[i] = __float2half_rn(static_cast<float>(x[i]));
    else y[i] = __float2half_rn(static_cast<float>(to_double(x[i])));
  } else if constexpr (std::is_same_v<D, float>) {
    if constexpr (std::is_integral_v<S>) y[i] = static_cast<float>(x[i]);
    else y[i] = static_cast<float>(to_double(x[i]));
  } else if constexpr (std::is_integral_v<S>) {
    y[i] = static_cast<D>(x[i]);  // i64 -> i32 keeps the low bits
  } else {
    y[i] = saturate<D>(to_double(x[i]));
  }
}

template <typename S>
Status launch_convert_from(const S* x, void* y, DType dst, int n, cudaStream_t stream) {
  constexpr int kThreads = 256;
  const unsigned grid = grid_for(n, kThreads);
  switch (dst) {
    case DType::kF32: launch(convert_kernel<S, float>, grid, kThreads, stream, x, static_cast<float*>(y), n); break;
    case DType::kF16: launch(convert_kernel<S, __half>, grid, kThreads, stream, x, static_cast<__half*>(y), n); break;
    case DType::kI32: launch(convert_kernel<S, int32_t>, grid, kThreads, stream, x, static_cast<int32_t*>(y), n); break;
    case DType::kI64: launch(convert_kernel<S, int64_t>, grid, kThreads, stream, x, static_cast<int64_t*>(y), n); break;
    default: return Status::error(StatusCode::kUnsupported, "conversion target dtype");
  }
  return launch_status();
}

Status launch_unary(const UnaryParams& p, cudaStream_t stream) {
  if (p.total == 0) return Status::ok();
  constexpr int kThreads = 256;
  const unsigned grid = grid_for(p.total, kThreads);
  switch (p.dtype) {
    case DType::kF32: launch(unary_kernel<float>, grid, kThreads, stream, p); break;
    case DType::kF16: launch(unary_kernel<__half>, grid, kThreads, stream, p); break;
    case DType::kI32: launch(unary_kernel<int32_t>, grid, kThreads, stream, p); break;
    case DType::kI64: launch(unary_kernel<int64_t>, grid, kThreads, stream, p); break;
    default: return Status::error(StatusCode::kUnsupported, "unary dtype");
  }
  return launch_status();
}

struct ConvertParams {
  const void* x = nullptr;
  void* y = nullptr;
  DType from = DType::kF32, to = DType::kF32;
  int64_t total = 0;
};

Status launch_convert_op(const ConvertParams& p, cudaStream_t stream) {
  return launch_convert(p.x, p.from, p.y, p.to, p.total, stream);
}

bool convertible(DType d) { return d == DType::kF32 || d == DType::kF16 || d == DType::kI32 || d == DType::kI64; }

}  // namespace

Status launch_convert(const void* src, DType src_type, void* dst, DType dst_type, int64_t n, cudaStream_t stream) {
  if (n == 0) return Status::ok();
  const int count = static_cast<int>(n);
  switch (src_type) {
    case DType::kF32: return launch_convert_from(static_cast<const float*>(src), dst, dst_type, count, stream);
    case DType::kF16: return launch_convert_from(static_cast<const __half*>(src), dst, dst_type, count, stream);
    case DType::kI32: return launch_convert_from(static_cast<const int32_t*>(src), dst, dst_type, count, stream);
    case DType::kI64: return launch_convert_from(static_cast<const int64_t*>(src), dst, dst_type, count, stream);
    default: return Status::error(StatusCode::kUnsupported, "conversion source dtype");
  }
}

std::unique_ptr<CudaKernel> make_unary_kernel(const KernelArgs& args) {
  const Op& op = args.op;
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  require_int32_elements(op, y.num_elements());
  if (op.type == OpType::kCast || op.type == OpType::kDequantize) {
    if (!convertible(x.dtype) || !convertible(y.dtype)) unsupported(op, "Cast supports f32, f16, i32 and i64");
    if (op.type == OpType::kDequantize && !is_float_storage(x.dtype)) unsupported(op, "Dequantize of f16 only");
    return std::make_unique<LaunchKernel<ConvertParams>>(ConvertParams{x.data, y.data, x.dtype, y.dtype, y.num_elements()},
                                                         &launch_convert_op);
  }
  if (y.dtype != x.dtype) unsupported(op, "input and output dtypes differ");
  const bool integer_neg = op.type == OpType::kNeg && (x.dtype == DType::kI32 || x.dtype == DType::kI64);
  if (!is_float_storage(x.dtype) && !integer_neg) unsupported(op, "unary ops support f32/f16 (Neg also i32/i64)");
  UnaryParams p;
  p.x = x.data;
  p.y = y.data;
  p.total = static_cast<int>(y.num_elements());
  p.op = op.type;
  p.dtype = x.dtype;
  if (const auto* a = std::get_if<LeakyReluAttrs>(&op.attrs)) p.alpha = a->alpha;
  else if (op.type == OpType::kLeakyRelu) p.alpha = LeakyReluAttrs{}.alpha;
  return std::make_unique<LaunchKernel<UnaryParams>>(p, &launch_unary);
}

}  // namespace facepipe::engine::cuda
