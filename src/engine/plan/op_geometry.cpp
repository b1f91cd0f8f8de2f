#include "engine/plan/op_geometry.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/status.h"

namespace facepipe::engine {

int normalize_axis(int64_t axis, int rank, const char* what) {
  if (axis < -rank || axis >= rank) {
    throw Error(std::string(what) + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

DimArray row_major_strides(const Shape& shape) {
  DimArray strides{};
  int64_t s = 1;
  for (int i = shape.rank() - 1; i >= 0; --i) {
    strides[static_cast<size_t>(i)] = s;
    s *= shape[i];
  }
  return strides;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const int rank = std::max(a.rank(), b.rank());
  Shape out;
  for (int i = 0; i < rank; ++i) {
    // Dimension i of the output aligns with the trailing dimensions of both operands.
    const int ia = i - (rank - a.rank());
    const int ib = i - (rank - b.rank());
    const int64_t da = ia >= 0 ? a[ia] : 1;
    const int64_t db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      throw Error("shapes " + a.to_string() + " and " + b.to_string() + " do not broadcast (dimension " +
                  std::to_string(i) + ": " + std::to_string(da) + " vs " + std::to_string(db) + ")");
    }
    out.push_back(da == 1 ? db : da);
  }
  return out;
}

int64_t broadcast_offset(const Shape& in, const DimArray& in_strides, int out_rank, const int64_t* out_index) {
  int64_t offset = 0;
  const int lead = out_rank - in.rank();
  for (int i = 0; i < in.rank(); ++i) {
    if (in[i] != 1) offset += out_index[i + lead] * in_strides[static_cast<size_t>(i)];
  }
  return offset;
}

int64_t window_output_extent(int64_t in, int32_t kernel, int32_t stride, int32_t dilation, int64_t pad_before,
                             int64_t pad_after) {
  if (kernel < 1 || stride < 1 || dilation < 1) {
    throw Error("kernel " + std::to_string(kernel) + ", stride " + std::to_string(stride) + " and dilation " +
                std::to_string(dilation) + " must all be >= 1");
  }
  if (pad_before < 0 || pad_after < 0) throw Error("negative padding");
  const int64_t dilated = static_cast<int64_t>(kernel - 1) * dilation + 1;
  const int64_t span = in + pad_before + pad_after - dilated;
  if (span < 0) {
    throw Error("window of " + std::to_string(dilated) + " does not fit the padded input of " +
                std::to_string(in + pad_before + pad_after));
  }
  return span / stride + 1;
}

SliceGeometry resolve_slice(const SliceAttrs& attrs, const Shape& input) {
  const int rank = input.rank();
  const size_t n = attrs.begin.size();
  if (attrs.end.size() != n || (!attrs.strides.empty() && attrs.strides.size() != n) ||
      (!attrs.axes.empty() && attrs.axes.size() != n)) {
    throw Error("slice begin/end/strides/axes lists have different lengths");
  }
  if (rank < 32 && (attrs.shrink_axis_mask >> rank) != 0) {
    throw Error("shrink_axis_mask names an axis beyond rank " + std::to_string(rank));
  }
  SliceGeometry g;
  for (int a = 0; a < rank; ++a) g.axes[static_cast<size_t>(a)] = SliceAxis{0, 1, input[a], false};

  std::array<bool, Shape::kMaxRank> listed{};
  for (size_t i = 0; i < n; ++i) {
    // Without explicit axes, begin/end/strides list the leading axes in order (TFLite layout).
    const int axis = normalize_axis(attrs.axes.empty() ? static_cast<int64_t>(i) : attrs.axes[i], rank, "slice axis");
    if (listed[static_cast<size_t>(axis)]) throw Error("slice axis " + std::to_string(axis) + " listed twice");
    listed[static_cast<size_t>(axis)] = true;
    const int64_t d = input[axis];
    int64_t step = attrs.strides.empty() ? 1 : attrs.strides[i];
    if (step == 0) throw Error("slice stride is 0 on axis " + std::to_string(axis));
    // A step longer than the dimension takes at most one element; clamping it keeps the count
    // arithmetic below free of overflow (INT64_MIN cannot be negated).
    step = std::clamp<int64_t>(step, -(d + 1), d + 1);
    const int64_t b = attrs.begin[i];
    const int64_t e = attrs.end[i];
    SliceAxis& s = g.axes[static_cast<size_t>(axis)];
    s.step = step;
    if ((attrs.shrink_axis_mask >> axis) & 1u) {
      // TFLite STRIDED_SLICE: a shrunk axis takes the single element at begin; end/stride are ignored.
      int64_t index = b == SliceAttrs::kSliceStart ? 0 : (b < 0 ? b + d : b);
      if (index < 0 || index >= d) {
        throw Error("shrink index " + std::to_string(b) + " is out of range for dimension " + std::to_string(d));
      }
      s = SliceAxis{index, 1, 1, true};
      continue;
    }
    if (step > 0) {
      // Python: negative indices count from the end, then clamp to [0, d].
      const int64_t start = b == SliceAttrs::kSliceStart ? 0 : std::clamp<int64_t>(b < 0 ? b + d : b, 0, d);
      const int64_t stop = e == SliceAttrs::kSliceEnd ? d : std::clamp<int64_t>(e < 0 ? e + d : e, 0, d);
      s.start = start;
      s.count = stop > start ? (stop - start - 1) / step + 1 : 0;
    } else {
      // Walking backwards the valid range is [-1, d - 1]: -1 means "past element 0".
      const int64_t start = b == SliceAttrs::kSliceStart ? d - 1 : std::clamp<int64_t>(b < 0 ? b + d : b, -1, d - 1);
      const int64_t stop = e == SliceAttrs::kSliceEnd ? -1 : std::clamp<int64_t>(e < 0 ? e + d : e, -1, d - 1);
      s.start = start;
      s.count = start > stop ? (start - stop - 1) / -step + 1 : 0;
    }
  }
  for (int a = 0; a < rank; ++a) {
    SliceAxis& s = g.axes[static_cast<size_t>(a)];
    if (!listed[static_cast<size_t>(a)] && ((attrs.shrink_axis_mask >> a) & 1u)) {
      // A shrunk axis with no begin listed takes its first element.
      if (input[a] < 1) throw Error("cannot shrink the empty axis " + std::to_string(a));
      s = SliceAxis{0, 1, 1, true};
    }
    if (!s.shrink) g.output.push_back(s.count);
  }
  return g;
}

Shape resolve_reshape(const Shape& input, std::span<const int64_t> requested, bool zero_copies_dim) {
  if (requested.size() > static_cast<size_t>(Shape::kMaxRank)) {
    throw Error("reshape to rank " + std::to_string(requested.size()) + " exceeds the supported maximum");
  }
  Shape out;
  int inferred = -1;
  int64_t product = 1;
  for (size_t i = 0; i < requested.size(); ++i) {
    int64_t v = requested[i];
    if (v == -1) {
      if (inferred >= 0) throw Error("reshape target holds more than one -1");
      inferred = static_cast<int>(i);
      out.push_back(-1);
      continue;
    }
    if (v == 0 && zero_copies_dim) {
      if (static_cast<int>(i) >= input.rank()) {
        throw Error("reshape target copies dimension " + std::to_string(i) + " (a 0) that the input of rank " +
                    std::to_string(input.rank()) + " lacks");
      }
      v = input[static_cast<int>(i)];
    }
    if (v < 0) throw Error("reshape target holds the negative dimension " + std::to_string(v));
    if (v > 0 && product > std::numeric_limits<int64_t>::max() / v) throw Error("reshape target is too large");
    product *= v;
    out.push_back(v);
  }
  const int64_t n = input.num_elements();
  if (inferred >= 0) {
    if (product == 0 || n % product != 0) {
      throw Error("cannot infer the -1 of reshape target when reshaping " + input.to_string() + " (" +
                  std::to_string(n) + " elements)");
    }
    out[inferred] = n / product;
  } else if (product != n) {
    throw Error("cannot reshape " + input.to_string() + " (" + std::to_string(n) + " elements) to " +
                out.to_string() + " (" + std::to_string(product) + " elements)");
  }
  return out;
}

std::array<int, Shape::kMaxRank> resolve_perm(std::span<const int32_t> perm, int rank) {
  std::array<int, Shape::kMaxRank> p{};
  if (perm.empty()) {
    for (int i = 0; i < rank; ++i) p[static_cast<size_t>(i)] = rank - 1 - i;
    return p;
  }
  if (static_cast<int>(perm.size()) != rank) {
    throw Error("transpose perm has " + std::to_string(perm.size()) + " entries for rank " + std::to_string(rank));
  }
  std::array<bool, Shape::kMaxRank> used{};
  for (int i = 0; i < rank; ++i) {
    const int a = normalize_axis(perm[static_cast<size_t>(i)], rank, "transpose perm entry");
    if (used[static_cast<size_t>(a)]) throw Error("transpose perm is not a permutation");
    used[static_cast<size_t>(a)] = true;
    p[static_cast<size_t>(i)] = a;
  }
  return p;
}

std::array<bool, Shape::kMaxRank> resolve_reduce_axes(std::span<const int32_t> axes, int rank) {
  std::array<bool, Shape::kMaxRank> reduce{};
  if (axes.empty()) {
    for (int i = 0; i < rank; ++i) reduce[static_cast<size_t>(i)] = true;
    return reduce;
  }
  for (int32_t a : axes) reduce[static_cast<size_t>(normalize_axis(a, rank, "reduction axis"))] = true;
  return reduce;
}

float resize_source_coordinate(ResizeCoordinates coordinates, int64_t out, int64_t in_size, int64_t out_size,
                               float scale) {
  const auto x = static_cast<float>(out);
  switch (coordinates) {
    case ResizeCoordinates::kAsymmetric:
      return x / scale;
    case ResizeCoordinates::kHalfPixel:
      return (x + 0.5f) / scale - 0.5f;
    case ResizeCoordinates::kPytorchHalfPixel:
      return out_size > 1 ? (x + 0.5f) / scale - 0.5f : 0.f;
    case ResizeCoordinates::kAlignCorners:
      return out_size > 1 ? x * static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1) : 0.f;
    case ResizeCoordinates::kTfHalfPixelForNearest:
      return (x + 0.5f) / scale;
  }
  throw Error("unknown resize coordinate transform");
}

int64_t resize_nearest_index(ResizeNearestRounding rounding, float coordinate, int64_t in_size) {
  double r = 0;
  switch (rounding) {
    case ResizeNearestRounding::kFloor: r = std::floor(coordinate); break;
    case ResizeNearestRounding::kCeil: r = std::ceil(coordinate); break;
    // Ties go down: 2.5 -> 2 (ONNX round_prefer_floor).
    case ResizeNearestRounding::kRoundPreferFloor: r = std::ceil(static_cast<double>(coordinate) - 0.5); break;
    // Ties go up: 2.5 -> 3 (ONNX round_prefer_ceil, TFLite align_corners rounding).
    case ResizeNearestRounding::kRoundPreferCeil: r = std::floor(static_cast<double>(coordinate) + 0.5); break;
  }
  if (!(r >= 0)) return 0;  // also catches NaN
  return r >= static_cast<double>(in_size - 1) ? in_size - 1 : static_cast<int64_t>(r);
}

LinearTaps resize_linear_taps(float coordinate, int64_t in_size) {
  const float hi_limit = static_cast<float>(in_size - 1);
  const float c = coordinate > 0.f ? std::min(coordinate, hi_limit) : 0.f;  // NaN -> 0
  LinearTaps t;
  t.lo = static_cast<int64_t>(std::floor(c));
  t.hi = std::min<int64_t>(t.lo + 1, in_size - 1);
  t.frac = c - static_cast<float>(t.lo);
  return t;
}

}  // namespace facepipe::engine
