// Mean, Sum, Softmax and FullyConnected on f32, accumulating in double.
#include <cmath>
#include <limits>

#include "engine/cpu/reference/reference_common.h"

namespace facepipe::engine::cpu::ref {

Status reduce(const Op& op, Inputs in, const TensorView& out) {
  const TensorView& x = in[0];
  if (x.dtype != DType::kF32) return unsupported("reference Mean/Sum support f32 only");
  const ReduceAttrs& a = attrs_of<ReduceAttrs>(op);
  const auto reduced = resolve_reduce_axes(a.axes, x.shape.rank());
  const DimArray xs = row_major_strides(x.shape);
  // Split the input axes into kept and reduced ones. The output's row-major order is the kept
  // axes' order whether or not keep_dims inserts 1s.
  Shape kept_shape, reduced_shape;
  DimArray kept_stride{}, reduced_stride{};
  for (int d = 0; d < x.shape.rank(); ++d) {
    if (reduced[static_cast<size_t>(d)]) {
      reduced_stride[static_cast<size_t>(reduced_shape.rank())] = xs[static_cast<size_t>(d)];
      reduced_shape.push_back(x.shape[d]);
    } else {
      kept_stride[static_cast<size_t>(kept_shape.rank())] = xs[static_cast<size_t>(d)];
      kept_shape.push_back(x.shape[d]);
    }
  }
  const int64_t count = reduced_shape.num_elements();
  IndexCounter kept(kept_shape);
  for (int64_t o = 0; o < kept_shape.num_elements(); ++o, kept.next()) {
    int64_t base = 0;
    for (int j = 0; j < kept_shape.rank(); ++j) base += kept[j] * kept_stride[static_cast<size_t>(j)];
    double sum = 0;
    IndexCounter r(reduced_shape);
    for (int64_t k = 0; k < count; ++k, r.next()) {
      int64_t offset = base;
      for (int j = 0; j < reduced_shape.rank(); ++j) offset += r[j] * reduced_stride[static_cast<size_t>(j)];
      sum += x.as<const float>()[offset];
    }
    // The mean of nothing is NaN (0/0), as in numpy.
    const double v = op.type == OpType::kMean ? sum / static_cast<double>(count) : sum;
    out.as<float>()[o] = static_cast<float>(v);
  }
  return Status::ok();
}

// Mean and variance in double over each row of the last axis, then the affine part in f32.
Status layer_norm(const Op& op, Inputs in, const TensorView& out) {
  const TensorView& x = in[0];
  if (x.dtype != DType::kF32) return unsupported("reference LayerNorm supports f32 only");
  const float epsilon = attrs_of<LayerNormAttrs>(op).epsilon;
  const int64_t len = x.shape[x.shape.rank() - 1];
  const int64_t rows = len ? x.num_elements() / len : 0;
  const float* gamma = in.size() > 1 && in[1].present() ? in[1].as<const float>() : nullptr;
  const float* beta = in.size() > 2 && in[2].present() ? in[2].as<const float>() : nullptr;
  const float* px = x.as<const float>();
  float* po = out.as<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = px + r * len;
    double sum = 0.0;
    for (int64_t k = 0; k < len; ++k) sum += row[k];
    const double mean = sum / static_cast<double>(len);
    double sq = 0.0;
    for (int64_t k = 0; k < len; ++k) sq += (row[k] - mean) * (row[k] - mean);
    const double inv = 1.0 / std::sqrt(sq / static_cast<double>(len) + epsilon);
    for (int64_t k = 0; k < len; ++k) {
      const float v = static_cast<float>((row[k] - mean) * inv);
      po[r * len + k] = v * (gamma ? gamma[k] : 1.f) + (beta ? beta[k] : 0.f);
    }
  }
  return Status::ok();
}

Status softmax(const Op& op, Inputs in, const TensorView& out) {
  const TensorView& x = in[0];
  if (x.dtype != DType::kF32) return unsupported("reference Softmax supports f32 only");
  const SoftmaxAttrs& a = attrs_of<SoftmaxAttrs>(op);
  const int axis = normalize_axis(a.axis, x.shape.rank());
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.shape[d];
  for (int d = axis + 1; d < x.shape.rank(); ++d) inner *= x.shape[d];
  const int64_t len = x.shape[axis];
  const float* px = x.as<const float>();
  float* po = out.as<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto idx = [&](int64_t k) { return (o * len + k) * inner + i; };
      // Subtracting the largest beta * x keeps exp() <= 1 whatever beta's sign: no overflow.
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < len; ++k) max = std::fmax(max, static_cast<double>(a.beta) * px[idx(k)]);
      double sum = 0;
      for (int64_t k = 0; k < len; ++k) sum += std::exp(static_cast<double>(a.beta) * px[idx(k)] - max);
      for (int64_t k = 0; k < len; ++k) {
        po[idx(k)] = static_cast<float>(std::exp(static_cast<double>(a.beta) * px[idx(k)] - max) / sum);
      }
    }
  return Status::ok();
}

Status fully_connected(const Op& op, Inputs in, const TensorView& out) {
  for (const TensorView& t : in)
    if (t.present() && t.dtype != DType::kF32) return unsupported("reference FullyConnected supports f32 only");
  const FullyConnectedAttrs& a = attrs_of<FullyConnectedAttrs>(op);
  const int64_t n_out = in[1].shape[0], k_in = in[1].shape[1];
  const int64_t rows = in[0].num_elements() / k_in;  // TFLite flattens the input to [rows, K]
  const float* x = in[0].as<const float>();
  const float* w = in[1].as<const float>();  // [N, K]
  const float* bias = in.size() > 2 && in[2].present() ? in[2].as<const float>() : nullptr;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t n = 0; n < n_out; ++n) {
      double acc = bias ? bias[n] : 0.0;
      for (int64_t k = 0; k < k_in; ++k) acc += static_cast<double>(x[r * k_in + k]) * w[n * k_in + k];
      out.as<float>()[r * n_out + n] = activate(static_cast<float>(acc), a.activation, 0.f);
    }
  return Status::ok();
}

}  // namespace facepipe::engine::cpu::ref
