// The subset of onnx.proto that the ONNX importer reads, decoded with the protobuf wire reader into
// plain structs (no libprotobuf). Unknown fields are skipped, as protobuf requires. Byte payloads
// (raw_data) are views into the model bytes, which must outlive the structs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace facepipe::engine::onnx {

// TensorProto.DataType values used by the importer.
enum DataType : int32_t {
  kUndefined = 0, kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt16 = 5, kInt32 = 6, kInt64 = 7,
  kString = 8, kBool = 9, kFloat16 = 10, kDouble = 11,
};

// AttributeProto.AttributeType values.
enum AttributeType : int32_t {
  kAttrFloat = 1, kAttrInt = 2, kAttrString = 3, kAttrTensor = 4, kAttrGraph = 5, kAttrFloats = 6, kAttrInts = 7,
  kAttrStrings = 8,
};

struct TensorProto {
  std::string name;
  int32_t data_type = kUndefined;
  std::vector<int64_t> dims;
  bool has_raw_data = false;
  std::span<const std::byte> raw_data;
  std::vector<float> float_data;
  std::vector<int32_t> int32_data;
  std::vector<int64_t> int64_data;
  bool external = false;  // data_location == EXTERNAL or external_data present
};

struct Attribute {
  std::string name;
  int32_t type = 0;
  float f = 0;
  int64_t i = 0;
  std::string s;
  std::shared_ptr<TensorProto> t;  // shared_ptr: keeps Attribute copyable and small
  std::vector<float> floats;
  std::vector<int64_t> ints;
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;
  std::vector<std::string> inputs;   // "" marks an absent optional input
  std::vector<std::string> outputs;
  std::vector<Attribute> attributes;

  const Attribute* find(std::string_view attr) const {
    for (const Attribute& a : attributes)
      if (a.name == attr) return &a;
    return nullptr;
  }
};

struct ValueInfo {
  std::string name;
  int32_t elem_type = kUndefined;
  bool has_shape = false;
  std::vector<int64_t> dims;  // -1 for symbolic (dim_param) or unknown dimensions
  std::vector<std::string> dim_params;  // parallel to dims; "" where the dimension is numeric
};

struct GraphProto {
  std::string name;
  std::vector<Node> nodes;
  std::vector<TensorProto> initializers;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::vector<ValueInfo> value_infos;
};

struct ModelProto {
  int64_t ir_version = 0;
  int64_t opset = -1;  // version of the default ("" / "ai.onnx") domain; -1 when not declared
  std::string producer;
  bool has_graph = false;
  GraphProto graph;
};

// Throws facepipe::Error naming `source` on malformed protobuf or missing essentials.
ModelProto parse_model(std::span<const std::byte> bytes, const std::string& source);

}  // namespace facepipe::engine::onnx
