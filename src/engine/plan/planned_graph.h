// The backend-independent half of planning a model at concrete input shapes. Every backend plan
// (CpuPlan, CudaPlan) builds one of these and then only adds what is its own (kernels, device
// memory):
//   1. input shapes: the given ones, or the declared ones with unknown dimensions set to 1,
//   2. shape inference for every tensor, in graph order (with batch_override, also the batch-N
//      rewrites of a batch-1 model, engine/plan/rebatch.h),
//   3. constant folding: an op whose inputs are all known (constants, folded values; for Shape ops
//      just the input's shape) is evaluated once with the reference kernels,
//   4. activation fusion: a Relu/Relu6/LeakyRelu/Tanh/Logistic op that is the only reader of a
//      Conv2D/DepthwiseConv2D/Add/Sub/Mul output becomes that op's fused activation,
//   5. views: Reshape/Squeeze/Unsqueeze of a run-time tensor share their input's memory,
//   6. (on request, after the backend's own rewrites of ops()) memory planning: one arena offset
//      per root tensor, reusing memory between tensors whose lifetimes do not overlap.
// Throws facepipe::Error naming the model source on any problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "common/aligned_buffer.h"
#include "engine/ir/graph.h"
#include "engine/ir/tensor_view.h"
#include "engine/plan/rebatch.h"

namespace facepipe::engine {

struct GraphPlanOptions {
  bool fuse_activations = true;
  // Lets an input declared with batch 1 (axis 0 == 1) be given as N x ... : the graph is planned
  // at batch N when, and only when, every op provably keeps the N items apart (rebatch.h);
  // otherwise planning throws naming the op. Outputs gain a leading N: [1, ...] outputs become
  // [N, ...], outputs whose batch axis the model dropped ([52]) become [N, 52]. Inputs declared
  // with an unknown batch (-1) are planned as before.
  bool batch_override = false;
};

struct GraphPlanStats {
  int folded_ops = 0;     // ops evaluated at plan time
  int fused_ops = 0;      // ops removed by fusion (the shared activation fusion plus backend rewrites)
  int aliased_ops = 0;    // reshapes that became views
  size_t tensor_bytes = 0;        // arena bytes for tensors after reuse (set by plan_memory)
  size_t naive_tensor_bytes = 0;  // one buffer per tensor (for comparison)
};

struct PlannedTensor {
  TensorDesc desc;
  bool has_desc = false;
  const void* value = nullptr;  // known at plan time: a graph constant or a folded result (host memory)
  int32_t alias_of = -1;        // a view of another tensor's memory
};

struct ScheduledOp {
  Op op;  // a copy: fusion edits attributes, outputs and (backend rewrites) inputs
  int32_t source_index = 0;  // index into Graph::ops, for error messages
};

class PlannedGraph {
 public:
  static constexpr size_t kNoOffset = SIZE_MAX;

  // Steps 1-5. `input_shapes` is parallel to graph->inputs (empty: declared shapes, unknowns = 1).
  PlannedGraph(std::shared_ptr<const Graph> graph, std::span<const Shape> input_shapes,
               const GraphPlanOptions& options = {});

  const Graph& graph() const { return *graph_; }
  const std::shared_ptr<const Graph>& graph_ptr() const { return graph_; }

  // The ops run per inference, in order. Backends may rewrite this list (fuse more) before
  // plan_memory(); they must keep it topologically ordered.
  std::vector<ScheduledOp>& ops() { return ops_; }
  const std::vector<ScheduledOp>& ops() const { return ops_; }

  // The batch the graph was re-planned at with batch_override (0: planned as declared), and how
  // each tensor carries it. Tensor ids past graph().tensors are plan-time constants added by
  // that re-planning (a Concat's shared input repeated per item).
  int64_t rebatched_to() const { return batch_; }
  BatchLayout batch_layout(int32_t id) const {
    return batch_ ? layouts_[static_cast<size_t>(id)] : BatchLayout::kShared;
  }

  const PlannedTensor& tensor(int32_t id) const { return tensors_[static_cast<size_t>(id)]; }
  const TensorDesc& desc(int32_t id) const { return tensor(id).desc; }
  // Plan-time value (host memory) of a constant or folded tensor, else nullptr.
  const void* value(int32_t id) const { return tensor(root(id)).value; }
  // The tensor whose memory `id` uses (itself unless it is a view).
  int32_t root(int32_t id) const;
  // A view of the plan-time value (data == nullptr for run-time tensors).
  TensorView host_view(int32_t id) const;

  bool is_graph_output(int32_t id) const { return is_graph_output_[static_cast<size_t>(id)] != 0; }
  // How many scheduled ops read `id`, plus one for a graph output, plus one per view of it.
  std::vector<int> use_counts() const;
  // Index into ops() of the op producing each tensor (-1: none).
  std::vector<int32_t> producers() const;

  // Step 6. `storage_bytes(id)` gives the bytes a root run-time tensor takes in the backend's
  // memory (its dtype may differ from the graph's, e.g. f16 storage). Returns the arena size.
  size_t plan_memory(const std::function<size_t(int32_t id)>& storage_bytes);
  // Arena offset of the memory of `id` (through views), or kNoOffset for plan-time values.
  size_t arena_offset(int32_t id) const;

  GraphPlanStats& stats() { return stats_; }
  const GraphPlanStats& stats() const { return stats_; }

 private:
  bool reads_batched(const Op& op) const;
  // The batch-N form of `op` (rebatch_op), with any input it needs repeated per item added.
  RebatchedOp rebatch(const Op& op);

  std::shared_ptr<const Graph> graph_;
  std::vector<PlannedTensor> tensors_;
  std::vector<AlignedBuffer> folded_;
  std::vector<ScheduledOp> ops_;
  std::vector<char> is_graph_output_;
  std::vector<size_t> offsets_;  // per root tensor, after plan_memory
  int64_t batch_ = 0;
  std::vector<BatchLayout> layouts_;  // per tensor, when batch_ != 0
  GraphPlanStats stats_;
};

}  // namespace facepipe::engine
