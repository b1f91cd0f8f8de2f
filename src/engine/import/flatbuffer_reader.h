// A bounds-checked reader of FlatBuffers binaries (the container of .tflite models), written for
// untrusted input: every offset, vtable, vector and string is validated against the buffer before
// it is read, and malformed input throws facepipe::Error with the context given at construction.
// Tables are read one level at a time by the caller (no recursion here), so hostile nesting cannot
// exhaust the stack.
//
// Wire format reminders: a table starts with an int32 soffset to its vtable (vtable = table -
// soffset); the vtable holds uint16 {vtable size, table size, field offsets...}; field i's offset
// sits at vtable + 4 + 2*i (0 = absent, use the default). Offsets to tables, vectors and strings
// are uint32 relative to where they are stored. Vectors and strings start with a uint32 length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace facepipe::engine::fb {

class Table;

class Buffer {
 public:
  Buffer(std::span<const std::byte> data, std::string context) : data_(data), context_(std::move(context)) {}

  // The root table (the uint32 at offset 0 points at it).
  Table root() const;
  // The 4-byte file identifier at bytes 4..7 (empty when the buffer is too small).
  std::string_view identifier() const;

  std::span<const std::byte> data() const { return data_; }
  size_t size() const { return data_.size(); }
  const std::string& context() const { return context_; }
  [[noreturn]] void fail(const std::string& what, size_t at) const;

  // Checked access; `at` + n must lie inside the buffer.
  void check(size_t at, size_t n, const char* what) const;
  template <typename T> T read(size_t at) const;
  // Follows a uint32 offset stored at `at` and returns the absolute position it points to.
  size_t follow(size_t at) const;
  Table table_at(size_t pos) const;

 private:
  std::span<const std::byte> data_;
  std::string context_;
};

// A vector of scalars (T = int8/uint8/int32/int64/float...) or of offsets (tables, strings).
class Vector {
 public:
  Vector() = default;
  Vector(const Buffer* buffer, size_t pos, uint32_t length, size_t element_size)
      : buffer_(buffer), pos_(pos), length_(length), element_size_(element_size) {}
  uint32_t size() const { return length_; }
  bool empty() const { return length_ == 0; }
  // Raw element bytes (length * element_size, already bounds-checked).
  std::span<const std::byte> bytes() const;
  template <typename T> T scalar(uint32_t i) const;
  template <typename T> std::vector<T> scalars() const;
  Table table(uint32_t i) const;
  std::string_view string(uint32_t i) const;

 private:
  size_t element_pos(uint32_t i) const;
  const Buffer* buffer_ = nullptr;
  size_t pos_ = 0;  // first element
  uint32_t length_ = 0;
  size_t element_size_ = 0;
};

class Table {
 public:
  Table() = default;
  Table(const Buffer* buffer, size_t pos);

  bool valid() const { return buffer_ != nullptr; }
  bool has(int field) const { return field_pos(field, 1) != 0; }

  // Scalars: the stored value, or `fallback` when the field is absent.
  template <typename T> T scalar(int field, T fallback) const;
  // Sub-objects: `present` tells whether the field exists (absent vectors read as empty).
  Table table(int field) const;  // !valid() when absent
  Vector vector(int field, size_t element_size) const;
  Vector table_vector(int field) const { return vector(field, 4); }
  std::string_view string(int field) const;
  std::string string_or(int field, std::string_view fallback) const;

 private:
  // Absolute position of the field's inline data (0 when absent); checks that `size` bytes fit in
  // both the table's inline area and the buffer.
  size_t field_pos(int field, size_t size) const;

  const Buffer* buffer_ = nullptr;
  size_t pos_ = 0;
  size_t vtable_ = 0;
  uint16_t vtable_size_ = 0;
  uint16_t table_size_ = 0;
};

// ---- template definitions ------------------------------------------------------------------------

template <typename T> T Buffer::read(size_t at) const {
  check(at, sizeof(T), "scalar");
  T v;
  std::memcpy(&v, data_.data() + at, sizeof(T));
  return v;
}

template <typename T> T Vector::scalar(uint32_t i) const {
  return buffer_->read<T>(element_pos(i));
}

template <typename T> std::vector<T> Vector::scalars() const {
  std::vector<T> out(length_);
  if (length_) std::memcpy(out.data(), bytes().data(), size_t{length_} * sizeof(T));
  return out;
}

template <typename T> T Table::scalar(int field, T fallback) const {
  const size_t at = field_pos(field, sizeof(T));
  return at ? buffer_->read<T>(at) : fallback;
}

}  // namespace facepipe::engine::fb
