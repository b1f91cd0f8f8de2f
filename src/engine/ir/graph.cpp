#include "engine/ir/graph.h"

#include "common/status.h"

namespace facepipe::engine {

int32_t Graph::add_constant(std::string name, DType dtype, const Shape& shape, AlignedBuffer data) {
  const int64_t expected = shape.num_elements() * static_cast<int64_t>(dtype_size(dtype));
  if (!shape.is_static() || static_cast<int64_t>(data.size()) != expected) {
    throw Error(source + ": constant tensor '" + name + "' holds " + std::to_string(data.size()) +
                " bytes but its shape " + shape.to_string() + " needs " + std::to_string(expected));
  }
  constants.push_back(Constant{std::move(data)});
  Tensor t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.shape = shape;
  t.shape_known = true;
  t.constant = static_cast<int32_t>(constants.size() - 1);
  return add_tensor(std::move(t));
}

int64_t Graph::parameter_count() const {
  int64_t n = 0;
  for (const Tensor& t : tensors)
    if (t.constant >= 0 && (t.dtype == DType::kF32 || t.dtype == DType::kF16)) n += t.shape.num_elements();
  return n;
}

void Graph::validate() const {
  const auto count = static_cast<int32_t>(tensors.size());
  std::vector<char> available(tensors.size(), 0);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (t.constant >= 0) {
      if (static_cast<size_t>(t.constant) >= constants.size())
        throw Error(source + ": tensor '" + t.name + "' refers to a missing constant buffer");
      const int64_t expected = t.shape.num_elements() * static_cast<int64_t>(dtype_size(t.dtype));
      if (static_cast<int64_t>(constants[static_cast<size_t>(t.constant)].data.size()) != expected)
        throw Error(source + ": constant tensor '" + t.name + "' has the wrong byte size for shape " +
                    t.shape.to_string());
      available[i] = 1;
    }
  }
  for (int32_t id : inputs) {
    if (id < 0 || id >= count) throw Error(source + ": graph input id out of range");
    available[static_cast<size_t>(id)] = 1;
  }
  for (const Op& op : ops) {
    const std::string where = source + ": op '" + op.name + "' (" + std::string(op_type_name(op.type)) + ")";
    if (op.type >= OpType::kCount) throw Error(where + " has an invalid type");
    for (int32_t id : op.inputs) {
      if (id == -1) continue;
      if (id < -1 || id >= count) throw Error(where + " reads a tensor id out of range");
      if (!available[static_cast<size_t>(id)])
        throw Error(where + " reads tensor '" + tensors[static_cast<size_t>(id)].name +
                    "' before anything produces it");
    }
    for (int32_t id : op.outputs) {
      if (id < 0 || id >= count) throw Error(where + " writes a tensor id out of range");
      if (tensors[static_cast<size_t>(id)].constant >= 0)
        throw Error(where + " writes constant tensor '" + tensors[static_cast<size_t>(id)].name + "'");
      available[static_cast<size_t>(id)] = 1;
    }
  }
  for (int32_t id : outputs) {
    if (id < 0 || id >= count) throw Error(source + ": graph output id out of range");
    if (!available[static_cast<size_t>(id)])
      throw Error(source + ": graph output '" + tensors[static_cast<size_t>(id)].name + "' is never produced");
  }
}

int Graph::find_input(std::string_view name) const {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (tensor(inputs[i]).name == name) return static_cast<int>(i);
  return -1;
}

int Graph::find_output(std::string_view name) const {
  for (size_t i = 0; i < outputs.size(); ++i)
    if (tensor(outputs[i]).name == name) return static_cast<int>(i);
  return -1;
}

}  // namespace facepipe::engine
