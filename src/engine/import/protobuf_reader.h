// A minimal reader of the protobuf wire format, enough for ONNX models and MediaPipe's .binarypb
// metadata without depending on libprotobuf or generated code. Bounds are checked on every read;
// malformed input throws facepipe::Error (with the context given at construction), never reads out
// of range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace facepipe::engine::pb {

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

struct Field {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t varint = 0;                 // kVarint
  uint64_t fixed = 0;                  // kFixed32 (low 32 bits) / kFixed64
  std::span<const std::byte> bytes;    // kLengthDelimited

  int64_t as_int64() const { return static_cast<int64_t>(varint); }
  float as_float() const;    // kFixed32
  double as_double() const;  // kFixed64
  std::string_view as_string() const { return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; }
};

class Reader {
 public:
  // `context` prefixes error messages, e.g. "model.onnx: TensorProto 'conv1.weight'".
  Reader(std::span<const std::byte> data, std::string_view context);

  // Reads the next field; returns false at the end of the message. Throws on malformed input
  // (truncated varint or length, unsupported group wire types, field number 0).
  bool next(Field& field);

  const std::string& context() const { return context_; }

 private:
  uint64_t read_varint();
  [[noreturn]] void fail(const char* what) const;

  std::span<const std::byte> data_;
  size_t pos_ = 0;
  std::string context_;
};

// Decoders for repeated scalar fields, which may be packed (one length-delimited field) or not
// (one field per value). Each appends to `out`; throw on malformed data.
void append_int64s(const Field& field, std::vector<int64_t>& out, std::string_view context);
void append_floats(const Field& field, std::vector<float>& out, std::string_view context);
void append_int32s(const Field& field, std::vector<int32_t>& out, std::string_view context);

}  // namespace facepipe::engine::pb
