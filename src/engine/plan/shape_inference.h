// Per-op output dtype and shape inference with concrete input shapes (at plan time).
#pragma once

#include <span>

#include "engine/ir/graph.h"
#include "engine/ir/tensor_view.h"

namespace facepipe::engine {

// Computes the dtype and shape of each of op's outputs from its inputs. `inputs` are parallel to
// op.inputs: every present input has a concrete dtype and shape; `data` is non-null when the value
// is known at plan time (a constant or a folded result), which ops such as Reshape (shape input),
// Resize (size input) and Gather on shapes need. Absent optional inputs have data == nullptr and
// rank 0. Throws facepipe::Error naming `source`, the op and the problem when the inputs do not fit
// (wrong rank, mismatched channels, non-constant shape input, ...).
void infer_output_descs(const std::string& source, const Op& op, std::span<const TensorView> inputs,
                        std::span<TensorDesc> outputs);

// Resolves PaddingMode::kSame/kValid into explicit pads for an input of in_h x in_w (helper shared
// by shape inference and the kernels).
Padding resolve_padding(const Padding& padding, int64_t in_h, int64_t in_w, int32_t filter_h, int32_t filter_w,
                        int32_t stride_h, int32_t stride_w, int32_t dilation_h, int32_t dilation_w);

}  // namespace facepipe::engine
