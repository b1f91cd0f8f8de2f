#include "engine/import/flatbuffer_reader.h"

#include <algorithm>

#include "common/status.h"

namespace facepipe::engine::fb {

void Buffer::fail(const std::string& what, size_t at) const {
  throw Error(context_ + ": malformed flatbuffer (" + what + " at byte " + std::to_string(at) + " of " +
              std::to_string(data_.size()) + ")");
}

void Buffer::check(size_t at, size_t n, const char* what) const {
  if (at > data_.size() || data_.size() - at < n) fail(std::string(what) + " out of bounds", at);
}

size_t Buffer::follow(size_t at) const {
  const uint64_t target = uint64_t{at} + read<uint32_t>(at);
  if (target >= data_.size()) fail("offset points past the end", at);
  return static_cast<size_t>(target);
}

Table Buffer::root() const {
  if (data_.size() < 8) fail("file too small for a flatbuffer", 0);
  return table_at(follow(0));
}

std::string_view Buffer::identifier() const {
  if (data_.size() < 8) return {};
  return {reinterpret_cast<const char*>(data_.data()) + 4, 4};
}

Table Buffer::table_at(size_t pos) const { return Table(this, pos); }

Table::Table(const Buffer* buffer, size_t pos) : buffer_(buffer), pos_(pos) {
  const auto soffset = buffer->read<int32_t>(pos);
  const int64_t vtable = static_cast<int64_t>(pos) - soffset;
  if (vtable < 0 || static_cast<uint64_t>(vtable) > buffer->size()) buffer->fail("vtable out of bounds", pos);
  vtable_ = static_cast<size_t>(vtable);
  vtable_size_ = buffer->read<uint16_t>(vtable_);
  table_size_ = buffer->read<uint16_t>(vtable_ + 2);
  if (vtable_size_ < 4 || (vtable_size_ & 1)) buffer->fail("invalid vtable size", vtable_);
  buffer->check(vtable_, vtable_size_, "vtable");
  if (table_size_ < 4) buffer->fail("invalid table size", pos);
  buffer->check(pos, table_size_, "table");
}

size_t Table::field_pos(int field, size_t size) const {
  if (!buffer_ || field < 0) return 0;
  const size_t slot = 4 + 2 * static_cast<size_t>(field);
  if (slot + 2 > vtable_size_) return 0;  // field newer than the writer's schema: absent
  const uint16_t offset = buffer_->read<uint16_t>(vtable_ + slot);
  if (offset == 0) return 0;
  if (size_t{offset} + size > table_size_) buffer_->fail("field outside its table", pos_);
  return pos_ + offset;
}

Table Table::table(int field) const {
  const size_t at = field_pos(field, 4);
  if (!at) return {};
  return buffer_->table_at(buffer_->follow(at));
}

Vector Table::vector(int field, size_t element_size) const {
  const size_t at = field_pos(field, 4);
  if (!at) return {};
  const size_t pos = buffer_->follow(at);
  const uint32_t length = buffer_->read<uint32_t>(pos);
  const size_t first = pos + 4;
  if (uint64_t{length} * element_size > buffer_->size() - std::min(first, buffer_->size()))
    buffer_->fail("vector of " + std::to_string(length) + " elements runs past the end", pos);
  return Vector(buffer_, first, length, element_size);
}

std::string_view Table::string(int field) const {
  const Vector v = vector(field, 1);
  const auto b = v.bytes();
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string Table::string_or(int field, std::string_view fallback) const {
  return has(field) ? std::string(string(field)) : std::string(fallback);
}

std::span<const std::byte> Vector::bytes() const {
  if (!buffer_) return {};
  return buffer_->data().subspan(pos_, size_t{length_} * element_size_);
}

size_t Vector::element_pos(uint32_t i) const {
  if (i >= length_) buffer_->fail("vector index out of range", pos_);
  return pos_ + size_t{i} * element_size_;
}

Table Vector::table(uint32_t i) const { return buffer_->table_at(buffer_->follow(element_pos(i))); }

std::string_view Vector::string(uint32_t i) const {
  const size_t pos = buffer_->follow(element_pos(i));
  const uint32_t length = buffer_->read<uint32_t>(pos);
  buffer_->check(pos + 4, length, "string");
  return {reinterpret_cast<const char*>(buffer_->data().data()) + pos + 4, length};
}

}  // namespace facepipe::engine::fb
