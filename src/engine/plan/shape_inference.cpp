#include "engine/plan/shape_inference.h"

#include "common/status.h"

namespace facepipe::engine {

void infer_output_descs(const std::string& source, const Op& op, std::span<const TensorView>, std::span<TensorDesc>) {
  throw Error(source + ": shape inference not implemented for " + std::string(op_type_name(op.type)));
}

Padding resolve_padding(const Padding& padding, int64_t, int64_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t) {
  return padding;
}

}  // namespace facepipe::engine
