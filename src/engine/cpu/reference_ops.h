// Naive reference implementations of every op: the test oracle for the optimized CPU kernels and
// the CUDA backend, and the fallback for ops no optimized kernel covers. Written for clarity, with
// plain loops over the full index space; also used by planning to fold constants.
#pragma once

#include <span>

#include "common/status.h"
#include "engine/ir/op.h"
#include "engine/ir/tensor_view.h"

namespace facepipe::engine::cpu {

// Runs `op` on `inputs` (parallel to op.inputs; absent optional inputs have data == nullptr) writing
// `outputs` (parallel to op.outputs, with shapes as infer_output_descs computed). Returns
// kUnsupported for an op/dtype combination it does not implement.
Status run_reference_op(const Op& op, std::span<const TensorView> inputs, std::span<const TensorView> outputs);

}  // namespace facepipe::engine::cpu
