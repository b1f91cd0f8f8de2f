#include "engine/cpu/reference_ops.h"

namespace facepipe::engine::cpu {

Status run_reference_op(const Op&, std::span<const TensorView>, std::span<const TensorView>) {
  return Status::error(StatusCode::kUnsupported, "reference ops not implemented yet");
}

}  // namespace facepipe::engine::cpu
