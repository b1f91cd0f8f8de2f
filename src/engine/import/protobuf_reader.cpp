#include "engine/import/protobuf_reader.h"

#include <cstring>

#include "common/status.h"

namespace facepipe::engine::pb {

float Field::as_float() const {
  const auto bits = static_cast<uint32_t>(fixed);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

double Field::as_double() const {
  double d;
  std::memcpy(&d, &fixed, sizeof d);
  return d;
}

Reader::Reader(std::span<const std::byte> data, std::string_view context) : data_(data), context_(context) {}

void Reader::fail(const char* what) const {
  throw Error(context_ + ": malformed protobuf (" + what + " at byte " + std::to_string(pos_) + " of " +
              std::to_string(data_.size()) + ")");
}

uint64_t Reader::read_varint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) fail("truncated varint");
    const auto byte = static_cast<uint8_t>(data_[pos_++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  fail("varint longer than 10 bytes");
}

bool Reader::next(Field& field) {
  if (pos_ >= data_.size()) return false;
  const uint64_t key = read_varint();
  const uint64_t number = key >> 3;
  if (number == 0 || number > 0x1fffffff) fail("invalid field number");
  field = Field{};
  field.number = static_cast<uint32_t>(number);
  field.type = static_cast<WireType>(key & 7);
  switch (field.type) {
    case WireType::kVarint:
      field.varint = read_varint();
      break;
    case WireType::kFixed64:
      if (data_.size() - pos_ < 8) fail("truncated fixed64");
      std::memcpy(&field.fixed, data_.data() + pos_, 8);
      pos_ += 8;
      break;
    case WireType::kFixed32: {
      if (data_.size() - pos_ < 4) fail("truncated fixed32");
      uint32_t v;
      std::memcpy(&v, data_.data() + pos_, 4);
      field.fixed = v;
      pos_ += 4;
      break;
    }
    case WireType::kLengthDelimited: {
      const uint64_t length = read_varint();
      if (length > data_.size() - pos_) fail("length past the end of the message");
      field.bytes = data_.subspan(pos_, static_cast<size_t>(length));
      pos_ += static_cast<size_t>(length);
      break;
    }
    default:
      fail("unsupported wire type");
  }
  return true;
}

namespace {
template <typename T, typename Convert>
void append_repeated(const Field& field, std::vector<T>& out, std::string_view context, WireType element_type,
                     Convert convert) {
  if (field.type != WireType::kLengthDelimited) {
    if (field.type != element_type) throw Error(std::string(context) + ": unexpected wire type for a repeated field");
    out.push_back(convert(field));
    return;
  }
  const std::byte* p = field.bytes.data();
  const size_t n = field.bytes.size();
  size_t pos = 0;
  if (element_type == WireType::kFixed32) {
    if (n % 4) throw Error(std::string(context) + ": packed fixed32 field has a ragged length");
    for (; pos < n; pos += 4) {
      Field f;
      f.type = WireType::kFixed32;
      uint32_t v;
      std::memcpy(&v, p + pos, 4);
      f.fixed = v;
      out.push_back(convert(f));
    }
    return;
  }
  while (pos < n) {
    uint64_t value = 0;
    int shift = 0;
    for (;; shift += 7) {
      if (pos >= n || shift >= 64) throw Error(std::string(context) + ": malformed packed varint");
      const auto byte = static_cast<uint8_t>(p[pos++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
    }
    Field f;
    f.type = WireType::kVarint;
    f.varint = value;
    out.push_back(convert(f));
  }
}
}  // namespace

void append_int64s(const Field& field, std::vector<int64_t>& out, std::string_view context) {
  append_repeated(field, out, context, WireType::kVarint, [](const Field& f) { return f.as_int64(); });
}

void append_int32s(const Field& field, std::vector<int32_t>& out, std::string_view context) {
  append_repeated(field, out, context, WireType::kVarint,
                  [](const Field& f) { return static_cast<int32_t>(static_cast<int64_t>(f.varint)); });
}

void append_floats(const Field& field, std::vector<float>& out, std::string_view context) {
  append_repeated(field, out, context, WireType::kFixed32, [](const Field& f) { return f.as_float(); });
}

}  // namespace facepipe::engine::pb
