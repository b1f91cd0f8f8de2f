// Planning a model declared with batch 1 at batch N (GraphPlanOptions::batch_override).
//
// A model exported with a fixed batch of 1 usually computes each item independently anyway, but
// its Reshape targets, concatenated constants and final squeezes hard-code that 1. Rather than
// trusting that, planning follows the batch from the inputs through every op and accepts the graph
// only when each op provably keeps the N items apart. For every tensor it records how the planned
// (batch N) tensor relates to the same tensor of the model run on one item (its "item" shape):
//
//   kShared   the same for every item: constants, folded values, run-time tensors that no batched
//             input reaches;
//   kAxis0    item [1, d1, ...], planned [N, d1, ...]: the item's leading 1 became the batch;
//   kLeading  item [d0, d1, ...], planned [N, d0, d1, ...]: the batch is a new leading axis. This
//             happens where the model drops its batch axis (a Reshape to [52], TFLite's final Slice
//             with shrink on axis 0): the batch survives as an extra axis in front.
//
// An op with a batched input is first shape-inferred on the item shapes (the model exactly as it
// was made), then checked against the rules in rebatch.cpp and, where needed, rewritten (Reshape
// targets, Slice bounds on axis 0); the planner infers the rewritten op at batch N and checks that
// it produces exactly the expected [N, ...] shape. Anything else throws facepipe::Error
// "cannot run at batch N: op '<name>' (<Type>) mixes batch items: <why>".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/ir/op.h"
#include "engine/ir/tensor_view.h"

namespace facepipe::engine {

enum class BatchLayout : uint8_t { kShared = 0, kAxis0, kLeading };

// The item (batch-1) shape of a tensor planned at `planned` in `layout`.
Shape item_shape(const Shape& planned, BatchLayout layout);
// The planned shape of a tensor whose item shape is `item`, in `layout` (kAxis0 needs item[0] == 1).
Shape planned_shape(const Shape& item, BatchLayout layout, int64_t batch);

struct RebatchedOp {
  Op op;                                   // to plan at batch N (attributes rewritten where needed)
  BatchLayout layout = BatchLayout::kShared;  // of its output
  Shape expected_output;                   // what `op` must produce at batch N
  std::vector<size_t> tile_inputs;         // plan-time inputs to repeat N times along axis 0 (Concat)
};

// `items[k]`: op.inputs[k] at batch 1 (data set when known at plan time), `layouts[k]` its layout;
// at least one input is batched. Throws facepipe::Error naming `source` and the op when the op
// would mix batch items (or is not known to keep them apart).
RebatchedOp rebatch_op(const std::string& source, const Op& op, std::span<const TensorView> items,
                       std::span<const BatchLayout> layouts, int64_t batch);

}  // namespace facepipe::engine
