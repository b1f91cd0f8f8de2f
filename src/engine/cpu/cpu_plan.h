// A model planned for the CPU at concrete input shapes.
//
// Planning (throws facepipe::Error on problems) does, once:
//   1. the backend-independent steps shared with the other backends (engine/plan/planned_graph.h):
//      shape inference at the given input shapes, constant folding (ONNX shape subgraphs and any
//      constant preprocessing are evaluated with the reference kernels), activation fusion into
//      convolutions and adds, aliasing of reshapes,
//   2. kernel construction (optimized kernels pack their weights here; ops without one run the
//      reference implementation),
//   3. memory planning (PlannedGraph::plan_memory): every intermediate tensor, the inputs and the
//      outputs get an offset in one arena, reusing memory between tensors whose lifetimes do not
//      overlap; the kernels' scratch follows them.
// run() then executes the op list over the arena and allocates nothing.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/status.h"
#include "common/thread_pool.h"
#include "engine/cpu/cpu_kernel.h"
#include "engine/ir/graph.h"
#include "engine/ir/tensor_view.h"

namespace facepipe::engine::cpu {

struct PlanOptions {
  int num_threads = 0;         // 0: the machine's hardware concurrency (ignored with `pool`)
  ThreadPool* pool = nullptr;  // share a pool between plans (it must outlive the plan)
  bool reference_only = false; // run every op with the naive reference (the test oracle)
  bool fuse = true;            // graph rewrites (activation fusion)
  // Plan a model declared with batch 1 at the batch N of input_shapes when the graph provably
  // keeps items apart (GraphPlanOptions::batch_override, engine/plan/rebatch.h).
  bool batch_override = false;
};

struct PlanStats {
  size_t arena_bytes = 0;        // inputs + intermediates + outputs + scratch
  size_t naive_arena_bytes = 0;  // what one buffer per tensor would take (for comparison)
  int folded_ops = 0;            // ops evaluated at plan time
  int scheduled_ops = 0;         // ops run per inference
  int optimized_ops = 0;         // of those, with an optimized kernel
  int fused_ops = 0;             // ops removed by fusion
  int aliased_ops = 0;           // reshapes that became views
};

class CpuPlan {
 public:
  // `input_shapes` is parallel to graph->inputs; an empty span takes the declared shapes with
  // unknown dimensions set to 1.
  static std::unique_ptr<CpuPlan> create(std::shared_ptr<const Graph> graph, std::span<const Shape> input_shapes,
                                         const PlanOptions& options = {});
  ~CpuPlan();
  CpuPlan(const CpuPlan&) = delete;
  CpuPlan& operator=(const CpuPlan&) = delete;

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  // Views into the arena: write inputs there before run(), read outputs after it.
  const TensorView& input(int i) const { return inputs_.at(static_cast<size_t>(i)); }
  const TensorView& output(int i) const { return outputs_.at(static_cast<size_t>(i)); }
  const std::string& input_name(int i) const;
  const std::string& output_name(int i) const;
  // Index of the input/output with this name, or -1.
  int find_input(std::string_view name) const;
  int find_output(std::string_view name) const;

  // Runs the model. On failure, failed_op() names the op.
  Status run();
  std::string failed_op() const;

  const PlanStats& stats() const { return stats_; }
  const Graph& graph() const { return *graph_; }
  ThreadPool& thread_pool() { return *pool_ptr_; }

  struct Impl;

 private:
  CpuPlan() = default;

  std::shared_ptr<const Graph> graph_;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<ThreadPool> pool_;  // owned when PlanOptions::pool was not given
  ThreadPool* pool_ptr_ = nullptr;
  std::vector<TensorView> inputs_;
  std::vector<TensorView> outputs_;
  PlanStats stats_;
  int failed_op_ = -1;
};

}  // namespace facepipe::engine::cpu
