// Layout and shape ops. They only move elements, so they work on any dtype by copying
// dtype_size bytes per element; each walks the output index space and computes where the element
// comes from.
#include <cmath>
#include <cstring>

#include "common/half.h"
#include "engine/cpu/reference/reference_common.h"

namespace facepipe::engine::cpu::ref {

namespace {

void copy_element(const TensorView& from, int64_t from_index, const TensorView& to, int64_t to_index) {
  const size_t size = dtype_size(to.dtype);
  std::memcpy(static_cast<std::byte*>(to.data) + static_cast<size_t>(to_index) * size,
              static_cast<const std::byte*>(from.data) + static_cast<size_t>(from_index) * size, size);
}

}  // namespace

Status copy_same_order(const Op&, Inputs in, const TensorView& out) {
  // Reshape, Squeeze and Unsqueeze keep the row-major element order: the bytes are unchanged.
  // memmove: the planner may alias input and output.
  if (out.bytes() > 0) std::memmove(out.data, in[0].data, out.bytes());
  return Status::ok();
}

Status transpose(const Op& op, Inputs in, const TensorView& out) {
  const TensorView& x = in[0];
  const auto perm = resolve_perm(attrs_of<TransposeAttrs>(op).perm, x.shape.rank());
  const DimArray xs = row_major_strides(x.shape);
  IndexCounter it(out.shape);
  for (int64_t o = 0; o < out.num_elements(); ++o, it.next()) {
    int64_t from = 0;  // output axis i walks input axis perm[i]
    for (int i = 0; i < out.shape.rank(); ++i) from += it[i] * xs[static_cast<size_t>(perm[static_cast<size_t>(i)])];
    copy_element(x, from, out, o);
  }
  return Status::ok();
}

Status concat(const Op& op, Inputs in, const TensorView& out) {
  const int axis = normalize_axis(attrs_of<ConcatAttrs>(op).axis, out.shape.rank());
  const Activation act = attrs_of<ConcatAttrs>(op).activation;
  if (act != Activation::kNone && out.dtype != DType::kF32) return unsupported("fused activation needs f32");
  IndexCounter it(out.shape);
  for (int64_t o = 0; o < out.num_elements(); ++o, it.next()) {
    // Find the input whose stretch of the concat axis holds this output coordinate.
    int64_t pos = it[axis];
    size_t k = 0;
    while (pos >= in[k].shape[axis]) pos -= in[k++].shape[axis];
    const DimArray s = row_major_strides(in[k].shape);
    int64_t from = 0;
    for (int d = 0; d < out.shape.rank(); ++d) from += (d == axis ? pos : it[d]) * s[static_cast<size_t>(d)];
    copy_element(in[k], from, out, o);
    if (act != Activation::kNone) out.as<float>()[o] = activate(out.as<float>()[o], act, 0.f);
  }
  return Status::ok();
}

Status slice(const Op& op, Inputs in, const TensorView& out) {
  const TensorView& x = in[0];
  const SliceGeometry g = resolve_slice(attrs_of<SliceAttrs>(op), x.shape);
  const DimArray xs = row_major_strides(x.shape);
  IndexCounter it(out.shape);
  for (int64_t o = 0; o < out.num_elements(); ++o, it.next()) {
    int64_t from = 0;
    int od = 0;  // output axis matching input axis d (shrunk axes have none)
    for (int d = 0; d < x.shape.rank(); ++d) {
      const SliceAxis& s = g.axes[static_cast<size_t>(d)];
      const int64_t i = s.shrink ? s.start : s.start + it[od++] * s.step;
      from += i * xs[static_cast<size_t>(d)];
    }
    copy_element(x, from, out, o);
  }
  return Status::ok();
}

Status pad(const Op& op, Inputs in, const TensorView& out) {
  const TensorView& x = in[0];
  const PadAttrs& a = attrs_of<PadAttrs>(op);
  // The fill value in the output's dtype.
  std::byte fill[8] = {};
  switch (out.dtype) {
    case DType::kF32: std::memcpy(fill, &a.value, 4); break;
    case DType::kF16: { const uint16_t h = float_to_half(a.value); std::memcpy(fill, &h, 2); break; }
    case DType::kI32:
    case DType::kI64: {
      // The value must be an integer the dtype holds (a plain cast of anything else is undefined).
      if (!(std::fabs(a.value) < 2147483648.f) || a.value != std::trunc(a.value)) {
        return unsupported("reference Pad: fill value is not an integer of the tensor's dtype");
      }
      const auto v32 = static_cast<int32_t>(a.value);
      const auto v64 = static_cast<int64_t>(v32);
      if (out.dtype == DType::kI32) std::memcpy(fill, &v32, 4);
      else std::memcpy(fill, &v64, 8);
      break;
    }
    default:
      if (a.value != 0.f) return unsupported("reference Pad fills u8/i8/bool with 0 only");
  }
  const size_t size = dtype_size(out.dtype);
  const DimArray xs = row_major_strides(x.shape);
  IndexCounter it(out.shape);
  for (int64_t o = 0; o < out.num_elements(); ++o, it.next()) {
    int64_t from = 0;
    bool inside = true;
    for (int d = 0; d < x.shape.rank(); ++d) {
      const int64_t i = it[d] - a.pads[static_cast<size_t>(2 * d)];  // negative pads crop
      if (i < 0 || i >= x.shape[d]) inside = false;
      from += i * xs[static_cast<size_t>(d)];
    }
    if (inside) copy_element(x, from, out, o);
    else std::memcpy(static_cast<std::byte*>(out.data) + static_cast<size_t>(o) * size, fill, size);
  }
  return Status::ok();
}

Status gather(const Op& op, Inputs in, const TensorView& out) {
  const TensorView& data = in[0];
  const TensorView& indices = in[1];
  if (indices.dtype != DType::kI32 && indices.dtype != DType::kI64) return unsupported("Gather indices must be i32/i64");
  const int axis = normalize_axis(attrs_of<GatherAttrs>(op).axis, data.shape.rank());
  const int index_rank = indices.shape.rank();
  const int64_t dim = data.shape[axis];
  const DimArray ds = row_major_strides(data.shape);
  const DimArray is = row_major_strides(indices.shape);
  IndexCounter it(out.shape);
  // Output index = [data axes before `axis`] [index axes] [data axes after `axis`].
  for (int64_t o = 0; o < out.num_elements(); ++o, it.next()) {
    int64_t which = 0;
    for (int j = 0; j < index_rank; ++j) which += it[axis + j] * is[static_cast<size_t>(j)];
    int64_t v = indices.dtype == DType::kI32 ? indices.as<const int32_t>()[which] : indices.as<const int64_t>()[which];
    if (v < -dim || v >= dim) return Status::error(StatusCode::kOutOfRange, "Gather index out of range");
    if (v < 0) v += dim;  // numpy take: negative indices count from the end
    int64_t from = v * ds[static_cast<size_t>(axis)];
    for (int d = 0; d < axis; ++d) from += it[d] * ds[static_cast<size_t>(d)];
    for (int d = axis + 1; d < data.shape.rank(); ++d) from += it[d - 1 + index_rank] * ds[static_cast<size_t>(d)];
    copy_element(data, from, out, o);
  }
  return Status::ok();
}

Status shape_of(const Op&, Inputs in, const TensorView& out) {
  for (int d = 0; d < in[0].shape.rank(); ++d) out.as<int64_t>()[d] = in[0].shape[d];
  return Status::ok();
}

}  // namespace facepipe::engine::cpu::ref
