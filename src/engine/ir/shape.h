// Tensor shapes: a fixed-capacity dimension list (no heap), where -1 marks a dimension not known
// before planning (a symbolic input dimension such as batch, height or width).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

namespace facepipe::engine {

class Shape {
 public:
  static constexpr int kMaxRank = 8;
  static constexpr int64_t kUnknown = -1;

  constexpr Shape() = default;
  Shape(std::initializer_list<int64_t> dims) { assign(std::span<const int64_t>(dims.begin(), dims.size())); }
  explicit Shape(std::span<const int64_t> dims) { assign(dims); }

  // Throws facepipe::Error when rank exceeds kMaxRank.
  void assign(std::span<const int64_t> dims);

  constexpr int rank() const { return rank_; }
  constexpr int64_t operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
  constexpr int64_t& operator[](int i) { return dims_[static_cast<size_t>(i)]; }
  std::span<const int64_t> dims() const { return {dims_.data(), static_cast<size_t>(rank_)}; }
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }

  // Throws facepipe::Error when the rank would exceed kMaxRank.
  void push_back(int64_t d);

  // True when every dimension is known (>= 0).
  bool is_static() const;
  // Product of all dimensions (1 for rank 0). Only meaningful when is_static().
  int64_t num_elements() const;

  bool operator==(const Shape& other) const;
  bool operator!=(const Shape& other) const { return !(*this == other); }

  // "1x3x640x640"; unknown dimensions print as "?"; rank 0 prints as "scalar".
  std::string to_string() const;

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

// Parses "1x3x640x640" (also accepts ',' as separator). Throws facepipe::Error on bad text.
Shape parse_shape(std::string_view text);

}  // namespace facepipe::engine
