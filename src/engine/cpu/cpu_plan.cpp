#include "engine/cpu/cpu_plan.h"

#include <algorithm>
#include <climits>

#include "engine/cpu/reference_ops.h"
#include "engine/plan/planned_graph.h"

namespace facepipe::engine::cpu {

struct PlannedOp {
  const ScheduledOp* scheduled = nullptr;
  std::unique_ptr<CpuKernel> kernel;
  std::vector<TensorView> inputs;
  std::vector<TensorView> outputs;
};

struct CpuPlan::Impl {
  std::unique_ptr<PlannedGraph> planned;  // shapes, folded values, the scheduled ops, arena offsets
  std::vector<PlannedOp> ops;             // parallel to planned->ops()
  AlignedBuffer arena;
  std::byte* workspace = nullptr;
};

CpuPlan::~CpuPlan() = default;

std::unique_ptr<CpuPlan> CpuPlan::create(std::shared_ptr<const Graph> graph, std::span<const Shape> input_shapes,
                                         const PlanOptions& options) {
  if (!graph) throw Error("CpuPlan: no graph");
  std::unique_ptr<CpuPlan> plan(new CpuPlan());
  plan->graph_ = graph;
  plan->impl_ = std::make_unique<Impl>();
  Impl& im = *plan->impl_;
  GraphPlanOptions graph_options;
  graph_options.fuse_activations = options.fuse && !options.reference_only;
  graph_options.batch_override = options.batch_override;
  im.planned = std::make_unique<PlannedGraph>(graph, input_shapes, graph_options);
  PlannedGraph& pg = *im.planned;
  const Graph& g = pg.graph();

  // Kernels (constant inputs carry their data; run-time inputs have none yet).
  size_t workspace_bytes = 0;
  im.ops.resize(pg.ops().size());
  for (size_t i = 0; i < pg.ops().size(); ++i) {
    PlannedOp& p = im.ops[i];
    p.scheduled = &pg.ops()[i];
    const Op& op = p.scheduled->op;
    std::vector<TensorView> ins(op.inputs.size());
    for (size_t k = 0; k < op.inputs.size(); ++k)
      if (op.inputs[k] >= 0) ins[k] = pg.host_view(op.inputs[k]);
    std::vector<TensorDesc> outs(op.outputs.size());
    for (size_t k = 0; k < op.outputs.size(); ++k) outs[k] = pg.desc(op.outputs[k]);
    if (!options.reference_only) p.kernel = make_optimized_kernel(op, ins, outs);
    if (p.kernel) {
      ++plan->stats_.optimized_ops;
      workspace_bytes = std::max(workspace_bytes, p.kernel->workspace_bytes());
    }
  }

  // Memory: tensors in the arena at the planned offsets, the kernels' scratch after them.
  const size_t tensors_bytes = pg.plan_memory([&](int32_t id) { return pg.desc(id).bytes(); });
  const size_t workspace_offset = (tensors_bytes + 63) / 64 * 64;
  im.arena.resize(workspace_offset + workspace_bytes);
  im.workspace = workspace_bytes ? im.arena.data() + workspace_offset : nullptr;
  plan->stats_.arena_bytes = im.arena.size();
  plan->stats_.naive_arena_bytes = pg.stats().naive_tensor_bytes + workspace_bytes;
  plan->stats_.folded_ops = pg.stats().folded_ops;
  plan->stats_.fused_ops = pg.stats().fused_ops;
  plan->stats_.aliased_ops = pg.stats().aliased_ops;
  plan->stats_.scheduled_ops = static_cast<int>(pg.ops().size());

  auto view_of = [&](int32_t id) {
    const size_t offset = pg.arena_offset(id);
    void* data = offset == PlannedGraph::kNoOffset ? const_cast<void*>(pg.value(id)) : im.arena.data() + offset;
    return TensorView{pg.desc(id).dtype, pg.desc(id).shape, data};
  };
  for (PlannedOp& p : im.ops) {
    const Op& op = p.scheduled->op;
    p.inputs.assign(op.inputs.size(), TensorView{});
    for (size_t k = 0; k < op.inputs.size(); ++k)
      if (op.inputs[k] >= 0) p.inputs[k] = view_of(op.inputs[k]);
    p.outputs.resize(op.outputs.size());
    for (size_t k = 0; k < op.outputs.size(); ++k) p.outputs[k] = view_of(op.outputs[k]);
  }
  for (int32_t id : g.inputs) plan->inputs_.push_back(view_of(id));
  for (int32_t id : g.outputs) plan->outputs_.push_back(view_of(id));

  if (options.pool) {
    plan->pool_ptr_ = options.pool;
  } else {
    plan->pool_ = std::make_unique<ThreadPool>(options.num_threads > 0 ? options.num_threads : default_thread_count());
    plan->pool_ptr_ = plan->pool_.get();
  }
  return plan;
}

const std::string& CpuPlan::input_name(int i) const { return graph_->input_name(i); }
const std::string& CpuPlan::output_name(int i) const { return graph_->output_name(i); }
int CpuPlan::find_input(std::string_view name) const { return graph_->find_input(name); }
int CpuPlan::find_output(std::string_view name) const { return graph_->find_output(name); }

Status CpuPlan::run() {
  failed_op_ = -1;
  for (size_t i = 0; i < impl_->ops.size(); ++i) {
    PlannedOp& p = impl_->ops[i];
    const Status st = p.kernel ? p.kernel->run(p.inputs, p.outputs, impl_->workspace, *pool_ptr_)
                               : run_reference_op(p.scheduled->op, p.inputs, p.outputs);
    if (!st.is_ok()) {
      failed_op_ = p.scheduled->source_index;
      return st;
    }
  }
  return Status::ok();
}

std::string CpuPlan::failed_op() const {
  if (failed_op_ < 0) return {};
  const Op& op = graph_->ops[static_cast<size_t>(failed_op_)];
  return op.name + " (" + std::string(op_type_name(op.type)) + ")";
}

}  // namespace facepipe::engine::cpu
