// Internals of the reference ops (src/engine/cpu/reference_ops.cpp dispatches to these). Each
// function may assume run_reference_op already checked that the attributes are of the right kind,
// that required inputs have data and that the output's dtype and shape are what
// infer_output_descs computes; it still checks dtypes, returning kUnsupported for combinations it
// does not implement.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <variant>

#include "common/status.h"
#include "engine/ir/op.h"
#include "engine/ir/tensor_view.h"
#include "engine/plan/op_geometry.h"

namespace facepipe::engine::cpu::ref {

using Inputs = std::span<const TensorView>;

// The attributes of kind T, or T's defaults when the op carries none (monostate).
template <typename T> const T& attrs_of(const Op& op) {
  static const T kDefaults{};
  const T* a = std::get_if<T>(&op.attrs);
  return a ? *a : kDefaults;
}

inline Status unsupported(const char* message) { return Status::error(StatusCode::kUnsupported, message); }

// Walks the row-major index space of a shape: index() is the current multi-index. The caller loops
// num_elements() times and calls next() after each element, so scalars (one element) and empty
// tensors (zero) need no special case.
class IndexCounter {
 public:
  explicit IndexCounter(const Shape& shape) : shape_(shape) {}
  const int64_t* index() const { return index_.data(); }
  int64_t operator[](int d) const { return index_[static_cast<size_t>(d)]; }
  void next() {
    for (int d = shape_.rank() - 1; d >= 0; --d) {
      if (++index_[static_cast<size_t>(d)] < shape_[d]) return;
      index_[static_cast<size_t>(d)] = 0;
    }
  }

 private:
  Shape shape_;
  DimArray index_{};
};

// The fused activations of op.h's Activation enum.
inline float activate(float v, Activation a, float alpha) {
  switch (a) {
    case Activation::kNone: return v;
    case Activation::kRelu: return v < 0.f ? 0.f : v;
    case Activation::kRelu6: return v < 0.f ? 0.f : (v > 6.f ? 6.f : v);
    case Activation::kReluN1To1: return v < -1.f ? -1.f : (v > 1.f ? 1.f : v);
    case Activation::kTanh: return static_cast<float>(std::tanh(static_cast<double>(v)));
    case Activation::kSigmoid: return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(v))));
    case Activation::kLeakyRelu: return v < 0.f ? alpha * v : v;
  }
  return v;
}

// Per-family entry points; `out` is the op's single output.
Status conv2d(const Op& op, Inputs in, const TensorView& out);
Status depthwise_conv2d(const Op& op, Inputs in, const TensorView& out);
Status pool2d(const Op& op, Inputs in, const TensorView& out);
Status binary(const Op& op, Inputs in, const TensorView& out);
Status unary(const Op& op, Inputs in, const TensorView& out);
Status prelu(const Op& op, Inputs in, const TensorView& out);
Status cast(const Op& op, Inputs in, const TensorView& out);
Status dequantize(const Op& op, Inputs in, const TensorView& out);
Status copy_same_order(const Op& op, Inputs in, const TensorView& out);  // Reshape, Squeeze, Unsqueeze
Status transpose(const Op& op, Inputs in, const TensorView& out);
Status concat(const Op& op, Inputs in, const TensorView& out);
Status slice(const Op& op, Inputs in, const TensorView& out);
Status pad(const Op& op, Inputs in, const TensorView& out);
Status gather(const Op& op, Inputs in, const TensorView& out);
Status shape_of(const Op& op, Inputs in, const TensorView& out);
Status resize(const Op& op, Inputs in, const TensorView& out);
Status reduce(const Op& op, Inputs in, const TensorView& out);
Status softmax(const Op& op, Inputs in, const TensorView& out);
Status layer_norm(const Op& op, Inputs in, const TensorView& out);
Status fully_connected(const Op& op, Inputs in, const TensorView& out);

}  // namespace facepipe::engine::cpu::ref
