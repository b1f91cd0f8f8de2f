// Elementwise ops: binary with numpy broadcasting (f32, i32, i64), unary (f32; Neg also on ints),
// PRelu, Cast and Dequantize.
#include <limits>
#include <type_traits>

#include "common/half.h"
#include "engine/cpu/reference/reference_common.h"

namespace facepipe::engine::cpu::ref {

namespace {

// a+b, a-b, a*b. Integers wrap around (two's complement) instead of being undefined on overflow:
// shape arithmetic never overflows, and a wrapped value is easier to diagnose than UB.
template <typename T> T arith(OpType op, T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return op == OpType::kAdd ? a + b : op == OpType::kSub ? a - b : a * b;
  } else {
    using U = std::make_unsigned_t<T>;
    const U ua = static_cast<U>(a), ub = static_cast<U>(b);
    return static_cast<T>(op == OpType::kAdd ? ua + ub : op == OpType::kSub ? ua - ub : ua * ub);
  }
}

template <typename T> Status binary_typed(const Op& op, Inputs in, const TensorView& out) {
  const BinaryAttrs& attrs = attrs_of<BinaryAttrs>(op);
  constexpr bool kFloat = std::is_floating_point_v<T>;
  if (!kFloat && attrs.activation != Activation::kNone) {
    return unsupported("reference binary ops fuse activations on f32 only");
  }
  const TensorView& a = in[0];
  const TensorView& b = in[1];
  const DimArray sa = row_major_strides(a.shape), sb = row_major_strides(b.shape);
  const T* pa = a.as<const T>();
  const T* pb = b.as<const T>();
  T* po = out.as<T>();
  IndexCounter it(out.shape);
  for (int64_t o = 0; o < out.num_elements(); ++o, it.next()) {
    const T x = pa[broadcast_offset(a.shape, sa, out.shape.rank(), it.index())];
    const T y = pb[broadcast_offset(b.shape, sb, out.shape.rank(), it.index())];
    T r{};
    switch (op.type) {
      case OpType::kAdd:
      case OpType::kSub:
      case OpType::kMul: r = arith(op.type, x, y); break;
      case OpType::kDiv:
        if constexpr (!kFloat) {
          // C++ (and ONNX Runtime) integer division truncates toward zero. Division by zero and
          // MIN / -1 have no value: report instead of trapping.
          if (y == 0) return Status::error(StatusCode::kInvalidArgument, "integer division by zero");
          if (x == std::numeric_limits<T>::min() && y == -1) {
            return Status::error(StatusCode::kOutOfRange, "integer division overflows");
          }
        }
        r = x / y;
        break;
      case OpType::kSquaredDifference: {
        const T d = arith(OpType::kSub, x, y);
        r = arith(OpType::kMul, d, d);
        break;
      }
      case OpType::kMaximum: r = x < y ? y : x; break;
      case OpType::kMinimum: r = y < x ? y : x; break;
      default: return unsupported("not a binary op");
    }
    if constexpr (kFloat) r = activate(r, attrs.activation, attrs.activation_alpha);
    po[o] = r;
  }
  return Status::ok();
}

}  // namespace

Status binary(const Op& op, Inputs in, const TensorView& out) {
  switch (in[0].dtype) {
    case DType::kF32: return binary_typed<float>(op, in, out);
    case DType::kI32: return binary_typed<int32_t>(op, in, out);
    case DType::kI64: return binary_typed<int64_t>(op, in, out);
    default: return unsupported("reference binary ops support f32, i32 and i64");
  }
}

Status unary(const Op& op, Inputs in, const TensorView& out) {
  const TensorView& x = in[0];
  const int64_t n = x.num_elements();
  if (op.type == OpType::kNeg && (x.dtype == DType::kI32 || x.dtype == DType::kI64)) {
    for (int64_t i = 0; i < n; ++i) {
      if (x.dtype == DType::kI32) out.as<int32_t>()[i] = arith<int32_t>(OpType::kSub, 0, x.as<const int32_t>()[i]);
      else out.as<int64_t>()[i] = arith<int64_t>(OpType::kSub, 0, x.as<const int64_t>()[i]);
    }
    return Status::ok();
  }
  if (x.dtype != DType::kF32) return unsupported("reference unary ops support f32 (Neg also i32/i64)");
  const float alpha = attrs_of<LeakyReluAttrs>(op).alpha;
  const float* px = x.as<const float>();
  float* po = out.as<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float v = px[i];
    const double d = v;  // transcendental functions in double, rounded once
    float r = 0.f;
    switch (op.type) {
      case OpType::kRelu: r = activate(v, Activation::kRelu, 0.f); break;
      case OpType::kRelu6: r = activate(v, Activation::kRelu6, 0.f); break;
      case OpType::kLeakyRelu: r = activate(v, Activation::kLeakyRelu, alpha); break;
      case OpType::kLogistic: r = static_cast<float>(1.0 / (1.0 + std::exp(-d))); break;
      case OpType::kTanh: r = static_cast<float>(std::tanh(d)); break;
      case OpType::kNeg: r = -v; break;
      case OpType::kSqrt: r = static_cast<float>(std::sqrt(d)); break;
      case OpType::kRsqrt: r = static_cast<float>(1.0 / std::sqrt(d)); break;
      case OpType::kExp: r = static_cast<float>(std::exp(d)); break;
      default: return unsupported("not a unary op");
    }
    po[i] = r;
  }
  return Status::ok();
}

Status prelu(const Op&, Inputs in, const TensorView& out) {
  const TensorView& x = in[0];
  const TensorView& alpha = in[1];
  if (x.dtype != DType::kF32 || alpha.dtype != DType::kF32) return unsupported("reference PRelu supports f32 only");
  const DimArray sa = row_major_strides(alpha.shape);
  IndexCounter it(out.shape);
  for (int64_t o = 0; o < out.num_elements(); ++o, it.next()) {
    const float v = x.as<const float>()[o];
    const float s = alpha.as<const float>()[broadcast_offset(alpha.shape, sa, out.shape.rank(), it.index())];
    out.as<float>()[o] = v < 0.f ? s * v : v;
  }
  return Status::ok();
}

namespace {

// float -> integer: truncation toward zero (C++, ONNX Cast). Out-of-range values saturate and NaN
// becomes 0, where a plain static_cast would be undefined behaviour.
template <typename I> I float_to_int(double v) {
  if (std::isnan(v)) return 0;
  if (v <= static_cast<double>(std::numeric_limits<I>::min())) return std::numeric_limits<I>::min();
  if (v >= static_cast<double>(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
  return static_cast<I>(v);
}

// Reads element i of a numeric tensor as double (f16/f32) or int64 (i32/i64).
double load_float(const TensorView& t, int64_t i) {
  return t.dtype == DType::kF32 ? t.as<const float>()[i] : half_to_float(t.as<const uint16_t>()[i]);
}
int64_t load_int(const TensorView& t, int64_t i) {
  return t.dtype == DType::kI32 ? t.as<const int32_t>()[i] : t.as<const int64_t>()[i];
}
bool is_float(DType d) { return d == DType::kF32 || d == DType::kF16; }
bool is_int(DType d) { return d == DType::kI32 || d == DType::kI64; }

}  // namespace

Status cast(const Op&, Inputs in, const TensorView& out) {
  const TensorView& x = in[0];
  const DType from = x.dtype, to = out.dtype;
  if (!(is_float(from) || is_int(from)) || !(is_float(to) || is_int(to))) {
    return unsupported("reference Cast supports f32, f16, i32 and i64");
  }
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    switch (to) {
      case DType::kF32:
        out.as<float>()[i] = is_float(from) ? static_cast<float>(load_float(x, i)) : static_cast<float>(load_int(x, i));
        break;
      case DType::kF16:
        out.as<uint16_t>()[i] = float_to_half(is_float(from) ? static_cast<float>(load_float(x, i))
                                                             : static_cast<float>(load_int(x, i)));
        break;
      case DType::kI32:
        // i64 -> i32 keeps the low 32 bits (two's complement), as numpy's astype does.
        out.as<int32_t>()[i] = is_float(from) ? float_to_int<int32_t>(load_float(x, i))
                                              : static_cast<int32_t>(load_int(x, i));
        break;
      case DType::kI64:
        out.as<int64_t>()[i] = is_float(from) ? float_to_int<int64_t>(load_float(x, i)) : load_int(x, i);
        break;
      default: return unsupported("reference Cast supports f32, f16, i32 and i64");
    }
  }
  return Status::ok();
}

Status dequantize(const Op&, Inputs in, const TensorView& out) {
  if (in[0].dtype != DType::kF16) return unsupported("reference Dequantize supports f16 input only");
  for (int64_t i = 0; i < in[0].num_elements(); ++i) out.as<float>()[i] = half_to_float(in[0].as<const uint16_t>()[i]);
  return Status::ok();
}

}  // namespace facepipe::engine::cpu::ref
