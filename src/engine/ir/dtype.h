// Element types of the graph IR.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace facepipe::engine {

enum class DType : uint8_t {
  kF32 = 0,
  kF16,
  kI32,
  kI64,
  kU8,
  kI8,
  kBool,
  kCount
};

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kF16: return 2;
    case DType::kI32: return 4;
    case DType::kI64: return 8;
    case DType::kU8: return 1;
    case DType::kI8: return 1;
    case DType::kBool: return 1;
    case DType::kCount: break;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kI32: return "i32";
    case DType::kI64: return "i64";
    case DType::kU8: return "u8";
    case DType::kI8: return "i8";
    case DType::kBool: return "bool";
    case DType::kCount: break;
  }
  return "?";
}

}  // namespace facepipe::engine
