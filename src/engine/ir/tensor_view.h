// A non-owning view of a tensor's memory with its concrete dtype and shape: what kernels read and
// write. data == nullptr marks an absent optional input.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/ir/dtype.h"
#include "engine/ir/shape.h"

namespace facepipe::engine {

struct TensorDesc {
  DType dtype = DType::kF32;
  Shape shape;
  size_t bytes() const { return static_cast<size_t>(shape.num_elements()) * dtype_size(dtype); }
};

struct TensorView {
  DType dtype = DType::kF32;
  Shape shape;
  void* data = nullptr;

  bool present() const { return data != nullptr; }
  int64_t num_elements() const { return shape.num_elements(); }
  size_t bytes() const { return static_cast<size_t>(shape.num_elements()) * dtype_size(dtype); }
  template <typename T> T* as() const { return static_cast<T*>(data); }
  TensorDesc desc() const { return {dtype, shape}; }
};

}  // namespace facepipe::engine
