#include "engine/ir/shape.h"

#include <charconv>

#include "common/status.h"

namespace facepipe::engine {

void Shape::assign(std::span<const int64_t> dims) {
  if (dims.size() > static_cast<size_t>(kMaxRank)) {
    throw Error("tensor rank " + std::to_string(dims.size()) + " exceeds the supported maximum of " +
                std::to_string(kMaxRank));
  }
  rank_ = static_cast<int>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) dims_[i] = dims[i];
}

void Shape::push_back(int64_t d) {
  if (rank_ >= kMaxRank) throw Error("tensor rank exceeds the supported maximum of " + std::to_string(kMaxRank));
  dims_[static_cast<size_t>(rank_++)] = d;
}

bool Shape::is_static() const {
  for (int i = 0; i < rank_; ++i)
    if (dims_[static_cast<size_t>(i)] < 0) return false;
  return true;
}

int64_t Shape::num_elements() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<size_t>(i)];
  return n;
}

bool Shape::operator==(const Shape& other) const {
  if (rank_ != other.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[static_cast<size_t>(i)] != other.dims_[static_cast<size_t>(i)]) return false;
  return true;
}

std::string Shape::to_string() const {
  if (rank_ == 0) return "scalar";
  std::string s;
  for (int i = 0; i < rank_; ++i) {
    if (i) s += 'x';
    const int64_t d = dims_[static_cast<size_t>(i)];
    s += d < 0 ? std::string("?") : std::to_string(d);
  }
  return s;
}

Shape parse_shape(std::string_view text) {
  Shape shape;
  if (text.empty()) throw Error("empty shape");
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find_first_of("x,", pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view part = text.substr(pos, end - pos);
    int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || value < 0) {
      throw Error("bad shape '" + std::string(text) + "': expected dimensions like 1x3x640x640");
    }
    shape.push_back(value);
    pos = end + 1;
  }
  return shape;
}

}  // namespace facepipe::engine
