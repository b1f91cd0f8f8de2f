// Index arithmetic of the ops, decided in one place: shape inference, the reference ops and the
// optimized backends all call these, so an op's semantics (axis normalization, slice clamping,
// resize coordinate mapping, ...) cannot drift between them.
//
// Every function throws facepipe::Error carrying the bare problem ("axis 4 is out of range for
// rank 4"); infer_output_descs prefixes the model source and the op.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "engine/ir/op.h"
#include "engine/ir/shape.h"

namespace facepipe::engine {

using DimArray = std::array<int64_t, Shape::kMaxRank>;

// Maps an axis in [-rank, rank) to [0, rank). `what` names the attribute in the error message.
int normalize_axis(int64_t axis, int rank, const char* what = "axis");

// Row-major (C order) element strides of `shape`.
DimArray row_major_strides(const Shape& shape);

// numpy broadcasting: trailing dimensions aligned, a 1 stretches to the other size.
Shape broadcast_shapes(const Shape& a, const Shape& b);

// Element offset into a tensor of shape `in` (broadcast into an output of rank `out_rank`) for the
// output index `out_index`: dimensions of size 1 contribute nothing.
int64_t broadcast_offset(const Shape& in, const DimArray& in_strides, int out_rank, const int64_t* out_index);

// Output extent of a sliding-window op along one dimension:
// floor((in + pad_before + pad_after - dilated_kernel) / stride) + 1. Throws when it is < 1.
int64_t window_output_extent(int64_t in, int32_t kernel, int32_t stride, int32_t dilation, int64_t pad_before,
                             int64_t pad_after);

// Strided slice resolved against a concrete input shape. Output element (o_0, o_1, ...) reads input
// element (start_i + o_i * step_i) along every axis; shrunk axes have count 1 and disappear from
// `output`.
struct SliceAxis {
  int64_t start = 0;
  int64_t step = 1;
  int64_t count = 0;
  bool shrink = false;
};
struct SliceGeometry {
  std::array<SliceAxis, Shape::kMaxRank> axes{};  // one per input axis
  Shape output;
};
SliceGeometry resolve_slice(const SliceAttrs& attrs, const Shape& input);

// The output shape of a Reshape of `input` to `requested` (may hold one -1 and, with
// zero_copies_dim, 0s that copy the input dimension at that index).
Shape resolve_reshape(const Shape& input, std::span<const int64_t> requested, bool zero_copies_dim);

// Transpose permutation normalized and validated against `rank`; an empty perm reverses the axes
// (the ONNX default).
std::array<int, Shape::kMaxRank> resolve_perm(std::span<const int32_t> perm, int rank);

// Which axes a Mean/Sum reduces. Empty `axes` reduces every axis; repeated axes count once.
std::array<bool, Shape::kMaxRank> resolve_reduce_axes(std::span<const int32_t> axes, int rank);

// Resize. The source coordinate of output index `out` along one dimension, before rounding or
// clamping. `scale` is out_size / in_size when the size came from a size input, or the attribute's
// scale when the output size was floor(in * scale) (ONNX uses the given scale in the transform).
// Computed in float, as TFLite and ONNX Runtime do, so that nearest rounding ties match them.
float resize_source_coordinate(ResizeCoordinates coordinates, int64_t out, int64_t in_size, int64_t out_size,
                               float scale);
// Nearest neighbour: rounds a source coordinate and clamps it to [0, in_size).
int64_t resize_nearest_index(ResizeNearestRounding rounding, float coordinate, int64_t in_size);
// Bilinear: the two source indices and the weight of the second, with the coordinate clamped to
// [0, in_size - 1] first (TFLite and ONNX Runtime both clamp).
struct LinearTaps {
  int64_t lo = 0, hi = 0;
  float frac = 0.f;  // weight of `hi`; `lo` gets 1 - frac
};
LinearTaps resize_linear_taps(float coordinate, int64_t in_size);

}  // namespace facepipe::engine
