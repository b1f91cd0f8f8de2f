// ONNX -> graph IR, lowering NCHW to the IR's NHWC spatial ops.
//
// Every ONNX value maps to a Value: an IR tensor id plus `lowered`, which says the tensor is
// physically NHWC while the ONNX semantics are NCHW (only ever for rank-4 tensors). Spatial ops
// (Conv, pools, Resize) read lowered inputs and produce lowered outputs; layout-agnostic ops
// (elementwise, Concat/Slice/Softmax with a remapped axis) keep the layout; everything that needs
// NCHW semantics gets an explicit IR Transpose back, inserted once per tensor and cached.
// docs/importers.md has the full rules.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "engine/import/import_util.h"
#include "engine/import/model_loader.h"
#include "engine/import/onnx_proto.h"

namespace facepipe::engine {
namespace {

// NCHW axis -> its position in the NHWC physical layout, and the perms between the two.
constexpr std::array<int32_t, 4> kNchwAxisToNhwc = {0, 3, 1, 2};
const std::vector<int32_t> kToNhwc = {0, 2, 3, 1};
const std::vector<int32_t> kToNchw = {0, 3, 1, 2};

struct Value {
  int32_t id = -1;
  bool lowered = false;
  int rank = -1;  // -1: unknown at import time
};

// A constant not yet placed in the graph: initializers and Constant-node outputs wait here, so
// those consumed only as attributes (axes, pads, scales) or rewritten (conv weights) never become
// graph tensors.
struct PendingConstant {
  DType dtype = DType::kF32;
  Shape shape;
  AlignedBuffer data;
};

struct ConstView {
  DType dtype = DType::kF32;
  Shape shape;
  std::span<const std::byte> bytes;
  int64_t count() const { return shape.num_elements(); }
};

DType to_dtype(int32_t onnx_type, const std::string& where) {
  switch (onnx_type) {
    case onnx::kFloat: return DType::kF32;
    case onnx::kFloat16: return DType::kF16;
    case onnx::kInt32: return DType::kI32;
    case onnx::kInt64: return DType::kI64;
    case onnx::kUint8: return DType::kU8;
    case onnx::kInt8: return DType::kI8;
    case onnx::kBool: return DType::kBool;
    default: throw Error(where + ": unsupported ONNX data type " + std::to_string(onnx_type));
  }
}

// Decodes a TensorProto into IR bytes. Sizes are checked against the data actually present before
// anything is allocated.
PendingConstant decode_tensor(const onnx::TensorProto& t, const std::string& where) {
  PendingConstant c;
  c.dtype = to_dtype(t.data_type, where);
  if (t.dims.size() > static_cast<size_t>(Shape::kMaxRank)) throw Error(where + ": rank exceeds " + std::to_string(Shape::kMaxRank));
  const auto count = import_detail::checked_element_count(t.dims);
  if (!count) throw Error(where + ": invalid dimensions");
  c.shape = Shape(std::span<const int64_t>(t.dims));
  const size_t esize = dtype_size(c.dtype);
  auto mismatch = [&](size_t have) {
    return Error(where + ": holds " + std::to_string(have) + " values/bytes but its shape " + c.shape.to_string() +
                 " needs " + std::to_string(*count));
  };
  if (t.external) throw Error(where + ": external tensor data is not supported");
  if (t.has_raw_data) {
    if (static_cast<uint64_t>(*count) > t.raw_data.size() / esize || t.raw_data.size() != static_cast<uint64_t>(*count) * esize)
      throw mismatch(t.raw_data.size());
    c.data.resize(t.raw_data.size());
    if (!t.raw_data.empty()) std::memcpy(c.data.data(), t.raw_data.data(), t.raw_data.size());
    return c;
  }
  const auto n = static_cast<size_t>(*count);
  auto fill = [&](const auto& values, auto convert) {
    if (values.size() != n) throw mismatch(values.size());
    c.data.resize(n * esize);
    for (size_t i = 0; i < n; ++i) convert(c.data.data() + i * esize, values[i]);
  };
  switch (t.data_type) {
    case onnx::kFloat:
      fill(t.float_data, [](std::byte* p, float v) { std::memcpy(p, &v, 4); });
      break;
    case onnx::kInt64:
      fill(t.int64_data, [](std::byte* p, int64_t v) { std::memcpy(p, &v, 8); });
      break;
    case onnx::kInt32:
      fill(t.int32_data, [](std::byte* p, int32_t v) { std::memcpy(p, &v, 4); });
      break;
    case onnx::kFloat16:  // int32_data holds the raw 16-bit patterns
      fill(t.int32_data, [](std::byte* p, int32_t v) { const auto h = static_cast<uint16_t>(v); std::memcpy(p, &h, 2); });
      break;
    default:  // uint8, int8, bool are also widened into int32_data
      fill(t.int32_data, [](std::byte* p, int32_t v) { *p = static_cast<std::byte>(v); });
      break;
  }
  return c;
}

class OnnxImporter {
 public:
  OnnxImporter(std::span<const std::byte> bytes, const std::string& source) : source_(source) {
    model_ = onnx::parse_model(bytes, source);
  }
  Graph run();

 private:
  // ---- values and constants ----
  [[noreturn]] void fail(const std::string& what) const { throw Error(where_ + ": " + what); }
  bool known(const std::string& name) const { return values_.count(name) || pending_.count(name); }
  Value get(const std::string& name);
  void define(const std::string& name, Value v);
  std::optional<ConstView> constant(const std::string& name) const;
  std::vector<int64_t> constant_ints(const std::string& name, const char* what) const;
  std::vector<float> constant_floats(const std::string& name, const char* what) const;
  int32_t add_constant(const std::string& name, DType dtype, const Shape& shape, AlignedBuffer data);

  // ---- layout ----
  int32_t nchw(const Value& v);  // an id holding v in NCHW (logical) layout
  int32_t nhwc(const Value& v);  // an id holding rank-4 v in NHWC layout
  int32_t lowered_constant(const Value& v);  // a constant, rewritten so it broadcasts against NHWC
  int32_t new_tensor(const std::string& name, DType dtype);
  int32_t emit(OpType type, std::vector<int32_t> inputs, OpAttrs attrs, const std::string& out_name, DType dtype,
               const std::string& op_name);
  int32_t transpose(int32_t id, const std::vector<int32_t>& perm, const std::string& suffix);

  // ---- node helpers ----
  const std::string& in(size_t i) const;
  std::string opt_in(size_t i) const;
  const std::string& out(size_t i) const;
  int64_t attr_int(const char* name, int64_t fallback) const;
  float attr_float(const char* name, float fallback) const;
  std::string attr_string(const char* name, const char* fallback) const;
  std::optional<std::vector<int64_t>> attr_ints(const char* name) const;
  int32_t output_op(OpType type, std::vector<int32_t> inputs, OpAttrs attrs, bool lowered, int rank, DType dtype);
  DType dtype_of(const Value& v) const { return graph_.tensor(v.id).dtype; }

  void convert_node();
  void convert_conv();
  void convert_pool(bool max);
  void convert_binary(OpType type);
  void convert_unary(OpType type, OpAttrs attrs = {});
  void convert_concat();
  void convert_transpose();
  void convert_reshape();
  void convert_shape();
  void convert_gather();
  void convert_axes_op(OpType type);
  void convert_slice();
  void convert_resize();
  void convert_softmax();
  void convert_constant();
  void convert_flatten();
  void convert_clip();

  std::string source_;
  onnx::ModelProto model_;
  Graph graph_;
  std::unordered_map<std::string, Value> values_;
  std::unordered_map<std::string, PendingConstant> pending_;
  std::unordered_map<std::string, int> value_info_rank_;
  std::unordered_map<int32_t, int32_t> nchw_of_, nhwc_of_, lowered_constant_of_;
  std::unordered_map<std::string, int32_t> rewritten_weights_;
  const onnx::Node* node_ = nullptr;
  std::string where_;
  int node_index_ = 0;
};

// ---- values ------------------------------------------------------------------------------------

Value OnnxImporter::get(const std::string& name) {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  auto p = pending_.find(name);
  if (p == pending_.end()) fail("reads '" + name + "', which no earlier node, input or initializer defines");
  Value v;
  v.rank = p->second.shape.rank();
  v.id = add_constant(name, p->second.dtype, p->second.shape, std::move(p->second.data));
  pending_.erase(p);
  values_[name] = v;
  return v;
}

void OnnxImporter::define(const std::string& name, Value v) {
  if (name.empty()) return;
  if (known(name)) fail("redefines '" + name + "' (ONNX graphs are single-assignment)");
  if (v.rank < 0) {
    if (auto it = value_info_rank_.find(name); it != value_info_rank_.end() && !v.lowered) v.rank = it->second;
  }
  values_[name] = v;
}

std::optional<ConstView> OnnxImporter::constant(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) {
    if (!graph_.is_constant(it->second.id)) return std::nullopt;
    const Tensor& t = graph_.tensor(it->second.id);
    const AlignedBuffer& data = graph_.constant_data(it->second.id);
    return ConstView{t.dtype, t.shape, {data.data(), data.size()}};
  }
  if (auto it = pending_.find(name); it != pending_.end())
    return ConstView{it->second.dtype, it->second.shape, {it->second.data.data(), it->second.data.size()}};
  return std::nullopt;
}

std::vector<int64_t> OnnxImporter::constant_ints(const std::string& name, const char* what) const {
  const auto c = constant(name);
  if (!c) fail(std::string(what) + " '" + name + "' must be a constant (initializer or Constant node)");
  std::vector<int64_t> values;
  const auto n = static_cast<size_t>(c->count());
  if (c->dtype == DType::kI64) {
    for (size_t i = 0; i < n; ++i) values.push_back(import_detail::load_le<int64_t>(c->bytes.data() + 8 * i));
  } else if (c->dtype == DType::kI32) {
    for (size_t i = 0; i < n; ++i) values.push_back(import_detail::load_le<int32_t>(c->bytes.data() + 4 * i));
  } else {
    fail(std::string(what) + " '" + name + "' must be int32 or int64");
  }
  return values;
}

std::vector<float> OnnxImporter::constant_floats(const std::string& name, const char* what) const {
  const auto c = constant(name);
  if (!c) fail(std::string(what) + " '" + name + "' must be a constant (initializer or Constant node)");
  if (c->dtype != DType::kF32) fail(std::string(what) + " '" + name + "' must be float32");
  std::vector<float> values(static_cast<size_t>(c->count()));
  if (!values.empty()) std::memcpy(values.data(), c->bytes.data(), values.size() * 4);
  return values;
}

int32_t OnnxImporter::add_constant(const std::string& name, DType dtype, const Shape& shape, AlignedBuffer data) {
  return graph_.add_constant(name, dtype, shape, std::move(data));
}

// ---- layout ------------------------------------------------------------------------------------

int32_t OnnxImporter::new_tensor(const std::string& name, DType dtype) {
  Tensor t;
  t.name = name;
  t.dtype = dtype;
  return graph_.add_tensor(std::move(t));
}

int32_t OnnxImporter::emit(OpType type, std::vector<int32_t> inputs, OpAttrs attrs, const std::string& out_name,
                           DType dtype, const std::string& op_name) {
  const int32_t out = new_tensor(out_name, dtype);
  Op op;
  op.type = type;
  op.inputs = std::move(inputs);
  op.outputs = {out};
  op.attrs = std::move(attrs);
  op.name = op_name;
  graph_.ops.push_back(std::move(op));
  return out;
}

int32_t OnnxImporter::transpose(int32_t id, const std::vector<int32_t>& perm, const std::string& suffix) {
  const Tensor& t = graph_.tensor(id);
  const std::string name = t.name + suffix;
  return emit(OpType::kTranspose, {id}, TransposeAttrs{perm}, name, t.dtype, name);
}

int32_t OnnxImporter::nchw(const Value& v) {
  if (!v.lowered) return v.id;
  if (auto it = nchw_of_.find(v.id); it != nchw_of_.end()) return it->second;
  const int32_t id = transpose(v.id, kToNchw, "/to_nchw");
  nchw_of_[v.id] = id;
  nhwc_of_[id] = v.id;
  return id;
}

int32_t OnnxImporter::nhwc(const Value& v) {
  if (v.lowered) return v.id;
  if (v.rank >= 0 && v.rank != 4) fail("needs a 4-D NCHW input, got rank " + std::to_string(v.rank));
  if (auto it = nhwc_of_.find(v.id); it != nhwc_of_.end()) return it->second;
  const int32_t id = transpose(v.id, kToNhwc, "/to_nhwc");
  nhwc_of_[v.id] = id;
  nchw_of_[id] = v.id;
  return id;
}

int32_t OnnxImporter::lowered_constant(const Value& v) {
  if (auto it = lowered_constant_of_.find(v.id); it != lowered_constant_of_.end()) return it->second;
  const Tensor& t = graph_.tensor(v.id);
  const AlignedBuffer& src = graph_.constant_data(v.id);
  // Numpy broadcasting aligns trailing dims: left-pad to rank 4, then permute NCHW -> NHWC.
  std::array<int64_t, 4> d = {1, 1, 1, 1};
  for (int i = 0; i < t.shape.rank(); ++i) d[static_cast<size_t>(4 - t.shape.rank() + i)] = t.shape[i];
  const Shape shape{d[0], d[2], d[3], d[1]};
  const size_t es = dtype_size(t.dtype);
  AlignedBuffer data(src.size());
  for (int64_t n = 0; n < d[0]; ++n)
    for (int64_t c = 0; c < d[1]; ++c)
      for (int64_t h = 0; h < d[2]; ++h)
        for (int64_t w = 0; w < d[3]; ++w) {
          const int64_t from = ((n * d[1] + c) * d[2] + h) * d[3] + w;
          const int64_t to = ((n * d[2] + h) * d[3] + w) * d[1] + c;
          std::memcpy(data.data() + to * static_cast<int64_t>(es), src.data() + from * static_cast<int64_t>(es), es);
        }
  const int32_t id = add_constant(t.name + "/nhwc", t.dtype, shape, std::move(data));
  lowered_constant_of_[v.id] = id;
  return id;
}

// ---- node helpers ------------------------------------------------------------------------------

const std::string& OnnxImporter::in(size_t i) const {
  if (i >= node_->inputs.size() || node_->inputs[i].empty()) fail("missing input " + std::to_string(i));
  return node_->inputs[i];
}

std::string OnnxImporter::opt_in(size_t i) const { return i < node_->inputs.size() ? node_->inputs[i] : std::string(); }

const std::string& OnnxImporter::out(size_t i) const {
  if (i >= node_->outputs.size() || node_->outputs[i].empty()) fail("missing output " + std::to_string(i));
  return node_->outputs[i];
}

int64_t OnnxImporter::attr_int(const char* name, int64_t fallback) const {
  const onnx::Attribute* a = node_->find(name);
  return a ? a->i : fallback;
}

float OnnxImporter::attr_float(const char* name, float fallback) const {
  const onnx::Attribute* a = node_->find(name);
  return a ? a->f : fallback;
}

std::string OnnxImporter::attr_string(const char* name, const char* fallback) const {
  const onnx::Attribute* a = node_->find(name);
  return a ? a->s : std::string(fallback);
}

std::optional<std::vector<int64_t>> OnnxImporter::attr_ints(const char* name) const {
  const onnx::Attribute* a = node_->find(name);
  if (!a) return std::nullopt;
  return a->ints;
}

int32_t OnnxImporter::output_op(OpType type, std::vector<int32_t> inputs, OpAttrs attrs, bool lowered, int rank,
                                DType dtype) {
  const std::string& name = out(0);
  const int32_t id = emit(type, std::move(inputs), std::move(attrs), name, dtype, node_->name.empty() ? name : node_->name);
  define(name, Value{id, lowered, rank});
  return id;
}

int32_t to_i32(int64_t v, const std::string& where, const char* what) {
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
    throw Error(where + ": " + what + " out of range");
  return static_cast<int32_t>(v);
}

// ---- ops ---------------------------------------------------------------------------------------

// Spatial attributes shared by Conv and the pools: strides, dilations, pads/auto_pad.
struct Spatial {
  int32_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  Padding padding;
};

Spatial read_spatial(const onnx::Node& node, const std::string& where) {
  Spatial s;
  auto pair = [&](const char* name, int32_t& a, int32_t& b) {
    const onnx::Attribute* attr = node.find(name);
    if (!attr) return;
    if (attr->ints.size() != 2) throw Error(where + ": '" + name + "' must have 2 values (only 2-D is supported)");
    a = to_i32(attr->ints[0], where, name);
    b = to_i32(attr->ints[1], where, name);
    if (a <= 0 || b <= 0) throw Error(where + ": '" + name + "' must be positive");
  };
  pair("strides", s.stride_h, s.stride_w);
  pair("dilations", s.dilation_h, s.dilation_w);
  const onnx::Attribute* auto_pad = node.find("auto_pad");
  const std::string mode = auto_pad ? auto_pad->s : "NOTSET";
  if (mode == "VALID") {
    s.padding.mode = PaddingMode::kValid;
  } else if (mode == "SAME_UPPER") {
    s.padding.mode = PaddingMode::kSame;  // extra padding at the end, as TFLite's SAME
  } else if (mode == "NOTSET") {
    if (const onnx::Attribute* pads = node.find("pads")) {
      if (pads->ints.size() != 4) throw Error(where + ": 'pads' must have 4 values");
      for (int64_t p : pads->ints)
        if (p < 0 || p > 1 << 20) throw Error(where + ": invalid pad " + std::to_string(p));
      // ONNX orders pads [x1_begin, x2_begin, x1_end, x2_end] with x1 = H, x2 = W.
      s.padding.top = static_cast<int32_t>(pads->ints[0]);
      s.padding.left = static_cast<int32_t>(pads->ints[1]);
      s.padding.bottom = static_cast<int32_t>(pads->ints[2]);
      s.padding.right = static_cast<int32_t>(pads->ints[3]);
    }
  } else {
    throw Error(where + ": auto_pad '" + mode + "' is not supported");
  }
  return s;
}

void OnnxImporter::convert_conv() {
  const Value x = get(in(0));
  const std::string& w_name = in(1);
  const auto w = constant(w_name);
  if (!w) fail("weights '" + w_name + "' must be a constant (initializer or Constant node)");
  if (w->shape.rank() != 4) fail("weights must be 4-D OIHW (only 2-D convolution is supported)");
  if (w->dtype != DType::kF32 && w->dtype != DType::kF16) fail("weights must be float");
  const int64_t O = w->shape[0], I = w->shape[1], KH = w->shape[2], KW = w->shape[3];
  if (O <= 0 || I <= 0 || KH <= 0 || KW <= 0) fail("weights have an empty dimension");
  if (auto ks = attr_ints("kernel_shape"); ks && (ks->size() != 2 || (*ks)[0] != KH || (*ks)[1] != KW))
    fail("kernel_shape does not match the weights");
  const int64_t group = attr_int("group", 1);
  if (group <= 0 || O % group) fail("invalid group " + std::to_string(group));
  const int64_t c_in = I * group;
  const Spatial s = read_spatial(*node_, where_);

  ConvAttrs a;
  a.stride_h = s.stride_h;
  a.stride_w = s.stride_w;
  a.dilation_h = s.dilation_h;
  a.dilation_w = s.dilation_w;
  a.padding = s.padding;
  // Depthwise: every group sees one input channel. ONNX output channel o = c*M + m belongs to
  // group c, which is exactly the IR's [1, KH, KW, C*M] channel order.
  const bool depthwise = group > 1 && group == c_in && I == 1;
  if (depthwise) a.depth_multiplier = static_cast<int32_t>(O / c_in);
  else a.groups = static_cast<int32_t>(group);
  const std::string b_name = opt_in(2);
  const int32_t bias = b_name.empty() ? -1 : get(b_name).id;
  const int32_t input = nhwc(x);
  // Rewritten weights are cached per initializer: nodes sharing weights share the copy, so a forged
  // file cannot multiply one large initializer by its node count.
  const std::string key = w_name + (depthwise ? "/1hwc" : "/ohwi");
  if (auto it = rewritten_weights_.find(key); it != rewritten_weights_.end()) {
    output_op(depthwise ? OpType::kDepthwiseConv2D : OpType::kConv2D, {input, it->second, bias}, a, true, 4, dtype_of(x));
    return;
  }
  const size_t es = dtype_size(w->dtype);
  AlignedBuffer data(w->bytes.size());
  Shape shape;
  if (depthwise) {
    shape = Shape{1, KH, KW, O};
    for (int64_t o = 0; o < O; ++o)
      for (int64_t k = 0; k < KH * KW; ++k)
        std::memcpy(data.data() + (k * O + o) * static_cast<int64_t>(es), w->bytes.data() + (o * KH * KW + k) * static_cast<int64_t>(es), es);
  } else {
    shape = Shape{O, KH, KW, I};  // OIHW -> OHWI
    for (int64_t o = 0; o < O; ++o)
      for (int64_t i = 0; i < I; ++i)
        for (int64_t k = 0; k < KH * KW; ++k)
          std::memcpy(data.data() + ((o * KH * KW + k) * I + i) * static_cast<int64_t>(es),
                      w->bytes.data() + ((o * I + i) * KH * KW + k) * static_cast<int64_t>(es), es);
  }
  const int32_t weights = add_constant(key, w->dtype, shape, std::move(data));
  rewritten_weights_[key] = weights;
  output_op(depthwise ? OpType::kDepthwiseConv2D : OpType::kConv2D, {input, weights, bias}, a, true, 4, dtype_of(x));
}

void OnnxImporter::convert_pool(bool max) {
  const Value x = get(in(0));
  if (node_->outputs.size() > 1 && !node_->outputs[1].empty()) fail("the Indices output is not supported");
  const auto ks = attr_ints("kernel_shape");
  if (!ks || ks->size() != 2) fail("kernel_shape must have 2 values");
  if (attr_int("ceil_mode", 0) != 0) fail("ceil_mode=1 is not supported");
  const Spatial s = read_spatial(*node_, where_);
  if (s.dilation_h != 1 || s.dilation_w != 1) fail("dilated pooling is not supported");
  const Padding& p = s.padding;
  if (!max && attr_int("count_include_pad", 0) != 0 &&
      (p.mode == PaddingMode::kSame || p.top || p.left || p.bottom || p.right))
    fail("count_include_pad=1 with padding is not supported");
  PoolAttrs a;
  a.filter_h = to_i32((*ks)[0], where_, "kernel_shape");
  a.filter_w = to_i32((*ks)[1], where_, "kernel_shape");
  if (a.filter_h <= 0 || a.filter_w <= 0) fail("kernel_shape must be positive");
  a.stride_h = s.stride_h;
  a.stride_w = s.stride_w;
  a.padding = p;
  output_op(max ? OpType::kMaxPool2D : OpType::kAvgPool2D, {nhwc(x)}, a, true, 4, dtype_of(x));
}

void OnnxImporter::convert_binary(OpType type) {
  Value a = get(in(0)), b = get(in(1));
  int rank = a.rank < 0 || b.rank < 0 ? -1 : std::max(a.rank, b.rank);
  bool lowered = false;
  if (a.lowered || b.lowered) {
    // Keep NHWC when the other operand can follow: lowered too, a rank-4 tensor (transpose it), a
    // one-element value, or a constant of rank <= 4 (rewritten once). Otherwise go back to NCHW.
    auto can_follow = [&](const Value& v) {
      if (v.lowered || v.rank == 4 || v.rank == 0) return true;
      if (graph_.is_constant(v.id)) return v.rank <= 4;
      return false;
    };
    auto follow = [&](Value& v) {
      if (v.lowered || v.rank == 0) return;
      if (graph_.is_constant(v.id)) {
        if (graph_.tensor(v.id).shape.num_elements() != 1) v.id = lowered_constant(v);
        return;
      }
      v.id = nhwc(v);
    };
    if (can_follow(a) && can_follow(b)) {
      follow(a);
      follow(b);
      lowered = true;
      rank = 4;
    } else {
      a.id = nchw(a);
      b.id = nchw(b);
    }
  }
  output_op(type, {a.id, b.id}, BinaryAttrs{}, lowered, rank, dtype_of(a));
}

void OnnxImporter::convert_unary(OpType type, OpAttrs attrs) {
  const Value x = get(in(0));
  output_op(type, {x.id}, std::move(attrs), x.lowered, x.rank, dtype_of(x));
}

void OnnxImporter::convert_concat() {
  const onnx::Attribute* axis_attr = node_->find("axis");
  if (!axis_attr) fail("missing 'axis'");
  std::vector<Value> inputs;
  bool any_lowered = false, all_rank4 = true;
  for (size_t i = 0; i < node_->inputs.size(); ++i) {
    inputs.push_back(get(in(i)));
    any_lowered = any_lowered || inputs.back().lowered;
    all_rank4 = all_rank4 && inputs.back().rank == 4;
  }
  if (inputs.empty()) fail("no inputs");
  int64_t axis = axis_attr->i;
  const bool lowered = any_lowered && all_rank4;
  std::vector<int32_t> ids;
  for (Value& v : inputs) ids.push_back(lowered ? nhwc(v) : nchw(v));
  if (lowered) {
    if (axis < -4 || axis > 3) fail("axis out of range");
    axis = kNchwAxisToNhwc[static_cast<size_t>(axis < 0 ? axis + 4 : axis)];
  }
  ConcatAttrs a;
  a.axis = to_i32(axis, where_, "axis");
  output_op(OpType::kConcat, ids, a, lowered, inputs[0].rank, dtype_of(inputs[0]));
}

void OnnxImporter::convert_transpose() {
  const Value x = get(in(0));
  std::vector<int32_t> perm;
  if (auto p = attr_ints("perm")) {
    for (int64_t v : *p) perm.push_back(to_i32(v, where_, "perm"));
  } else {
    if (x.rank < 0) fail("Transpose without 'perm' needs a known input rank");
    for (int i = x.rank - 1; i >= 0; --i) perm.push_back(i);
  }
  if (perm.size() > static_cast<size_t>(Shape::kMaxRank)) fail("perm too long");
  const int rank = static_cast<int>(perm.size());
  if (x.lowered) {
    if (perm.size() != 4) fail("perm does not match the 4-D input");
    // Output dim j is logical input dim perm[j], which sits at physical position
    // kNchwAxisToNhwc[perm[j]]: one transpose of the physical tensor does it.
    std::vector<int32_t> physical;
    for (int32_t p : perm) {
      if (p < 0 || p > 3) fail("perm out of range");
      physical.push_back(kNchwAxisToNhwc[static_cast<size_t>(p)]);
    }
    if (physical == std::vector<int32_t>{0, 1, 2, 3}) {
      // The usual "NCHW -> NHWC" before a head's Reshape: the data is already laid out that way.
      // Emit nothing; the output name maps to the same physical tensor, no longer lowered.
      define(out(0), Value{x.id, false, 4});
      return;
    }
    output_op(OpType::kTranspose, {x.id}, TransposeAttrs{physical}, false, rank, dtype_of(x));
    return;
  }
  if (perm == kToNchw && x.rank == 4 && !graph_.is_constant(x.id)) {
    // NHWC data made NCHW: as a lowered value it is the input itself.
    define(out(0), Value{x.id, true, 4});
    return;
  }
  output_op(OpType::kTranspose, {x.id}, TransposeAttrs{perm}, false, rank, dtype_of(x));
}

void OnnxImporter::convert_reshape() {
  const Value x = get(in(0));
  const std::string& shape_name = in(1);
  ReshapeAttrs a;
  a.zero_copies_dim = attr_int("allowzero", 0) == 0;
  std::vector<int32_t> inputs = {nchw(x)};
  int rank = -1;
  if (constant(shape_name)) {
    a.shape = constant_ints(shape_name, "shape");
    if (a.shape.size() > static_cast<size_t>(Shape::kMaxRank)) fail("target rank too large");
    rank = static_cast<int>(a.shape.size());
  } else {
    inputs.push_back(get(shape_name).id);  // computed from shapes: known at plan time
  }
  output_op(OpType::kReshape, inputs, a, false, rank, dtype_of(x));
}

void OnnxImporter::convert_shape() {
  const Value x = get(in(0));
  const std::string name = node_->name.empty() ? out(0) : node_->name;
  int32_t result;
  const bool slice = node_->find("start") || node_->find("end");
  const std::string shape_name = slice ? out(0) + "/full" : out(0);
  if (!x.lowered) {
    result = emit(OpType::kShape, {x.id}, {}, shape_name, DType::kI64, name);
  } else if (auto it = nchw_of_.find(x.id); it != nchw_of_.end()) {
    result = emit(OpType::kShape, {it->second}, {}, shape_name, DType::kI64, name);  // NCHW twin exists
  } else {
    // Shape of the NHWC tensor, then gathered back into NCHW order.
    const int32_t physical = emit(OpType::kShape, {x.id}, {}, out(0) + "/nhwc", DType::kI64, name);
    AlignedBuffer idx(4 * sizeof(int64_t));
    const int64_t order[4] = {0, 3, 1, 2};
    std::memcpy(idx.data(), order, sizeof order);
    const int32_t indices = add_constant(out(0) + "/nchw_order", DType::kI64, Shape{4}, std::move(idx));
    result = emit(OpType::kGather, {physical, indices}, GatherAttrs{0}, shape_name, DType::kI64, name + "/to_nchw");
  }
  if (slice) {
    SliceAttrs a;
    a.axes = {0};
    a.begin = {attr_int("start", 0)};
    a.end = {node_->find("end") ? attr_int("end", 0) : SliceAttrs::kSliceEnd};
    a.strides = {1};
    result = emit(OpType::kSlice, {result}, a, out(0), DType::kI64, name + "/slice");
  }
  define(out(0), Value{result, false, 1});
}

void OnnxImporter::convert_gather() {
  const Value x = get(in(0));
  const Value indices = get(in(1));
  const int rank = x.rank < 0 || indices.rank < 0 ? -1 : x.rank + indices.rank - 1;
  output_op(OpType::kGather, {nchw(x), indices.id}, GatherAttrs{to_i32(attr_int("axis", 0), where_, "axis")}, false,
            rank, dtype_of(x));
}

// Unsqueeze / Squeeze: axes from the attribute (opset < 13) or a constant second input.
void OnnxImporter::convert_axes_op(OpType type) {
  const Value x = get(in(0));
  AxesAttrs a;
  std::vector<int64_t> axes;
  if (auto attr = attr_ints("axes")) axes = *attr;
  else if (!opt_in(1).empty()) axes = constant_ints(opt_in(1), "axes");
  else if (type == OpType::kUnsqueeze) fail("missing axes");
  if (axes.size() > static_cast<size_t>(Shape::kMaxRank)) fail("too many axes");
  for (int64_t v : axes) a.axes.push_back(to_i32(v, where_, "axis"));
  int rank = -1;
  if (x.rank >= 0 && type == OpType::kUnsqueeze) rank = x.rank + static_cast<int>(axes.size());
  if (x.rank >= 0 && type == OpType::kSqueeze && !axes.empty()) rank = x.rank - static_cast<int>(axes.size());
  output_op(type, {nchw(x)}, a, false, rank, dtype_of(x));
}

void OnnxImporter::convert_slice() {
  const Value x = get(in(0));
  std::vector<int64_t> starts, ends, axes, steps;
  if (model_.opset < 10) {
    starts = attr_ints("starts").value_or(std::vector<int64_t>{});
    ends = attr_ints("ends").value_or(std::vector<int64_t>{});
    axes = attr_ints("axes").value_or(std::vector<int64_t>{});
  } else {
    starts = constant_ints(in(1), "starts");
    ends = constant_ints(in(2), "ends");
    if (!opt_in(3).empty()) axes = constant_ints(opt_in(3), "axes");
    if (!opt_in(4).empty()) steps = constant_ints(opt_in(4), "steps");
  }
  const size_t n = starts.size();
  if (axes.empty())
    for (size_t i = 0; i < n; ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(n, 1);
  if (ends.size() != n || axes.size() != n || steps.size() != n || n > static_cast<size_t>(Shape::kMaxRank))
    fail("starts, ends, axes and steps differ in length");
  SliceAttrs a;
  a.begin = starts;
  a.end = ends;
  a.strides = steps;
  for (size_t i = 0; i < n; ++i) {
    if (steps[i] == 0) fail("zero step");
    int64_t axis = axes[i];
    if (x.lowered) {  // slicing is layout-agnostic: remap the axis and stay NHWC
      if (axis < -4 || axis > 3) fail("axis out of range");
      axis = kNchwAxisToNhwc[static_cast<size_t>(axis < 0 ? axis + 4 : axis)];
    }
    a.axes.push_back(to_i32(axis, where_, "axis"));
  }
  output_op(OpType::kSlice, {x.id}, a, x.lowered, x.rank, dtype_of(x));
}

void OnnxImporter::convert_resize() {
  const Value x = get(in(0));
  if (x.rank >= 0 && x.rank != 4) fail("only 4-D Resize is supported");
  if (attr_int("antialias", 0) != 0) fail("antialias is not supported");
  if (node_->find("axes")) fail("the axes attribute is not supported");
  if (attr_string("keep_aspect_ratio_policy", "stretch") != "stretch") fail("keep_aspect_ratio_policy is not supported");
  ResizeAttrs a;
  const std::string mode = attr_string("mode", "nearest");
  if (mode == "nearest") a.mode = ResizeMode::kNearest;
  else if (mode == "linear") a.mode = ResizeMode::kBilinear;
  else fail("mode '" + mode + "' is not supported");
  const std::string ctm = attr_string("coordinate_transformation_mode", model_.opset >= 11 ? "half_pixel" : "asymmetric");
  if (ctm == "half_pixel") a.coordinates = ResizeCoordinates::kHalfPixel;
  else if (ctm == "pytorch_half_pixel") a.coordinates = ResizeCoordinates::kPytorchHalfPixel;
  else if (ctm == "align_corners") a.coordinates = ResizeCoordinates::kAlignCorners;
  else if (ctm == "asymmetric") a.coordinates = ResizeCoordinates::kAsymmetric;
  else if (ctm == "tf_half_pixel_for_nearest") a.coordinates = ResizeCoordinates::kTfHalfPixelForNearest;
  else fail("coordinate_transformation_mode '" + ctm + "' is not supported");
  const std::string nearest = attr_string("nearest_mode", "round_prefer_floor");
  if (nearest == "round_prefer_floor") a.nearest_rounding = ResizeNearestRounding::kRoundPreferFloor;
  else if (nearest == "round_prefer_ceil") a.nearest_rounding = ResizeNearestRounding::kRoundPreferCeil;
  else if (nearest == "floor") a.nearest_rounding = ResizeNearestRounding::kFloor;
  else if (nearest == "ceil") a.nearest_rounding = ResizeNearestRounding::kCeil;
  else fail("nearest_mode '" + nearest + "' is not supported");

  // Inputs: opset 10 (X, scales); opset >= 11 (X, roi, scales, sizes). An empty constant counts
  // as absent (exporters pass one for the unused of scales/sizes).
  const std::string scales_name = model_.opset >= 11 ? opt_in(2) : opt_in(1);
  const std::string sizes_name = model_.opset >= 11 ? opt_in(3) : std::string();
  auto present = [&](const std::string& name) {
    if (name.empty()) return false;
    const auto c = constant(name);
    return !c || c->count() > 0;
  };
  std::vector<int32_t> inputs = {nhwc(x)};
  if (present(sizes_name)) {
    if (constant(sizes_name)) {
      const auto sizes = constant_ints(sizes_name, "sizes");
      if (sizes.size() != 4) fail("sizes must have 4 values (N, C, H, W)");
      AlignedBuffer hw(2 * sizeof(int64_t));
      std::memcpy(hw.data(), &sizes[2], 2 * sizeof(int64_t));
      inputs.push_back(add_constant(out(0) + "/size_hw", DType::kI64, Shape{2}, std::move(hw)));
    } else {
      // Sizes computed in the graph (NCHW order): the IR wants [H, W], elements 2..3.
      SliceAttrs s;
      s.axes = {0};
      s.begin = {2};
      s.end = {4};
      s.strides = {1};
      const Value sizes = get(sizes_name);
      inputs.push_back(emit(OpType::kSlice, {sizes.id}, s, out(0) + "/size_hw", dtype_of(sizes),
                            (node_->name.empty() ? out(0) : node_->name) + "/size_hw"));
    }
  } else if (present(scales_name)) {
    const auto scales = constant_floats(scales_name, "scales");
    if (scales.size() != 4) fail("scales must have 4 values (N, C, H, W)");
    if (scales[0] != 1.f || scales[1] != 1.f) fail("resizing the batch or channel dimension is not supported");
    if (!(scales[2] > 0.f) || !(scales[3] > 0.f) || !std::isfinite(scales[2]) || !std::isfinite(scales[3]))
      fail("scales must be positive");
    a.scale_h = scales[2];
    a.scale_w = scales[3];
  } else {
    fail("needs scales or sizes");
  }
  output_op(OpType::kResize, inputs, a, true, 4, dtype_of(x));
}

void OnnxImporter::convert_softmax() {
  const Value x = get(in(0));
  int64_t axis = attr_int("axis", model_.opset >= 13 ? -1 : 1);
  if (model_.opset < 13) {
    // Before opset 13 Softmax flattened dims [axis, rank) into one: the same only on the last axis.
    const bool last = axis == -1 || (x.rank >= 0 && axis == x.rank - 1);
    if (!last) fail("Softmax before opset 13 is only supported on the last axis");
  }
  if (x.lowered) {
    if (axis < -4 || axis > 3) fail("axis out of range");
    axis = kNchwAxisToNhwc[static_cast<size_t>(axis < 0 ? axis + 4 : axis)];
  }
  SoftmaxAttrs a;
  a.axis = to_i32(axis, where_, "axis");
  output_op(OpType::kSoftmax, {x.id}, a, x.lowered, x.rank, dtype_of(x));
}

void OnnxImporter::convert_constant() {
  PendingConstant c;
  if (const onnx::Attribute* v = node_->find("value")) {
    if (!v->t) fail("'value' is not a tensor");
    c = decode_tensor(*v->t, where_ + ": value");
  } else if (const onnx::Attribute* f = node_->find("value_float")) {
    c.dtype = DType::kF32;
    c.data.resize(4);
    std::memcpy(c.data.data(), &f->f, 4);
  } else if (const onnx::Attribute* fs = node_->find("value_floats")) {
    c.dtype = DType::kF32;
    c.shape = Shape{static_cast<int64_t>(fs->floats.size())};
    c.data.resize(fs->floats.size() * 4);
    if (!fs->floats.empty()) std::memcpy(c.data.data(), fs->floats.data(), fs->floats.size() * 4);
  } else if (const onnx::Attribute* i = node_->find("value_int")) {
    c.dtype = DType::kI64;
    c.data.resize(8);
    std::memcpy(c.data.data(), &i->i, 8);
  } else if (const onnx::Attribute* is = node_->find("value_ints")) {
    c.dtype = DType::kI64;
    c.shape = Shape{static_cast<int64_t>(is->ints.size())};
    c.data.resize(is->ints.size() * 8);
    if (!is->ints.empty()) std::memcpy(c.data.data(), is->ints.data(), is->ints.size() * 8);
  } else {
    fail("unsupported Constant attribute (sparse or string values)");
  }
  const std::string& name = out(0);
  if (known(name)) fail("redefines '" + name + "'");
  pending_.emplace(name, std::move(c));
}

void OnnxImporter::convert_flatten() {
  const Value x = get(in(0));
  int64_t axis = attr_int("axis", 1);
  if (axis < 0 && x.rank >= 0) axis += x.rank;
  ReshapeAttrs a;
  a.zero_copies_dim = true;
  if (axis == 0) a.shape = {1, -1};
  else if (axis == 1) a.shape = {0, -1};
  else fail("Flatten is only supported with axis 0 or 1");
  output_op(OpType::kReshape, {nchw(x)}, a, false, 2, dtype_of(x));
}

void OnnxImporter::convert_clip() {
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  if (model_.opset < 11) {
    lo = attr_float("min", lo);
    hi = attr_float("max", hi);
  } else {
    auto bound = [&](size_t i, float& v) {
      if (opt_in(i).empty()) return;
      const auto values = constant_floats(opt_in(i), "clip bound");
      if (values.size() != 1) fail("clip bounds must be scalars");
      v = values[0];
    };
    bound(1, lo);
    bound(2, hi);
  }
  if (lo == 0.f && hi == 6.f) convert_unary(OpType::kRelu6);
  else if (lo == 0.f && std::isinf(hi) && hi > 0) convert_unary(OpType::kRelu);
  else fail("only Clip(0, 6) and Clip(0, inf) are supported");
}

void OnnxImporter::convert_node() {
  const std::string& t = node_->op_type;
  if (!node_->domain.empty() && node_->domain != "ai.onnx") fail("custom domain '" + node_->domain + "' is not supported");
  if (t == "Conv") convert_conv();
  else if (t == "Relu") convert_unary(OpType::kRelu);
  else if (t == "LeakyRelu") convert_unary(OpType::kLeakyRelu, LeakyReluAttrs{attr_float("alpha", 0.01f)});
  else if (t == "Sigmoid") convert_unary(OpType::kLogistic);
  else if (t == "Tanh") convert_unary(OpType::kTanh);
  else if (t == "Exp") convert_unary(OpType::kExp);
  else if (t == "Sqrt") convert_unary(OpType::kSqrt);
  else if (t == "Neg") convert_unary(OpType::kNeg);
  else if (t == "Clip") convert_clip();
  else if (t == "Cast") {
    const DType to = to_dtype(static_cast<int32_t>(attr_int("to", 0)), where_);
    const Value x = get(in(0));
    output_op(OpType::kCast, {x.id}, CastAttrs{static_cast<uint8_t>(to)}, x.lowered, x.rank, to);
  } else if (t == "Add") convert_binary(OpType::kAdd);
  else if (t == "Sub") convert_binary(OpType::kSub);
  else if (t == "Mul") convert_binary(OpType::kMul);
  else if (t == "Div") convert_binary(OpType::kDiv);
  else if (t == "Max" && node_->inputs.size() == 2) convert_binary(OpType::kMaximum);
  else if (t == "Min" && node_->inputs.size() == 2) convert_binary(OpType::kMinimum);
  else if (t == "PRelu") {
    const Value x = get(in(0));
    const Value slope = get(in(1));
    if (x.lowered && !(slope.rank == 0 || (graph_.is_constant(slope.id) && slope.rank <= 4))) fail("PRelu slope cannot follow the NHWC layout");
    const int32_t alpha = x.lowered && slope.rank != 0 ? lowered_constant(slope) : slope.id;
    output_op(OpType::kPRelu, {x.id, alpha}, {}, x.lowered, x.rank, dtype_of(x));
  } else if (t == "Concat") convert_concat();
  else if (t == "Transpose") convert_transpose();
  else if (t == "Reshape") convert_reshape();
  else if (t == "Flatten") convert_flatten();
  else if (t == "Shape") convert_shape();
  else if (t == "Gather") convert_gather();
  else if (t == "Unsqueeze") convert_axes_op(OpType::kUnsqueeze);
  else if (t == "Squeeze") convert_axes_op(OpType::kSqueeze);
  else if (t == "Slice") convert_slice();
  else if (t == "Resize") convert_resize();
  else if (t == "Softmax") convert_softmax();
  else if (t == "Constant") convert_constant();
  else if (t == "MaxPool") convert_pool(true);
  else if (t == "AveragePool") convert_pool(false);
  else if (t == "GlobalAveragePool") {
    const Value x = get(in(0));
    output_op(OpType::kMean, {nhwc(x)}, ReduceAttrs{{1, 2}, true}, true, 4, dtype_of(x));
  } else if (t == "Identity") {
    define(out(0), get(in(0)));
  } else {
    fail("unsupported op");
  }
}

Graph OnnxImporter::run() {
  graph_.source = source_;
  graph_.format = "onnx";
  where_ = source_;
  if (model_.opset < 0) fail("the model declares no opset for the default ONNX domain");
  if (model_.opset < 7) fail("opset " + std::to_string(model_.opset) + " is too old (need >= 7)");
  const onnx::GraphProto& g = model_.graph;

  for (const onnx::TensorProto& t : g.initializers) {
    where_ = source_ + ": initializer '" + t.name + "'";
    if (t.name.empty()) fail("has no name");
    if (pending_.count(t.name)) fail("is defined twice");
    pending_.emplace(t.name, decode_tensor(t, where_));
  }
  for (const onnx::ValueInfo& v : g.value_infos)
    if (v.has_shape) value_info_rank_[v.name] = static_cast<int>(v.dims.size());
  for (const onnx::ValueInfo& v : g.inputs) {
    where_ = source_ + ": graph input '" + v.name + "'";
    if (pending_.count(v.name)) continue;  // IR < 4 lists initializers as inputs too
    if (v.name.empty() || values_.count(v.name)) fail("has no name or is listed twice");
    if (v.dims.size() > static_cast<size_t>(Shape::kMaxRank)) fail("rank too large");
    Tensor t;
    t.name = v.name;
    t.dtype = to_dtype(v.elem_type, where_);
    t.shape = Shape(std::span<const int64_t>(v.dims));
    t.shape_known = v.has_shape;
    const int32_t id = graph_.add_tensor(std::move(t));
    graph_.inputs.push_back(id);
    values_[v.name] = Value{id, false, v.has_shape ? static_cast<int>(v.dims.size()) : -1};
  }

  for (const onnx::Node& node : g.nodes) {
    node_ = &node;
    where_ = source_ + ": node #" + std::to_string(node_index_) + " '" +
             (node.name.empty() ? (node.outputs.empty() ? std::string("?") : node.outputs[0]) : node.name) + "' (" +
             node.op_type + ")";
    convert_node();
    ++node_index_;
  }
  node_ = nullptr;

  for (const onnx::ValueInfo& v : g.outputs) {
    where_ = source_ + ": graph output '" + v.name + "'";
    if (!known(v.name)) fail("is never produced");
    const Value value = get(v.name);
    int32_t id = nchw(value);  // users see ONNX (NCHW) semantics
    const bool is_input = std::find(graph_.inputs.begin(), graph_.inputs.end(), id) != graph_.inputs.end();
    const bool is_output = std::find(graph_.outputs.begin(), graph_.outputs.end(), id) != graph_.outputs.end();
    if (graph_.tensor(id).name != v.name) {
      if (is_input || is_output || graph_.is_constant(id)) {
        // An alias of an input, a constant or another output: give it a tensor of its own.
        const int rank = value.rank;
        if (rank < 0) fail("aliases another tensor of unknown rank");
        ReshapeAttrs identity;
        identity.shape.assign(static_cast<size_t>(rank), 0);
        identity.zero_copies_dim = true;
        id = emit(OpType::kReshape, {id}, identity, v.name, graph_.tensor(id).dtype, v.name + "/identity");
      } else {
        graph_.tensors[static_cast<size_t>(id)].name = v.name;  // an alias or inserted transpose: take the ONNX name
      }
    }
    Tensor& t = graph_.tensors[static_cast<size_t>(id)];
    if (v.has_shape && !t.shape_known && v.dims.size() <= static_cast<size_t>(Shape::kMaxRank)) {
      t.shape = Shape(std::span<const int64_t>(v.dims));
      t.shape_known = true;
    }
    if (v.elem_type != onnx::kUndefined) t.dtype = to_dtype(v.elem_type, where_);
    graph_.outputs.push_back(id);
  }
  import_detail::prune_unused_constants(graph_);
  return std::move(graph_);
}

}  // namespace

Graph import_onnx(std::span<const std::byte> bytes, const std::string& source) {
  return OnnxImporter(bytes, source).run();
}

}  // namespace facepipe::engine
