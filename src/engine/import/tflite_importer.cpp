// TFLite flatbuffer -> graph IR.
//
// The IR's conventions are TFLite's (NHWC, OHWI conv weights, [1,KH,KW,C*M] depthwise weights), so
// most ops map one to one; the work here is validating the file and turning option tables and
// constant operand tensors (axes, paddings, perms, slice bounds) into typed attributes.
// DEQUANTIZE of a float16 constant is folded at import: consumers read an f32 constant instead.
#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "common/half.h"
#include "common/status.h"
#include "engine/import/flatbuffer_reader.h"
#include "engine/import/import_util.h"
#include "engine/import/model_loader.h"

namespace facepipe::engine {
namespace {

// Field ids of the tables of tensorflow/lite/schema/schema.fbs that the importer reads.
namespace schema {
constexpr int kModelOperatorCodes = 1, kModelSubgraphs = 2, kModelBuffers = 4;
constexpr int kOpCodeDeprecatedBuiltin = 0, kOpCodeCustom = 1, kOpCodeBuiltin = 3;
constexpr int kSubgraphTensors = 0, kSubgraphInputs = 1, kSubgraphOutputs = 2, kSubgraphOperators = 3;
constexpr int kTensorShape = 0, kTensorType = 1, kTensorBuffer = 2, kTensorName = 3, kTensorQuantization = 4,
              kTensorShapeSignature = 7;
constexpr int kQuantizationScale = 2;
constexpr int kOperatorOpcodeIndex = 0, kOperatorInputs = 1, kOperatorOutputs = 2, kOperatorOptions = 4;
constexpr int kBufferData = 0, kBufferOffset = 1, kBufferSize = 2;

// TensorType
enum : int8_t { kFloat32 = 0, kFloat16 = 1, kInt32 = 2, kUInt8 = 3, kInt64 = 4, kBool = 6, kInt8 = 9 };

// BuiltinOperator values used below.
enum : int32_t {
  kAdd = 0, kAveragePool2D = 1, kConcatenation = 2, kConv2D = 3, kDepthwiseConv2D = 4, kDequantize = 6,
  kFullyConnected = 9, kLogistic = 14, kMaxPool2D = 17, kMul = 18, kRelu = 19, kRelu6 = 21, kReshape = 22,
  kResizeBilinear = 23, kSoftmax = 25, kTanh = 28, kCustom = 32, kPad = 34, kGather = 36, kTranspose = 39,
  kMean = 40, kSub = 41, kDiv = 42, kSqueeze = 43, kStridedSlice = 45, kExp = 47, kCast = 53, kPRelu = 54,
  kMaximum = 55, kMinimum = 57, kNeg = 59, kSum = 74, kSqrt = 75, kRsqrt = 76, kResizeNearestNeighbor = 97,
  kLeakyRelu = 98, kSquaredDifference = 99,
};

// Names of BuiltinOperator 0..99, for error messages.
constexpr std::array<const char*, 100> kBuiltinNames = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
    "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU",
    "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
    "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB",
    "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
    "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
    "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE",
    "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT",
    "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT",
    "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL",
    "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE",
};
}  // namespace schema

std::string builtin_name(int32_t code) {
  std::string number = "builtin " + std::to_string(code);
  if (code >= 0 && code < static_cast<int32_t>(schema::kBuiltinNames.size()))
    return std::string(schema::kBuiltinNames[static_cast<size_t>(code)]) + " (" + number + ")";
  return number;
}

class TfliteImporter {
 public:
  TfliteImporter(std::span<const std::byte> bytes, const std::string& source)
      : file_(bytes, source), source_(source) {
    // Constants may legitimately share buffers, and fp16 folding doubles their size, but no real
    // model needs more than a few times its file size in constants: the cap stops a tiny forged file
    // from making thousands of tensors alias one large buffer.
    constant_budget_ = uint64_t{bytes.size()} * 4 + (1u << 20);
  }

  Graph run();

 private:
  struct OpContext {
    int index = 0;
    int32_t code = 0;
    std::vector<int32_t> inputs, outputs;  // tflite tensor ids
    fb::Table options;
    std::string where;  // "<source>: op #12 CONV_2D (output 'x')"
  };

  [[noreturn]] void fail(const std::string& what) const { throw Error(source_ + ": " + what); }
  fb::Table tensor(int32_t tfl) const;
  std::string tensor_name(int32_t tfl) const;
  // The constant bytes of a tflite tensor (empty when it is not a constant).
  std::span<const std::byte> buffer_data(int32_t tfl) const;
  DType tensor_dtype(int32_t tfl) const;
  Shape tensor_shape(int32_t tfl, bool prefer_signature, bool* present) const;
  // IR id of a tflite tensor, created on first use; -1 passes through (absent optional input).
  int32_t ir_tensor(int32_t tfl);
  int32_t add_constant_checked(const std::string& name, DType dtype, const Shape& shape, AlignedBuffer data);
  std::vector<int64_t> constant_ints(const OpContext& op, size_t input, const char* what) const;
  int32_t input(const OpContext& op, size_t i, const char* what);
  void convert_op(const OpContext& op);

  fb::Buffer file_;
  std::string source_;
  Graph graph_;
  fb::Vector tensors_;
  fb::Vector buffers_;
  std::vector<int32_t> ir_ids_;          // tflite tensor id -> IR tensor id (-1: not created yet)
  std::vector<int32_t> folded_source_;   // tflite tensor id -> f16 constant it dequantizes (-1: none)
  uint64_t constant_budget_ = 0;
  uint64_t constant_bytes_ = 0;
};

fb::Table TfliteImporter::tensor(int32_t tfl) const {
  if (tfl < 0 || static_cast<uint32_t>(tfl) >= tensors_.size())
    fail("tensor index " + std::to_string(tfl) + " out of range (" + std::to_string(tensors_.size()) + " tensors)");
  return tensors_.table(static_cast<uint32_t>(tfl));
}

std::string TfliteImporter::tensor_name(int32_t tfl) const {
  const fb::Table t = tensor(tfl);
  return t.has(schema::kTensorName) ? std::string(t.string(schema::kTensorName)) : "tensor#" + std::to_string(tfl);
}

std::span<const std::byte> TfliteImporter::buffer_data(int32_t tfl) const {
  const uint32_t index = tensor(tfl).scalar<uint32_t>(schema::kTensorBuffer, 0);
  if (index == 0) return {};  // buffer 0 is the empty sentinel by convention
  if (index >= buffers_.size()) fail("tensor '" + tensor_name(tfl) + "' refers to missing buffer " + std::to_string(index));
  const fb::Table b = buffers_.table(index);
  const fb::Vector data = b.vector(schema::kBufferData, 1);
  if (!data.empty()) return data.bytes();
  // Models over 2 GB keep buffers after the flatbuffer, addressed from the start of the file.
  // Offset 1 is a placeholder the converter writes before it knows the real offset.
  const uint64_t offset = b.scalar<uint64_t>(schema::kBufferOffset, 0);
  const uint64_t size = b.scalar<uint64_t>(schema::kBufferSize, 0);
  if (offset > 1 && size > 0) {
    if (offset > file_.size() || size > file_.size() - offset)
      fail("buffer " + std::to_string(index) + " of tensor '" + tensor_name(tfl) + "' lies past the end of the file");
    return file_.data().subspan(static_cast<size_t>(offset), static_cast<size_t>(size));
  }
  return {};
}

DType TfliteImporter::tensor_dtype(int32_t tfl) const {
  const fb::Table t = tensor(tfl);
  const auto type = t.scalar<int8_t>(schema::kTensorType, schema::kFloat32);
  DType dtype;
  switch (type) {
    case schema::kFloat32: dtype = DType::kF32; break;
    case schema::kFloat16: dtype = DType::kF16; break;
    case schema::kInt32: dtype = DType::kI32; break;
    case schema::kInt64: dtype = DType::kI64; break;
    case schema::kUInt8: dtype = DType::kU8; break;
    case schema::kInt8: dtype = DType::kI8; break;
    case schema::kBool: dtype = DType::kBool; break;
    default: fail("tensor '" + tensor_name(tfl) + "' has unsupported TFLite tensor type " + std::to_string(type));
  }
  // Integer tensors with scales are quantized activations/weights: the IR has no quantized
  // arithmetic, and running them as plain integers would silently compute garbage.
  if (dtype == DType::kU8 || dtype == DType::kI8) {
    const fb::Table q = t.table(schema::kTensorQuantization);
    if (q.valid() && !q.vector(schema::kQuantizationScale, 4).empty())
      fail("tensor '" + tensor_name(tfl) + "' is quantized; quantized models are not supported");
  }
  return dtype;
}

Shape TfliteImporter::tensor_shape(int32_t tfl, bool prefer_signature, bool* present) const {
  const fb::Table t = tensor(tfl);
  fb::Vector dims;
  if (prefer_signature && t.has(schema::kTensorShapeSignature)) dims = t.vector(schema::kTensorShapeSignature, 4);
  else dims = t.vector(schema::kTensorShape, 4);
  if (present) *present = t.has(schema::kTensorShape) || t.has(schema::kTensorShapeSignature);
  if (dims.size() > static_cast<uint32_t>(Shape::kMaxRank))
    fail("tensor '" + tensor_name(tfl) + "' has rank " + std::to_string(dims.size()) + " (max " +
         std::to_string(Shape::kMaxRank) + ")");
  Shape shape;
  for (uint32_t i = 0; i < dims.size(); ++i) {
    const int32_t d = dims.scalar<int32_t>(i);
    if (d < -1) fail("tensor '" + tensor_name(tfl) + "' has invalid dimension " + std::to_string(d));
    shape.push_back(d);
  }
  return shape;
}

int32_t TfliteImporter::add_constant_checked(const std::string& name, DType dtype, const Shape& shape,
                                             AlignedBuffer data) {
  constant_bytes_ += data.size();
  if (constant_bytes_ > constant_budget_)
    fail("constant data exceeds " + std::to_string(constant_budget_) + " bytes (buffers shared implausibly often)");
  return graph_.add_constant(name, dtype, shape, std::move(data));
}

int32_t TfliteImporter::ir_tensor(int32_t tfl) {
  if (tfl == -1) return -1;
  tensor(tfl);  // range check
  int32_t& id = ir_ids_[static_cast<size_t>(tfl)];
  if (id >= 0) return id;
  const std::string name = tensor_name(tfl);

  if (const int32_t src = folded_source_[static_cast<size_t>(tfl)]; src >= 0) {
    // fp16 weights behind DEQUANTIZE: convert once here, so no Dequantize op reaches the backends.
    const auto half_bytes = buffer_data(src);
    const Shape shape = tensor_shape(src, false, nullptr);
    const auto count = import_detail::checked_element_count(shape.dims());
    if (!count || static_cast<uint64_t>(*count) * 2 != half_bytes.size())
      fail("float16 constant '" + tensor_name(src) + "' holds " + std::to_string(half_bytes.size()) +
           " bytes, which does not fit its shape " + shape.to_string());
    AlignedBuffer data(static_cast<size_t>(*count) * sizeof(float));
    auto* out = data.as<float>();
    for (int64_t i = 0; i < *count; ++i)
      out[i] = half_to_float(import_detail::load_le<uint16_t>(half_bytes.data() + 2 * i));
    return id = add_constant_checked(name, DType::kF32, shape, std::move(data));
  }

  const DType dtype = tensor_dtype(tfl);
  const auto bytes = buffer_data(tfl);
  if (!bytes.empty()) {
    const Shape shape = tensor_shape(tfl, false, nullptr);
    const auto count = import_detail::checked_element_count(shape.dims());
    if (!count || static_cast<uint64_t>(*count) * dtype_size(dtype) != bytes.size())
      fail("constant tensor '" + name + "' holds " + std::to_string(bytes.size()) +
           " bytes, which does not fit its shape " + shape.to_string() + " of " + std::string(dtype_name(dtype)));
    AlignedBuffer data(bytes.size());
    std::memcpy(data.data(), bytes.data(), bytes.size());
    return id = add_constant_checked(name, dtype, shape, std::move(data));
  }

  Tensor t;
  t.name = name;
  t.dtype = dtype;
  bool present = false;
  t.shape = tensor_shape(tfl, true, &present);
  t.shape_known = present;
  return id = graph_.add_tensor(std::move(t));
}

std::vector<int64_t> TfliteImporter::constant_ints(const OpContext& op, size_t input, const char* what) const {
  if (input >= op.inputs.size() || op.inputs[input] < 0) throw Error(op.where + ": missing " + what + " input");
  const int32_t tfl = op.inputs[input];
  const auto bytes = buffer_data(tfl);
  const DType dtype = tensor_dtype(tfl);
  // An empty tensor (a 0 in its shape) legitimately has no buffer; anything else must be constant.
  const auto declared = import_detail::checked_element_count(tensor_shape(tfl, false, nullptr).dims());
  if (bytes.empty() && declared != int64_t{0})
    throw Error(op.where + ": " + what + " tensor '" + tensor_name(tfl) + "' must be a constant");
  std::vector<int64_t> values;
  if (dtype == DType::kI32) {
    if (bytes.size() % 4) throw Error(op.where + ": ragged " + what + " constant");
    for (size_t i = 0; i < bytes.size(); i += 4) values.push_back(import_detail::load_le<int32_t>(bytes.data() + i));
  } else if (dtype == DType::kI64) {
    if (bytes.size() % 8) throw Error(op.where + ": ragged " + what + " constant");
    for (size_t i = 0; i < bytes.size(); i += 8) values.push_back(import_detail::load_le<int64_t>(bytes.data() + i));
  } else {
    throw Error(op.where + ": " + what + " tensor '" + tensor_name(tfl) + "' must be int32 or int64");
  }
  return values;
}

int32_t TfliteImporter::input(const OpContext& op, size_t i, const char* what) {
  if (i >= op.inputs.size() || op.inputs[i] < 0) throw Error(op.where + ": missing " + what + " input");
  return ir_tensor(op.inputs[i]);
}

Activation to_activation(int8_t fused, const std::string& where) {
  switch (fused) {
    case 0: return Activation::kNone;
    case 1: return Activation::kRelu;
    case 2: return Activation::kReluN1To1;
    case 3: return Activation::kRelu6;
    case 4: return Activation::kTanh;
    default: throw Error(where + ": unsupported fused activation " + std::to_string(fused));
  }
}

PaddingMode to_padding(int8_t padding, const std::string& where) {
  if (padding == 0) return PaddingMode::kSame;
  if (padding == 1) return PaddingMode::kValid;
  throw Error(where + ": unknown padding " + std::to_string(padding));
}

int32_t positive(int32_t v, const char* what, const std::string& where) {
  if (v <= 0) throw Error(where + ": invalid " + what + " " + std::to_string(v));
  return v;
}

void TfliteImporter::convert_op(const OpContext& op) {
  Op out;
  out.name = op.outputs.empty() ? "op#" + std::to_string(op.index) : tensor_name(op.outputs[0]);
  const fb::Table& o = op.options;
  const std::string& where = op.where;
  auto data_inputs = [&](size_t count) {
    for (size_t i = 0; i < count; ++i) out.inputs.push_back(input(op, i, "data"));
  };
  auto binary = [&](OpType type, int field) {
    out.type = type;
    data_inputs(2);
    BinaryAttrs a;
    if (field >= 0) a.activation = to_activation(o.scalar<int8_t>(field, 0), where);
    out.attrs = a;
  };
  auto unary = [&](OpType type) {
    out.type = type;
    data_inputs(1);
  };
  auto reduce = [&](OpType type) {
    out.type = type;
    data_inputs(1);
    ReduceAttrs a;
    for (int64_t axis : constant_ints(op, 1, "axis")) a.axes.push_back(static_cast<int32_t>(axis));
    a.keep_dims = o.scalar<uint8_t>(0, 0) != 0;  // ReducerOptions.keep_dims
    out.attrs = a;
  };

  switch (op.code) {
    case schema::kConv2D:
    case schema::kDepthwiseConv2D: {
      const bool depthwise = op.code == schema::kDepthwiseConv2D;
      out.type = depthwise ? OpType::kDepthwiseConv2D : OpType::kConv2D;
      out.inputs = {input(op, 0, "data"), input(op, 1, "weights"), op.inputs.size() > 2 ? ir_tensor(op.inputs[2]) : -1};
      if (!o.valid()) throw Error(where + ": missing options");
      ConvAttrs a;
      // Conv2DOptions: padding 0, stride_w 1, stride_h 2, activation 3, dilation_w 4, dilation_h 5.
      // DepthwiseConv2DOptions: the same but depth_multiplier at 3, shifting the rest by one.
      const int shift = depthwise ? 1 : 0;
      a.padding.mode = to_padding(o.scalar<int8_t>(0, 0), where);
      a.stride_w = positive(o.scalar<int32_t>(1, 0), "stride", where);
      a.stride_h = positive(o.scalar<int32_t>(2, 0), "stride", where);
      a.activation = to_activation(o.scalar<int8_t>(3 + shift, 0), where);
      a.dilation_w = positive(o.scalar<int32_t>(4 + shift, 1), "dilation", where);
      a.dilation_h = positive(o.scalar<int32_t>(5 + shift, 1), "dilation", where);
      const Tensor& x = graph_.tensor(out.inputs[0]);
      const Tensor& w = graph_.tensor(out.inputs[1]);
      const bool channels_known = x.shape.rank() == 4 && x.shape[3] > 0 && w.shape.rank() == 4 && w.shape[3] > 0;
      if (depthwise) {
        a.depth_multiplier = o.scalar<int32_t>(3, 0);
        // Old converters wrote 0 or stale values; the weights' channel count is authoritative.
        if (channels_known && w.shape[3] % x.shape[3] == 0) a.depth_multiplier = static_cast<int32_t>(w.shape[3] / x.shape[3]);
        if (a.depth_multiplier <= 0) a.depth_multiplier = 1;
      } else if (channels_known && x.shape[3] % w.shape[3] == 0) {
        a.groups = static_cast<int32_t>(x.shape[3] / w.shape[3]);
      }
      out.attrs = a;
      break;
    }
    case schema::kMaxPool2D:
    case schema::kAveragePool2D: {
      out.type = op.code == schema::kMaxPool2D ? OpType::kMaxPool2D : OpType::kAvgPool2D;
      data_inputs(1);
      if (!o.valid()) throw Error(where + ": missing options");
      PoolAttrs a;  // Pool2DOptions: padding, stride_w, stride_h, filter_width, filter_height, activation
      a.padding.mode = to_padding(o.scalar<int8_t>(0, 0), where);
      a.stride_w = positive(o.scalar<int32_t>(1, 0), "stride", where);
      a.stride_h = positive(o.scalar<int32_t>(2, 0), "stride", where);
      a.filter_w = positive(o.scalar<int32_t>(3, 0), "filter size", where);
      a.filter_h = positive(o.scalar<int32_t>(4, 0), "filter size", where);
      a.activation = to_activation(o.scalar<int8_t>(5, 0), where);
      out.attrs = a;
      break;
    }
    case schema::kAdd: binary(OpType::kAdd, 0); break;
    case schema::kSub: binary(OpType::kSub, 0); break;
    case schema::kMul: binary(OpType::kMul, 0); break;
    case schema::kDiv: binary(OpType::kDiv, 0); break;
    case schema::kSquaredDifference: binary(OpType::kSquaredDifference, -1); break;
    case schema::kMaximum: binary(OpType::kMaximum, -1); break;
    case schema::kMinimum: binary(OpType::kMinimum, -1); break;
    case schema::kRelu: unary(OpType::kRelu); break;
    case schema::kRelu6: unary(OpType::kRelu6); break;
    case schema::kLogistic: unary(OpType::kLogistic); break;
    case schema::kTanh: unary(OpType::kTanh); break;
    case schema::kNeg: unary(OpType::kNeg); break;
    case schema::kSqrt: unary(OpType::kSqrt); break;
    case schema::kRsqrt: unary(OpType::kRsqrt); break;
    case schema::kExp: unary(OpType::kExp); break;
    case schema::kLeakyRelu: {
      unary(OpType::kLeakyRelu);
      out.attrs = LeakyReluAttrs{o.scalar<float>(0, 0.f)};  // LeakyReluOptions.alpha
      break;
    }
    case schema::kPRelu:
      out.type = OpType::kPRelu;
      out.inputs = {input(op, 0, "data"), input(op, 1, "alpha")};
      break;
    case schema::kDequantize:
      // Reached only for inputs that are not fp16 constants (those are folded): keep the op.
      unary(OpType::kDequantize);
      break;
    case schema::kCast: {
      unary(OpType::kCast);
      if (op.outputs.empty()) throw Error(where + ": no output");
      out.attrs = CastAttrs{static_cast<uint8_t>(tensor_dtype(op.outputs[0]))};
      break;
    }
    case schema::kConcatenation: {
      out.type = OpType::kConcat;
      if (op.inputs.empty()) throw Error(where + ": no inputs");
      for (size_t i = 0; i < op.inputs.size(); ++i) out.inputs.push_back(input(op, i, "data"));
      ConcatAttrs a;  // ConcatenationOptions: axis 0, activation 1
      a.axis = o.scalar<int32_t>(0, 0);
      a.activation = to_activation(o.scalar<int8_t>(1, 0), where);
      out.attrs = a;
      break;
    }
    case schema::kReshape: {
      out.type = OpType::kReshape;
      data_inputs(1);
      ReshapeAttrs a;
      const bool has_shape_input = op.inputs.size() > 1 && op.inputs[1] >= 0;
      if (has_shape_input && !buffer_data(op.inputs[1]).empty()) {
        a.shape = constant_ints(op, 1, "shape");  // a constant shape becomes an attribute
      } else if (has_shape_input) {
        out.inputs.push_back(ir_tensor(op.inputs[1]));  // computed at plan time
      } else if (o.valid() && o.has(0)) {
        const fb::Vector v = o.vector(0, 4);  // ReshapeOptions.new_shape
        for (uint32_t i = 0; i < v.size(); ++i) a.shape.push_back(v.scalar<int32_t>(i));
      } else {
        throw Error(where + ": neither a shape input nor new_shape");
      }
      if (a.shape.size() > static_cast<size_t>(Shape::kMaxRank)) throw Error(where + ": target rank too large");
      out.attrs = a;
      break;
    }
    case schema::kSqueeze: {
      unary(OpType::kSqueeze);
      AxesAttrs a;
      const fb::Vector v = o.vector(0, 4);  // SqueezeOptions.squeeze_dims
      for (uint32_t i = 0; i < v.size(); ++i) a.axes.push_back(v.scalar<int32_t>(i));
      out.attrs = a;
      break;
    }
    case schema::kResizeBilinear:
    case schema::kResizeNearestNeighbor: {
      out.type = OpType::kResize;
      out.inputs = {input(op, 0, "data"), input(op, 1, "size")};  // the size tensor stays an input
      ResizeAttrs a;
      const bool bilinear = op.code == schema::kResizeBilinear;
      // ResizeBilinearOptions: align_corners 2, half_pixel_centers 3 (0/1 are deprecated sizes);
      // ResizeNearestNeighborOptions: align_corners 0, half_pixel_centers 1.
      const bool align_corners = o.scalar<uint8_t>(bilinear ? 2 : 0, 0) != 0;
      const bool half_pixel = o.scalar<uint8_t>(bilinear ? 3 : 1, 0) != 0;
      a.mode = bilinear ? ResizeMode::kBilinear : ResizeMode::kNearest;
      if (align_corners) a.coordinates = ResizeCoordinates::kAlignCorners;
      else if (half_pixel) a.coordinates = bilinear ? ResizeCoordinates::kHalfPixel : ResizeCoordinates::kTfHalfPixelForNearest;
      else a.coordinates = ResizeCoordinates::kAsymmetric;
      // TF's nearest kernel rounds with roundf under align_corners and floors otherwise.
      a.nearest_rounding = align_corners ? ResizeNearestRounding::kRoundPreferCeil : ResizeNearestRounding::kFloor;
      out.attrs = a;
      break;
    }
    case schema::kPad: {
      unary(OpType::kPad);
      PadAttrs a;
      a.pads = constant_ints(op, 1, "paddings");  // [rank, 2] row-major = {before0, after0, ...}
      if (a.pads.size() % 2 || a.pads.size() > 2 * static_cast<size_t>(Shape::kMaxRank))
        throw Error(where + ": paddings must have shape [rank, 2]");
      out.attrs = a;
      break;
    }
    case schema::kTranspose: {
      unary(OpType::kTranspose);
      TransposeAttrs a;
      for (int64_t p : constant_ints(op, 1, "perm")) a.perm.push_back(static_cast<int32_t>(p));
      if (a.perm.size() > static_cast<size_t>(Shape::kMaxRank)) throw Error(where + ": perm too long");
      out.attrs = a;
      break;
    }
    case schema::kMean: reduce(OpType::kMean); break;
    case schema::kSum: reduce(OpType::kSum); break;
    case schema::kStridedSlice: {
      unary(OpType::kSlice);
      // StridedSliceOptions: begin_mask 0, end_mask 1, ellipsis_mask 2, new_axis_mask 3,
      // shrink_axis_mask 4, offset 5.
      if (o.scalar<int32_t>(2, 0) != 0) throw Error(where + ": ellipsis_mask is not supported");
      if (o.scalar<int32_t>(3, 0) != 0) throw Error(where + ": new_axis_mask is not supported");
      if (o.scalar<uint8_t>(5, 0) != 0) throw Error(where + ": offset=true is not supported");
      const auto begin_mask = static_cast<uint32_t>(o.scalar<int32_t>(0, 0));
      const auto end_mask = static_cast<uint32_t>(o.scalar<int32_t>(1, 0));
      SliceAttrs a;
      a.begin = constant_ints(op, 1, "begin");
      a.end = constant_ints(op, 2, "end");
      a.strides = op.inputs.size() > 3 && op.inputs[3] >= 0 ? constant_ints(op, 3, "strides")
                                                          : std::vector<int64_t>(a.begin.size(), 1);
      if (a.end.size() != a.begin.size() || a.strides.size() != a.begin.size() ||
          a.begin.size() > static_cast<size_t>(Shape::kMaxRank))
        throw Error(where + ": begin, end and strides differ in length");
      for (size_t i = 0; i < a.begin.size(); ++i) {
        if (a.strides[i] == 0) throw Error(where + ": zero stride");
        a.axes.push_back(static_cast<int32_t>(i));
        if (begin_mask & (1u << i)) a.begin[i] = SliceAttrs::kSliceStart;
        if (end_mask & (1u << i)) a.end[i] = SliceAttrs::kSliceEnd;
      }
      a.shrink_axis_mask = static_cast<uint32_t>(o.scalar<int32_t>(4, 0));
      out.attrs = a;
      break;
    }
    case schema::kFullyConnected: {
      out.type = OpType::kFullyConnected;
      out.inputs = {input(op, 0, "data"), input(op, 1, "weights"), op.inputs.size() > 2 ? ir_tensor(op.inputs[2]) : -1};
      // FullyConnectedOptions: activation 0, weights_format 1, keep_num_dims 2.
      if (o.scalar<int8_t>(1, 0) != 0) throw Error(where + ": shuffled weight formats are not supported");
      FullyConnectedAttrs a;
      a.activation = to_activation(o.scalar<int8_t>(0, 0), where);
      a.keep_num_dims = o.scalar<uint8_t>(2, 0) != 0;
      out.attrs = a;
      break;
    }
    case schema::kSoftmax: {
      unary(OpType::kSoftmax);
      SoftmaxAttrs a;
      a.beta = o.scalar<float>(0, 1.f);  // SoftmaxOptions.beta
      out.attrs = a;
      break;
    }
    case schema::kGather: {
      out.type = OpType::kGather;
      out.inputs = {input(op, 0, "data"), input(op, 1, "indices")};
      if (o.scalar<int32_t>(1, 0) != 0) throw Error(where + ": batch_dims is not supported");
      out.attrs = GatherAttrs{o.scalar<int32_t>(0, 0)};
      break;
    }
    default:
      throw Error(where + ": unsupported op");
  }
  for (int32_t t : op.outputs) {
    if (t < 0) throw Error(where + ": missing output");
    out.outputs.push_back(ir_tensor(t));
  }
  graph_.ops.push_back(std::move(out));
}

Graph TfliteImporter::run() {
  graph_.source = source_;
  graph_.format = "tflite";
  const fb::Table model = file_.root();
  const fb::Vector opcodes = model.table_vector(schema::kModelOperatorCodes);
  const fb::Vector subgraphs = model.table_vector(schema::kModelSubgraphs);
  buffers_ = model.table_vector(schema::kModelBuffers);
  if (subgraphs.empty()) fail("model has no subgraphs");
  const fb::Table subgraph = subgraphs.table(0);
  tensors_ = subgraph.table_vector(schema::kSubgraphTensors);
  const fb::Vector operators = subgraph.table_vector(schema::kSubgraphOperators);
  ir_ids_.assign(tensors_.size(), -1);
  folded_source_.assign(tensors_.size(), -1);

  // Builtin code of each operator code: newer files use builtin_code (int32) and keep
  // deprecated_builtin_code (int8) saturated at 127, older ones only have the latter.
  std::vector<int32_t> codes;
  std::vector<std::string> custom_names;
  for (uint32_t i = 0; i < opcodes.size(); ++i) {
    const fb::Table c = opcodes.table(i);
    const int32_t deprecated = c.scalar<int8_t>(schema::kOpCodeDeprecatedBuiltin, 0);
    const int32_t builtin = c.scalar<int32_t>(schema::kOpCodeBuiltin, 0);
    codes.push_back(std::max(deprecated, builtin));
    custom_names.push_back(c.string_or(schema::kOpCodeCustom, ""));
  }

  // Gather the operators first; mark DEQUANTIZE ops over fp16 constants for folding.
  std::vector<OpContext> ops;
  ops.reserve(operators.size());
  for (uint32_t i = 0; i < operators.size(); ++i) {
    const fb::Table t = operators.table(i);
    OpContext op;
    op.index = static_cast<int>(i);
    const uint32_t opcode_index = t.scalar<uint32_t>(schema::kOperatorOpcodeIndex, 0);
    if (opcode_index >= codes.size()) fail("op #" + std::to_string(i) + " has an invalid opcode index");
    op.code = codes[opcode_index];
    op.inputs = t.vector(schema::kOperatorInputs, 4).scalars<int32_t>();
    op.outputs = t.vector(schema::kOperatorOutputs, 4).scalars<int32_t>();
    op.options = t.table(schema::kOperatorOptions);
    std::string kind = op.code == schema::kCustom ? "CUSTOM '" + custom_names[opcode_index] + "'" : builtin_name(op.code);
    const std::string output = op.outputs.empty() || op.outputs[0] < 0 ? "?" : tensor_name(op.outputs[0]);
    op.where = source_ + ": op #" + std::to_string(i) + " " + kind + " (output '" + output + "')";
    if (op.code == schema::kDequantize && op.inputs.size() == 1 && op.outputs.size() == 1 && op.inputs[0] >= 0 &&
        op.outputs[0] >= 0 && tensor_dtype(op.inputs[0]) == DType::kF16 && !buffer_data(op.inputs[0]).empty()) {
      tensor(op.outputs[0]);  // range check
      int32_t& folded = folded_source_[static_cast<size_t>(op.outputs[0])];
      if (folded >= 0) fail("tensor '" + tensor_name(op.outputs[0]) + "' is written by two ops");
      folded = op.inputs[0];
      continue;
    }
    ops.push_back(std::move(op));
  }

  for (int32_t t : subgraph.vector(schema::kSubgraphInputs, 4).scalars<int32_t>()) {
    if (t < 0) fail("invalid graph input index");
    graph_.inputs.push_back(ir_tensor(t));
  }
  for (const OpContext& op : ops) convert_op(op);
  for (int32_t t : subgraph.vector(schema::kSubgraphOutputs, 4).scalars<int32_t>()) {
    if (t < 0) fail("invalid graph output index");
    graph_.outputs.push_back(ir_tensor(t));
  }
  return std::move(graph_);
}

}  // namespace

Graph import_tflite(std::span<const std::byte> bytes, const std::string& source) {
  return TfliteImporter(bytes, source).run();
}

}  // namespace facepipe::engine
