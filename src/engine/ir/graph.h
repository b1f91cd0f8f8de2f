// The graph IR: what every importer produces and every backend plans from.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/aligned_buffer.h"
#include "engine/ir/dtype.h"
#include "engine/ir/op.h"
#include "engine/ir/shape.h"

namespace facepipe::engine {

struct Tensor {
  std::string name;
  DType dtype = DType::kF32;
  // As declared by the source file; -1 for dimensions unknown before planning. Importers may leave
  // the shape of intermediate tensors empty (rank 0 with shape_known == false): planning infers it.
  Shape shape;
  bool shape_known = false;
  // Index into Graph::constants, or -1 for a tensor computed at run time (or a graph input).
  int32_t constant = -1;
};

struct Constant {
  AlignedBuffer data;  // dtype and shape are those of the owning tensor
};

struct Graph {
  std::string source;  // file (and member) it was loaded from: used in every error message
  std::string format;  // "tflite" or "onnx"
  std::vector<Tensor> tensors;
  std::vector<Constant> constants;
  std::vector<Op> ops;  // in a valid topological order
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;

  // Adds a tensor and returns its id.
  int32_t add_tensor(Tensor t) {
    tensors.push_back(std::move(t));
    return static_cast<int32_t>(tensors.size() - 1);
  }
  // Adds a constant tensor owning `data` (size must equal the shape's byte size) and returns its id.
  int32_t add_constant(std::string name, DType dtype, const Shape& shape, AlignedBuffer data);

  const Tensor& tensor(int32_t id) const { return tensors.at(static_cast<size_t>(id)); }
  bool is_constant(int32_t id) const { return id >= 0 && tensors[static_cast<size_t>(id)].constant >= 0; }
  const AlignedBuffer& constant_data(int32_t id) const {
    return constants.at(static_cast<size_t>(tensor(id).constant)).data;
  }
  template <typename T> const T* constant_as(int32_t id) const { return constant_data(id).as<T>(); }

  // Names of the graph's inputs and outputs, and the index of one by name (-1: none).
  const std::string& input_name(int i) const { return tensor(inputs.at(static_cast<size_t>(i))).name; }
  const std::string& output_name(int i) const { return tensor(outputs.at(static_cast<size_t>(i))).name; }
  int find_input(std::string_view name) const;
  int find_output(std::string_view name) const;

  // Number of parameters: elements of all constant float tensors (f32/f16).
  int64_t parameter_count() const;

  // Throws facepipe::Error naming the source and the op when ids are out of range, an op reads a
  // tensor no earlier op or input produced, or a constant's byte size does not match its shape.
  void validate() const;
};

}  // namespace facepipe::engine
