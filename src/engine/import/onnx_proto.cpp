#include "engine/import/onnx_proto.h"

#include "common/status.h"
#include "engine/import/protobuf_reader.h"

namespace facepipe::engine::onnx {
namespace {

// Field numbers from onnx/onnx.proto.
namespace field {
constexpr uint32_t kModelIrVersion = 1, kModelProducerName = 2, kModelGraph = 7, kModelOpsetImport = 8;
constexpr uint32_t kOpsetDomain = 1, kOpsetVersion = 2;
constexpr uint32_t kGraphNode = 1, kGraphName = 2, kGraphInitializer = 5, kGraphInput = 11, kGraphOutput = 12,
                   kGraphValueInfo = 13;
constexpr uint32_t kNodeInput = 1, kNodeOutput = 2, kNodeName = 3, kNodeOpType = 4, kNodeAttribute = 5,
                   kNodeDomain = 7;
constexpr uint32_t kAttrName = 1, kAttrF = 2, kAttrI = 3, kAttrS = 4, kAttrT = 5, kAttrFloats = 7, kAttrInts = 8,
                   kAttrType = 20;
constexpr uint32_t kTensorDims = 1, kTensorDataType = 2, kTensorFloatData = 4, kTensorInt32Data = 5,
                   kTensorInt64Data = 7, kTensorName = 8, kTensorRawData = 9, kTensorExternalData = 13,
                   kTensorDataLocation = 14;
constexpr uint32_t kValueInfoName = 1, kValueInfoType = 2;
constexpr uint32_t kTypeTensorType = 1;
constexpr uint32_t kTensorTypeElemType = 1, kTensorTypeShape = 2;
constexpr uint32_t kShapeDim = 1;
constexpr uint32_t kDimValue = 1, kDimParam = 2;
}  // namespace field

constexpr int64_t kDataLocationExternal = 1;

void expect(const pb::Field& f, pb::WireType type, const std::string& context) {
  if (f.type != type)
    throw Error(context + ": malformed protobuf (field " + std::to_string(f.number) + " has the wrong wire type)");
}

TensorProto parse_tensor(std::span<const std::byte> bytes, const std::string& context) {
  TensorProto t;
  pb::Reader r(bytes, context + ": TensorProto");
  pb::Field f;
  while (r.next(f)) {
    switch (f.number) {
      case field::kTensorDims: pb::append_int64s(f, t.dims, r.context()); break;
      case field::kTensorDataType: expect(f, pb::WireType::kVarint, r.context()); t.data_type = static_cast<int32_t>(f.varint); break;
      case field::kTensorFloatData: pb::append_floats(f, t.float_data, r.context()); break;
      case field::kTensorInt32Data: pb::append_int32s(f, t.int32_data, r.context()); break;
      case field::kTensorInt64Data: pb::append_int64s(f, t.int64_data, r.context()); break;
      case field::kTensorName: expect(f, pb::WireType::kLengthDelimited, r.context()); t.name = f.as_string(); break;
      case field::kTensorRawData:
        expect(f, pb::WireType::kLengthDelimited, r.context());
        t.has_raw_data = true;
        t.raw_data = f.bytes;
        break;
      case field::kTensorExternalData: t.external = true; break;
      case field::kTensorDataLocation: t.external = t.external || f.as_int64() == kDataLocationExternal; break;
      default: break;
    }
  }
  return t;
}

Attribute parse_attribute(std::span<const std::byte> bytes, const std::string& context) {
  Attribute a;
  pb::Reader r(bytes, context + ": AttributeProto");
  pb::Field f;
  while (r.next(f)) {
    switch (f.number) {
      case field::kAttrName: expect(f, pb::WireType::kLengthDelimited, r.context()); a.name = f.as_string(); break;
      case field::kAttrType: a.type = static_cast<int32_t>(f.varint); break;
      case field::kAttrF: expect(f, pb::WireType::kFixed32, r.context()); a.f = f.as_float(); break;
      case field::kAttrI: expect(f, pb::WireType::kVarint, r.context()); a.i = f.as_int64(); break;
      case field::kAttrS: expect(f, pb::WireType::kLengthDelimited, r.context()); a.s = f.as_string(); break;
      case field::kAttrT:
        expect(f, pb::WireType::kLengthDelimited, r.context());
        a.t = std::make_shared<TensorProto>(parse_tensor(f.bytes, context + ": attribute '" + a.name + "'"));
        break;
      case field::kAttrFloats: pb::append_floats(f, a.floats, r.context()); break;
      case field::kAttrInts: pb::append_int64s(f, a.ints, r.context()); break;
      default: break;  // graphs, sparse tensors, strings: not needed by supported ops
    }
  }
  return a;
}

Node parse_node(std::span<const std::byte> bytes, const std::string& context) {
  Node n;
  pb::Reader r(bytes, context + ": NodeProto");
  pb::Field f;
  while (r.next(f)) {
    switch (f.number) {
      case field::kNodeInput: expect(f, pb::WireType::kLengthDelimited, r.context()); n.inputs.emplace_back(f.as_string()); break;
      case field::kNodeOutput: expect(f, pb::WireType::kLengthDelimited, r.context()); n.outputs.emplace_back(f.as_string()); break;
      case field::kNodeName: expect(f, pb::WireType::kLengthDelimited, r.context()); n.name = f.as_string(); break;
      case field::kNodeOpType: expect(f, pb::WireType::kLengthDelimited, r.context()); n.op_type = f.as_string(); break;
      case field::kNodeDomain: expect(f, pb::WireType::kLengthDelimited, r.context()); n.domain = f.as_string(); break;
      case field::kNodeAttribute:
        expect(f, pb::WireType::kLengthDelimited, r.context());
        n.attributes.push_back(parse_attribute(f.bytes, context + ": node '" + n.name + "'"));
        break;
      default: break;
    }
  }
  return n;
}

// ValueInfoProto -> TypeProto -> TypeProto.Tensor -> TensorShapeProto -> Dimension: a fixed
// nesting, walked level by level.
ValueInfo parse_value_info(std::span<const std::byte> bytes, const std::string& context) {
  ValueInfo v;
  pb::Reader r(bytes, context + ": ValueInfoProto");
  pb::Field f;
  while (r.next(f)) {
    if (f.number == field::kValueInfoName) {
      expect(f, pb::WireType::kLengthDelimited, r.context());
      v.name = f.as_string();
    } else if (f.number == field::kValueInfoType) {
      expect(f, pb::WireType::kLengthDelimited, r.context());
      pb::Reader type(f.bytes, r.context());
      pb::Field tf;
      while (type.next(tf)) {
        if (tf.number != field::kTypeTensorType) continue;
        expect(tf, pb::WireType::kLengthDelimited, r.context());
        pb::Reader tensor(tf.bytes, r.context());
        pb::Field ttf;
        while (tensor.next(ttf)) {
          if (ttf.number == field::kTensorTypeElemType) {
            v.elem_type = static_cast<int32_t>(ttf.varint);
          } else if (ttf.number == field::kTensorTypeShape) {
            expect(ttf, pb::WireType::kLengthDelimited, r.context());
            v.has_shape = true;
            pb::Reader shape(ttf.bytes, r.context());
            pb::Field sf;
            while (shape.next(sf)) {
              if (sf.number != field::kShapeDim) continue;
              expect(sf, pb::WireType::kLengthDelimited, r.context());
              int64_t value = -1;
              std::string param;
              pb::Reader dim(sf.bytes, r.context());
              pb::Field df;
              while (dim.next(df)) {
                if (df.number == field::kDimValue && df.type == pb::WireType::kVarint) value = df.as_int64();
                else if (df.number == field::kDimParam && df.type == pb::WireType::kLengthDelimited) param = df.as_string();
              }
              if (value < 0) value = -1;  // symbolic or unknown
              v.dims.push_back(value);
              v.dim_params.push_back(std::move(param));
            }
          }
        }
      }
    }
  }
  return v;
}

GraphProto parse_graph(std::span<const std::byte> bytes, const std::string& context) {
  GraphProto g;
  pb::Reader r(bytes, context + ": GraphProto");
  pb::Field f;
  while (r.next(f)) {
    switch (f.number) {
      case field::kGraphNode: expect(f, pb::WireType::kLengthDelimited, r.context()); g.nodes.push_back(parse_node(f.bytes, context)); break;
      case field::kGraphName: expect(f, pb::WireType::kLengthDelimited, r.context()); g.name = f.as_string(); break;
      case field::kGraphInitializer:
        expect(f, pb::WireType::kLengthDelimited, r.context());
        g.initializers.push_back(parse_tensor(f.bytes, context + ": initializer"));
        break;
      case field::kGraphInput: expect(f, pb::WireType::kLengthDelimited, r.context()); g.inputs.push_back(parse_value_info(f.bytes, context)); break;
      case field::kGraphOutput: expect(f, pb::WireType::kLengthDelimited, r.context()); g.outputs.push_back(parse_value_info(f.bytes, context)); break;
      case field::kGraphValueInfo: expect(f, pb::WireType::kLengthDelimited, r.context()); g.value_infos.push_back(parse_value_info(f.bytes, context)); break;
      default: break;
    }
  }
  return g;
}

}  // namespace

ModelProto parse_model(std::span<const std::byte> bytes, const std::string& source) {
  ModelProto m;
  pb::Reader r(bytes, source + ": ModelProto");
  pb::Field f;
  while (r.next(f)) {
    switch (f.number) {
      case field::kModelIrVersion: expect(f, pb::WireType::kVarint, r.context()); m.ir_version = f.as_int64(); break;
      case field::kModelProducerName: expect(f, pb::WireType::kLengthDelimited, r.context()); m.producer = f.as_string(); break;
      case field::kModelGraph:
        expect(f, pb::WireType::kLengthDelimited, r.context());
        if (m.has_graph) throw Error(source + ": ModelProto has two graphs");
        m.graph = parse_graph(f.bytes, source);
        m.has_graph = true;
        break;
      case field::kModelOpsetImport: {
        expect(f, pb::WireType::kLengthDelimited, r.context());
        std::string domain;
        int64_t version = -1;
        pb::Reader o(f.bytes, source + ": OperatorSetIdProto");
        pb::Field of;
        while (o.next(of)) {
          if (of.number == field::kOpsetDomain && of.type == pb::WireType::kLengthDelimited) domain = of.as_string();
          else if (of.number == field::kOpsetVersion && of.type == pb::WireType::kVarint) version = of.as_int64();
        }
        if (domain.empty() || domain == "ai.onnx") m.opset = version;
        break;
      }
      default: break;
    }
  }
  if (!m.has_graph) throw Error(source + ": not an ONNX model (no graph; recognized formats: .task zip, TFLite, ONNX)");
  return m;
}

}  // namespace facepipe::engine::onnx
