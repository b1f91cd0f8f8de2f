// Output dtype/shape of every op. The per-op functions throw facepipe::Error with the bare problem;
// infer_output_descs adds "<source>: op '<name>' (<Type>): " once, so every message names the file
// and the op without each check repeating it.
#include "engine/plan/shape_inference.h"

#include <cmath>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/plan/op_geometry.h"

namespace facepipe::engine {

namespace {

[[noreturn]] void fail(const std::string& problem) { throw Error(problem); }

std::string str(int64_t v) { return std::to_string(v); }

// The op's attributes of kind T. An op built without attributes (monostate) gets T's defaults, so
// attribute-free construction of simple ops (tests, folding) works; a different kind is an error.
template <typename T> const T& attrs_of(const Op& op) {
  static const T kDefaults{};
  if (const T* a = std::get_if<T>(&op.attrs)) return *a;
  if (std::holds_alternative<std::monostate>(op.attrs)) return kDefaults;
  fail("carries attributes of the wrong kind");
}

struct Ctx {
  const Op& op;
  std::span<const TensorView> in;
  std::span<TensorDesc> out;

  bool present(size_t i) const { return i < in.size() && op.inputs[i] >= 0; }
  const TensorView& input(size_t i) const { return in[i]; }
  void set_output(DType dtype, const Shape& shape) const { out[0] = TensorDesc{dtype, shape}; }

  // Checks the input count is within [min, max] and that the first `min` are present.
  void require_inputs(size_t min, size_t max) const {
    if (in.size() < min || in.size() > max) {
      fail("expects " + (min == max ? str(static_cast<int64_t>(min)) : str(static_cast<int64_t>(min)) + ".." + str(static_cast<int64_t>(max))) +
           " inputs, got " + str(static_cast<int64_t>(in.size())));
    }
    for (size_t i = 0; i < min; ++i)
      if (!present(i)) fail("required input " + str(static_cast<int64_t>(i)) + " is absent");
  }
  void require_rank(size_t i, int rank, const char* what) const {
    if (in[i].shape.rank() != rank) {
      fail(std::string(what) + " must have rank " + str(rank) + ", got " + in[i].shape.to_string());
    }
  }
};

// Reads a small integer tensor whose value must be known at plan time (Reshape's shape, Resize's
// size).
std::vector<int64_t> read_int_values(const TensorView& v, const char* what) {
  if (v.dtype != DType::kI32 && v.dtype != DType::kI64) {
    fail(std::string(what) + " input must be i32 or i64, got " + std::string(dtype_name(v.dtype)));
  }
  if (v.shape.rank() > 1) fail(std::string(what) + " input must be 1-D, got " + v.shape.to_string());
  if (!v.data) fail(std::string(what) + " input is not known at plan time (it is not a constant nor folded)");
  std::vector<int64_t> values(static_cast<size_t>(v.num_elements()));
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = v.dtype == DType::kI32 ? v.as<const int32_t>()[i] : v.as<const int64_t>()[i];
  return values;
}

void check_optional_bias(const Ctx& c, size_t index, int64_t channels) {
  if (!c.present(index)) return;
  const Shape& b = c.input(index).shape;
  if (b.rank() != 1 || b[0] != channels) {
    fail("bias must be [" + str(channels) + "], got " + b.to_string());
  }
}

void check_activation(Activation a) {
  if (static_cast<int>(a) > static_cast<int>(Activation::kLeakyRelu)) fail("unknown fused activation");
}

void infer_conv(const Ctx& c, bool depthwise) {
  c.require_inputs(2, 3);
  const ConvAttrs& a = attrs_of<ConvAttrs>(c.op);
  check_activation(a.activation);
  c.require_rank(0, 4, "input (NHWC)");
  c.require_rank(1, 4, depthwise ? "weights (1HW[C*M])" : "weights (OHWI)");
  const Shape& x = c.input(0).shape;
  const Shape& w = c.input(1).shape;
  const int64_t in_c = x[3];
  int64_t out_c = 0;
  if (depthwise) {
    if (a.depth_multiplier < 1) fail("depth_multiplier must be >= 1, got " + str(a.depth_multiplier));
    if (w[0] != 1) fail("depthwise weights must be [1, KH, KW, C*M], got " + w.to_string());
    out_c = in_c * a.depth_multiplier;
    if (w[3] != out_c) {
      fail("input has " + str(in_c) + " channels and depth_multiplier " + str(a.depth_multiplier) +
           " but the weights have " + str(w[3]) + " output channels (" + w.to_string() + ")");
    }
  } else {
    if (a.groups < 1) fail("groups must be >= 1, got " + str(a.groups));
    out_c = w[0];
    if (in_c != w[3] * a.groups) {
      fail("channel mismatch: input has " + str(in_c) + " channels but weights " + w.to_string() + " with " +
           str(a.groups) + " group(s) expect " + str(w[3] * a.groups));
    }
    if (out_c % a.groups != 0) fail(str(out_c) + " output channels do not split into " + str(a.groups) + " groups");
  }
  check_optional_bias(c, 2, out_c);
  const int64_t kh = w[1], kw = w[2];
  if (kh < 1 || kw < 1 || kh > INT32_MAX || kw > INT32_MAX) fail("bad kernel size " + w.to_string());
  const Padding p = resolve_padding(a.padding, x[1], x[2], static_cast<int32_t>(kh), static_cast<int32_t>(kw),
                                    a.stride_h, a.stride_w, a.dilation_h, a.dilation_w);
  const int64_t oh = window_output_extent(x[1], static_cast<int32_t>(kh), a.stride_h, a.dilation_h, p.top, p.bottom);
  const int64_t ow = window_output_extent(x[2], static_cast<int32_t>(kw), a.stride_w, a.dilation_w, p.left, p.right);
  c.set_output(c.input(0).dtype, Shape{x[0], oh, ow, out_c});
}

void infer_pool(const Ctx& c) {
  c.require_inputs(1, 1);
  const PoolAttrs& a = attrs_of<PoolAttrs>(c.op);
  check_activation(a.activation);
  c.require_rank(0, 4, "input (NHWC)");
  const Shape& x = c.input(0).shape;
  const Padding p = resolve_padding(a.padding, x[1], x[2], a.filter_h, a.filter_w, a.stride_h, a.stride_w, 1, 1);
  const int64_t oh = window_output_extent(x[1], a.filter_h, a.stride_h, 1, p.top, p.bottom);
  const int64_t ow = window_output_extent(x[2], a.filter_w, a.stride_w, 1, p.left, p.right);
  c.set_output(c.input(0).dtype, Shape{x[0], oh, ow, x[3]});
}

void infer_binary(const Ctx& c) {
  c.require_inputs(2, 2);
  check_activation(attrs_of<BinaryAttrs>(c.op).activation);
  const TensorView& a = c.input(0);
  const TensorView& b = c.input(1);
  if (a.dtype != b.dtype) {
    fail("operand dtypes differ: " + std::string(dtype_name(a.dtype)) + " and " + std::string(dtype_name(b.dtype)));
  }
  c.set_output(a.dtype, broadcast_shapes(a.shape, b.shape));
}

void infer_prelu(const Ctx& c) {
  c.require_inputs(2, 2);
  const TensorView& x = c.input(0);
  const TensorView& alpha = c.input(1);
  if (alpha.dtype != x.dtype) fail("alpha dtype differs from the input's");
  // alpha broadcasts to x, never the other way round.
  if (broadcast_shapes(x.shape, alpha.shape) != x.shape) {
    fail("alpha " + alpha.shape.to_string() + " does not broadcast to the input " + x.shape.to_string());
  }
  c.set_output(x.dtype, x.shape);
}

void infer_reshape(const Ctx& c) {
  c.require_inputs(1, 2);
  const ReshapeAttrs& a = attrs_of<ReshapeAttrs>(c.op);
  const Shape& x = c.input(0).shape;
  if (c.present(1)) {
    const std::vector<int64_t> target = read_int_values(c.input(1), "shape");
    c.set_output(c.input(0).dtype, resolve_reshape(x, target, a.zero_copies_dim));
  } else {
    c.set_output(c.input(0).dtype, resolve_reshape(x, a.shape, a.zero_copies_dim));
  }
}

void infer_transpose(const Ctx& c) {
  c.require_inputs(1, 1);
  const Shape& x = c.input(0).shape;
  const auto perm = resolve_perm(attrs_of<TransposeAttrs>(c.op).perm, x.rank());
  Shape out;
  for (int i = 0; i < x.rank(); ++i) out.push_back(x[perm[static_cast<size_t>(i)]]);
  c.set_output(c.input(0).dtype, out);
}

void infer_concat(const Ctx& c) {
  if (c.in.empty()) fail("needs at least one input");
  c.require_inputs(c.in.size(), c.in.size());
  const ConcatAttrs& a = attrs_of<ConcatAttrs>(c.op);
  check_activation(a.activation);
  const TensorView& first = c.input(0);
  if (first.shape.rank() == 0) fail("cannot concatenate scalars");
  const int axis = normalize_axis(a.axis, first.shape.rank(), "concat axis");
  Shape out = first.shape;
  for (size_t i = 1; i < c.in.size(); ++i) {
    const TensorView& t = c.input(i);
    if (t.dtype != first.dtype) fail("input " + str(static_cast<int64_t>(i)) + " has a different dtype");
    if (t.shape.rank() != first.shape.rank()) {
      fail("rank mismatch: input 0 is " + first.shape.to_string() + ", input " + str(static_cast<int64_t>(i)) +
           " is " + t.shape.to_string());
    }
    for (int d = 0; d < out.rank(); ++d) {
      if (d == axis) continue;
      if (t.shape[d] != first.shape[d]) {
        fail("input " + str(static_cast<int64_t>(i)) + " " + t.shape.to_string() + " differs from input 0 " +
             first.shape.to_string() + " outside the concat axis " + str(axis));
      }
    }
    out[axis] += t.shape[axis];
  }
  c.set_output(first.dtype, out);
}

void infer_pad(const Ctx& c) {
  c.require_inputs(1, 1);
  const PadAttrs& a = attrs_of<PadAttrs>(c.op);
  const Shape& x = c.input(0).shape;
  if (a.pads.size() != static_cast<size_t>(2 * x.rank())) {
    fail("pads has " + str(static_cast<int64_t>(a.pads.size())) + " entries for rank " + str(x.rank()) +
         " (needs before/after per dimension)");
  }
  Shape out;
  for (int d = 0; d < x.rank(); ++d) {
    // Negative pads crop (ONNX allows it); the result must not be negative.
    const int64_t size = x[d] + a.pads[static_cast<size_t>(2 * d)] + a.pads[static_cast<size_t>(2 * d + 1)];
    if (size < 0) fail("pads crop dimension " + str(d) + " below zero");
    out.push_back(size);
  }
  c.set_output(c.input(0).dtype, out);
}

void infer_gather(const Ctx& c) {
  c.require_inputs(2, 2);
  const TensorView& data = c.input(0);
  const TensorView& indices = c.input(1);
  if (indices.dtype != DType::kI32 && indices.dtype != DType::kI64) {
    fail("indices must be i32 or i64, got " + std::string(dtype_name(indices.dtype)));
  }
  if (data.shape.rank() == 0) fail("cannot gather from a scalar");
  const int axis = normalize_axis(attrs_of<GatherAttrs>(c.op).axis, data.shape.rank(), "gather axis");
  const int64_t dim = data.shape[axis];
  if (indices.data) {  // known at plan time: report a bad index now rather than at run time
    for (int64_t i = 0; i < indices.num_elements(); ++i) {
      const int64_t v = indices.dtype == DType::kI32 ? indices.as<const int32_t>()[i] : indices.as<const int64_t>()[i];
      if (v < -dim || v >= dim) fail("index " + str(v) + " is out of range for dimension " + str(dim));
    }
  }
  Shape out;
  for (int d = 0; d < axis; ++d) out.push_back(data.shape[d]);
  for (int64_t d : indices.shape.dims()) out.push_back(d);
  for (int d = axis + 1; d < data.shape.rank(); ++d) out.push_back(data.shape[d]);
  c.set_output(data.dtype, out);
}

void infer_unsqueeze(const Ctx& c) {
  c.require_inputs(1, 1);
  const Shape& x = c.input(0).shape;
  const std::vector<int32_t>& axes = attrs_of<AxesAttrs>(c.op).axes;
  const int out_rank = x.rank() + static_cast<int>(axes.size());
  if (out_rank > Shape::kMaxRank) fail("output rank " + str(out_rank) + " exceeds the supported maximum");
  std::array<bool, Shape::kMaxRank> inserted{};
  for (int32_t axis : axes) {
    const int a = normalize_axis(axis, out_rank, "unsqueeze axis");  // axes are output positions
    if (inserted[static_cast<size_t>(a)]) fail("unsqueeze axis " + str(a) + " listed twice");
    inserted[static_cast<size_t>(a)] = true;
  }
  Shape out;
  int next = 0;
  for (int d = 0; d < out_rank; ++d) out.push_back(inserted[static_cast<size_t>(d)] ? 1 : x[next++]);
  c.set_output(c.input(0).dtype, out);
}

void infer_squeeze(const Ctx& c) {
  c.require_inputs(1, 1);
  const Shape& x = c.input(0).shape;
  const std::vector<int32_t>& axes = attrs_of<AxesAttrs>(c.op).axes;
  std::array<bool, Shape::kMaxRank> drop{};
  for (int d = 0; d < x.rank(); ++d) drop[static_cast<size_t>(d)] = axes.empty() && x[d] == 1;
  for (int32_t axis : axes) {
    const int a = normalize_axis(axis, x.rank(), "squeeze axis");
    if (x[a] != 1) fail("cannot squeeze axis " + str(a) + " of size " + str(x[a]) + " in " + x.to_string());
    drop[static_cast<size_t>(a)] = true;
  }
  Shape out;
  for (int d = 0; d < x.rank(); ++d)
    if (!drop[static_cast<size_t>(d)]) out.push_back(x[d]);
  c.set_output(c.input(0).dtype, out);
}

void infer_resize(const Ctx& c) {
  c.require_inputs(1, 2);
  const ResizeAttrs& a = attrs_of<ResizeAttrs>(c.op);
  c.require_rank(0, 4, "input (NHWC)");
  if (a.mode != ResizeMode::kNearest && a.mode != ResizeMode::kBilinear) fail("unknown resize mode");
  if (static_cast<int>(a.coordinates) > static_cast<int>(ResizeCoordinates::kTfHalfPixelForNearest)) {
    fail("unknown resize coordinate transform");
  }
  if (static_cast<int>(a.nearest_rounding) > static_cast<int>(ResizeNearestRounding::kCeil)) {
    fail("unknown nearest rounding mode");
  }
  const Shape& x = c.input(0).shape;
  int64_t oh = 0, ow = 0;
  if (c.present(1)) {
    const std::vector<int64_t> size = read_int_values(c.input(1), "size");
    if (size.size() != 2) fail("size input must hold [out_h, out_w], got " + str(static_cast<int64_t>(size.size())) + " values");
    oh = size[0];
    ow = size[1];
  } else {
    if (!(a.scale_h > 0.f) || !(a.scale_w > 0.f)) fail("scales must be positive");
    // double: floor(in * scale) must not lose integers to float rounding (ONNX output size rule).
    oh = static_cast<int64_t>(std::floor(static_cast<double>(x[1]) * a.scale_h));
    ow = static_cast<int64_t>(std::floor(static_cast<double>(x[2]) * a.scale_w));
  }
  if (oh < 1 || ow < 1) fail("output size " + str(oh) + "x" + str(ow) + " is empty");
  if (x[1] < 1 || x[2] < 1) fail("cannot resize the empty input " + x.to_string());
  c.set_output(c.input(0).dtype, Shape{x[0], oh, ow, x[3]});
}

void infer_reduce(const Ctx& c) {
  c.require_inputs(1, 1);
  const ReduceAttrs& a = attrs_of<ReduceAttrs>(c.op);
  const Shape& x = c.input(0).shape;
  const auto reduce = resolve_reduce_axes(a.axes, x.rank());
  Shape out;
  for (int d = 0; d < x.rank(); ++d) {
    if (!reduce[static_cast<size_t>(d)]) out.push_back(x[d]);
    else if (a.keep_dims) out.push_back(1);
  }
  c.set_output(c.input(0).dtype, out);
}

void infer_softmax(const Ctx& c) {
  c.require_inputs(1, 1);
  const Shape& x = c.input(0).shape;
  if (x.rank() == 0) fail("softmax needs an input of rank >= 1");
  normalize_axis(attrs_of<SoftmaxAttrs>(c.op).axis, x.rank(), "softmax axis");
  c.set_output(c.input(0).dtype, x);
}

void infer_layer_norm(const Ctx& c) {
  c.require_inputs(1, 3);
  const Shape& x = c.input(0).shape;
  if (x.rank() == 0) fail("layer norm needs an input of rank >= 1");
  for (size_t i = 1; i < c.op.inputs.size(); ++i) {
    if (c.op.inputs[i] < 0) continue;
    const int64_t n = c.input(i).shape.num_elements();
    if (n != x[x.rank() - 1]) fail("layer norm gamma/beta must have one value per element of the last axis");
  }
  c.set_output(c.input(0).dtype, x);
}

void infer_fully_connected(const Ctx& c) {
  c.require_inputs(2, 3);
  const FullyConnectedAttrs& a = attrs_of<FullyConnectedAttrs>(c.op);
  check_activation(a.activation);
  c.require_rank(1, 2, "weights ([N, K])");
  const Shape& x = c.input(0).shape;
  const Shape& w = c.input(1).shape;
  const int64_t n = w[0], k = w[1];
  check_optional_bias(c, 2, n);
  if (x.rank() == 0) fail("input must have rank >= 1");
  if (k < 1) fail("weights have an empty K dimension");
  Shape out;
  if (a.keep_num_dims) {
    if (x[x.rank() - 1] != k) fail("input " + x.to_string() + " does not end in K = " + str(k) + " of weights " + w.to_string());
    out = x;
    out[x.rank() - 1] = n;
  } else {
    // TFLite: the input is flattened to [rows, K] whatever its shape.
    if (x.num_elements() % k != 0) fail("input " + x.to_string() + " does not flatten to rows of K = " + str(k));
    out = Shape{x.num_elements() / k, n};
  }
  c.set_output(c.input(0).dtype, out);
}

void infer_one(const Ctx& c) {
  const OpType t = c.op.type;
  switch (t) {
    case OpType::kConv2D: return infer_conv(c, false);
    case OpType::kDepthwiseConv2D: return infer_conv(c, true);
    case OpType::kMaxPool2D:
    case OpType::kAvgPool2D: return infer_pool(c);
    case OpType::kAdd:
    case OpType::kSub:
    case OpType::kMul:
    case OpType::kDiv:
    case OpType::kSquaredDifference:
    case OpType::kMaximum:
    case OpType::kMinimum: return infer_binary(c);
    case OpType::kRelu:
    case OpType::kRelu6:
    case OpType::kLeakyRelu:
    case OpType::kLogistic:
    case OpType::kTanh:
    case OpType::kNeg:
    case OpType::kSqrt:
    case OpType::kRsqrt:
    case OpType::kExp:
      c.require_inputs(1, 1);
      if (t == OpType::kLeakyRelu) (void)attrs_of<LeakyReluAttrs>(c.op);
      return c.set_output(c.input(0).dtype, c.input(0).shape);
    case OpType::kPRelu: return infer_prelu(c);
    case OpType::kDequantize:
      c.require_inputs(1, 1);
      if (c.input(0).dtype != DType::kF16 && c.input(0).dtype != DType::kI8 && c.input(0).dtype != DType::kU8) {
        fail("input must be f16, i8 or u8, got " + std::string(dtype_name(c.input(0).dtype)));
      }
      return c.set_output(DType::kF32, c.input(0).shape);
    case OpType::kCast: {
      c.require_inputs(1, 1);
      const uint8_t to = attrs_of<CastAttrs>(c.op).to;
      if (to >= static_cast<uint8_t>(DType::kCount)) fail("cast to the unknown dtype " + str(to));
      return c.set_output(static_cast<DType>(to), c.input(0).shape);
    }
    case OpType::kReshape: return infer_reshape(c);
    case OpType::kTranspose: return infer_transpose(c);
    case OpType::kConcat: return infer_concat(c);
    case OpType::kSlice:
      c.require_inputs(1, 1);
      return c.set_output(c.input(0).dtype, resolve_slice(attrs_of<SliceAttrs>(c.op), c.input(0).shape).output);
    case OpType::kPad: return infer_pad(c);
    case OpType::kGather: return infer_gather(c);
    case OpType::kShape:
      c.require_inputs(1, 1);
      return c.set_output(DType::kI64, Shape{c.input(0).shape.rank()});
    case OpType::kUnsqueeze: return infer_unsqueeze(c);
    case OpType::kSqueeze: return infer_squeeze(c);
    case OpType::kResize: return infer_resize(c);
    case OpType::kMean:
    case OpType::kSum: return infer_reduce(c);
    case OpType::kSoftmax: return infer_softmax(c);
    case OpType::kLayerNorm: return infer_layer_norm(c);
    case OpType::kFullyConnected: return infer_fully_connected(c);
    case OpType::kCount: break;
  }
  fail("has an invalid op type");
}

}  // namespace

void infer_output_descs(const std::string& source, const Op& op, std::span<const TensorView> inputs,
                        std::span<TensorDesc> outputs) {
  try {
    if (inputs.size() != op.inputs.size()) {
      fail("was given " + str(static_cast<int64_t>(inputs.size())) + " input descriptions for " +
           str(static_cast<int64_t>(op.inputs.size())) + " inputs");
    }
    if (outputs.size() != 1 || op.outputs.size() != 1) fail("must have exactly one output");
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (op.inputs[i] >= 0 && !inputs[i].shape.is_static()) {
        fail("input " + str(static_cast<int64_t>(i)) + " has the unresolved shape " + inputs[i].shape.to_string());
      }
    }
    infer_one(Ctx{op, inputs, outputs});
  } catch (const Error& e) {
    throw Error(source + ": op '" + op.name + "' (" + std::string(op_type_name(op.type)) + "): " + e.what());
  }
}

static int64_t same_padding_total(int64_t in, int32_t kernel, int32_t stride, int32_t dilation) {
  const int64_t out = (in + stride - 1) / stride;  // ceil(in / stride)
  const int64_t dilated = static_cast<int64_t>(kernel - 1) * dilation + 1;
  const int64_t total = (out - 1) * stride + dilated - in;
  return total > 0 ? total : 0;
}

Padding resolve_padding(const Padding& padding, int64_t in_h, int64_t in_w, int32_t filter_h, int32_t filter_w,
                        int32_t stride_h, int32_t stride_w, int32_t dilation_h, int32_t dilation_w) {
  if (filter_h < 1 || filter_w < 1 || stride_h < 1 || stride_w < 1 || dilation_h < 1 || dilation_w < 1) {
    throw Error("filter " + str(filter_h) + "x" + str(filter_w) + ", stride " + str(stride_h) + "x" + str(stride_w) +
                " and dilation " + str(dilation_h) + "x" + str(dilation_w) + " must all be >= 1");
  }
  Padding p;  // mode kExplicit
  switch (padding.mode) {
    case PaddingMode::kExplicit:
      if (padding.top < 0 || padding.left < 0 || padding.bottom < 0 || padding.right < 0) {
        throw Error("explicit padding must not be negative");
      }
      p = padding;
      break;
    case PaddingMode::kValid:
      break;
    case PaddingMode::kSame: {
      // TF SAME: the odd pixel of padding goes to the bottom/right.
      const int64_t th = same_padding_total(in_h, filter_h, stride_h, dilation_h);
      const int64_t tw = same_padding_total(in_w, filter_w, stride_w, dilation_w);
      p.top = static_cast<int32_t>(th / 2);
      p.bottom = static_cast<int32_t>(th - th / 2);
      p.left = static_cast<int32_t>(tw / 2);
      p.right = static_cast<int32_t>(tw - tw / 2);
      break;
    }
    default:
      throw Error("unknown padding mode");
  }
  p.mode = PaddingMode::kExplicit;
  return p;
}

}  // namespace facepipe::engine
