#include "engine/cpu/cpu_plan.h"

#include <algorithm>
#include <climits>

#include "engine/cpu/reference_ops.h"
#include "engine/plan/memory_planner.h"
#include "engine/plan/shape_inference.h"

namespace facepipe::engine::cpu {

namespace {

struct TensorState {
  TensorDesc desc;
  bool has_desc = false;
  const void* value = nullptr;  // known at plan time: constant or folded
  int32_t alias_of = -1;        // this tensor is a view of another's memory (reshapes)
  int32_t buffer = -1;          // index into the memory planner's buffers (root tensors only)
};

struct PlannedOp {
  Op op;  // a copy: fusion edits attributes and outputs
  int32_t source_index = 0;
  std::unique_ptr<CpuKernel> kernel;
  std::vector<TensorView> inputs;
  std::vector<TensorView> outputs;
};

bool is_view_op(OpType type) {
  return type == OpType::kReshape || type == OpType::kSqueeze || type == OpType::kUnsqueeze;
}

Activation activation_of(OpType type) {
  switch (type) {
    case OpType::kRelu: return Activation::kRelu;
    case OpType::kRelu6: return Activation::kRelu6;
    case OpType::kLeakyRelu: return Activation::kLeakyRelu;
    case OpType::kTanh: return Activation::kTanh;
    case OpType::kLogistic: return Activation::kSigmoid;
    default: return Activation::kNone;
  }
}

// The fused-activation fields of ops that have them, or nullptr.
Activation* fused_activation_slot(Op& op, float** alpha) {
  switch (op.type) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D: {
      auto& a = op.as<ConvAttrs>();
      *alpha = &a.activation_alpha;
      return &a.activation;
    }
    case OpType::kAdd:
    case OpType::kSub:
    case OpType::kMul: {
      if (!std::holds_alternative<BinaryAttrs>(op.attrs)) op.attrs = BinaryAttrs{};
      auto& a = op.as<BinaryAttrs>();
      *alpha = &a.activation_alpha;
      return &a.activation;
    }
    default:
      return nullptr;
  }
}

Status write_shape(const Shape& shape, const TensorView& out) {
  if (out.num_elements() != shape.rank()) return Status::error(StatusCode::kInternal, "Shape output size mismatch");
  for (int d = 0; d < shape.rank(); ++d) {
    if (out.dtype == DType::kI64) {
      out.as<int64_t>()[d] = shape[d];
    } else if (out.dtype == DType::kI32) {
      out.as<int32_t>()[d] = static_cast<int32_t>(shape[d]);
    } else {
      return Status::error(StatusCode::kUnsupported, "Shape output must be i32 or i64");
    }
  }
  return Status::ok();
}

}  // namespace

struct CpuPlan::Impl {
  std::vector<TensorState> tensors;
  std::vector<AlignedBuffer> folded;
  std::vector<PlannedOp> ops;
  AlignedBuffer arena;
  std::byte* workspace = nullptr;

  int32_t root(int32_t id) const {
    while (tensors[static_cast<size_t>(id)].alias_of >= 0) id = tensors[static_cast<size_t>(id)].alias_of;
    return id;
  }
};

CpuPlan::~CpuPlan() = default;

std::unique_ptr<CpuPlan> CpuPlan::create(std::shared_ptr<const Graph> graph, std::span<const Shape> input_shapes,
                                         const PlanOptions& options) {
  if (!graph) throw Error("CpuPlan: no graph");
  const Graph& g = *graph;
  std::unique_ptr<CpuPlan> plan(new CpuPlan());
  plan->graph_ = graph;
  plan->impl_ = std::make_unique<Impl>();
  Impl& im = *plan->impl_;
  im.tensors.resize(g.tensors.size());
  auto state = [&](int32_t id) -> TensorState& { return im.tensors[static_cast<size_t>(id)]; };

  // Constants.
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const Tensor& t = g.tensors[i];
    if (t.constant < 0) continue;
    TensorState& s = im.tensors[i];
    s.desc = {t.dtype, t.shape};
    s.has_desc = true;
    s.value = g.constants[static_cast<size_t>(t.constant)].data.data();
  }

  // Inputs at the requested shapes.
  if (!input_shapes.empty() && input_shapes.size() != g.inputs.size()) {
    throw Error(g.source + ": " + std::to_string(input_shapes.size()) + " input shapes given, the model has " +
                std::to_string(g.inputs.size()) + " inputs");
  }
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const Tensor& t = g.tensor(g.inputs[i]);
    Shape shape = t.shape;
    if (!input_shapes.empty()) {
      const Shape& given = input_shapes[i];
      bool fits = !t.shape_known || given.rank() == t.shape.rank();
      for (int d = 0; fits && t.shape_known && d < given.rank(); ++d)
        fits = t.shape[d] < 0 || t.shape[d] == given[d];
      if (!fits || !given.is_static()) {
        throw Error(g.source + ": input '" + t.name + "' is declared " + t.shape.to_string() + ", cannot run it at " +
                    given.to_string());
      }
      shape = given;
    } else {
      for (int d = 0; d < shape.rank(); ++d)
        if (shape[d] < 0) shape[d] = 1;
    }
    TensorState& s = state(g.inputs[i]);
    s.desc = {t.dtype, shape};
    s.has_desc = true;
  }

  // Shape inference and constant folding, in graph order.
  std::vector<TensorView> in_views;
  std::vector<TensorDesc> out_descs;
  for (size_t oi = 0; oi < g.ops.size(); ++oi) {
    const Op& op = g.ops[oi];
    in_views.assign(op.inputs.size(), TensorView{});
    bool all_known = true;
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      const int32_t id = op.inputs[k];
      if (id < 0) continue;
      const TensorState& s = state(id);
      if (!s.has_desc) {
        throw Error(g.source + ": op '" + op.name + "' reads tensor '" + g.tensor(id).name + "' whose shape is unknown");
      }
      in_views[k] = TensorView{s.desc.dtype, s.desc.shape, const_cast<void*>(s.value)};
      all_known = all_known && s.value != nullptr;
    }
    out_descs.assign(op.outputs.size(), TensorDesc{});
    infer_output_descs(g.source, op, in_views, out_descs);
    for (size_t k = 0; k < op.outputs.size(); ++k) {
      TensorState& s = state(op.outputs[k]);
      s.desc = out_descs[k];
      s.has_desc = true;
    }
    const bool foldable = op.type == OpType::kShape || all_known;
    if (foldable) {
      std::vector<TensorView> out_views(op.outputs.size());
      for (size_t k = 0; k < op.outputs.size(); ++k) {
        im.folded.emplace_back(std::max<size_t>(out_descs[k].bytes(), 1));
        out_views[k] = TensorView{out_descs[k].dtype, out_descs[k].shape, im.folded.back().data()};
        state(op.outputs[k]).value = im.folded.back().data();
      }
      // A Shape op only needs its input's shape, which is known even when the values are not.
      const Status st = op.type == OpType::kShape ? write_shape(in_views[0].shape, out_views[0])
                                                  : run_reference_op(op, in_views, out_views);
      if (!st.is_ok()) {
        throw Error(g.source + ": folding op '" + op.name + "' (" + std::string(op_type_name(op.type)) +
                    ") at plan time failed: " + st.message());
      }
      ++plan->stats_.folded_ops;
      continue;
    }
    PlannedOp p;
    p.op = op;
    p.source_index = static_cast<int32_t>(oi);
    im.ops.push_back(std::move(p));
  }

  // Use counts (graph outputs count as uses that never end).
  std::vector<int> uses(g.tensors.size(), 0);
  std::vector<char> is_graph_output(g.tensors.size(), 0);
  for (const PlannedOp& p : im.ops)
    for (int32_t id : p.op.inputs)
      if (id >= 0) ++uses[static_cast<size_t>(id)];
  for (int32_t id : g.outputs) {
    ++uses[static_cast<size_t>(id)];
    is_graph_output[static_cast<size_t>(id)] = 1;
  }

  // Fusion: an activation op that is the only reader of a conv/add output folds into it.
  if (options.fuse && !options.reference_only) {
    std::vector<int32_t> producer(g.tensors.size(), -1);
    for (size_t i = 0; i < im.ops.size(); ++i)
      for (int32_t id : im.ops[i].op.outputs) producer[static_cast<size_t>(id)] = static_cast<int32_t>(i);
    std::vector<char> removed(im.ops.size(), 0);
    for (size_t i = 0; i < im.ops.size(); ++i) {
      Op& act_op = im.ops[i].op;
      const Activation act = activation_of(act_op.type);
      if (act == Activation::kNone || act_op.inputs.size() != 1) continue;
      const int32_t src = act_op.inputs[0];
      if (src < 0 || uses[static_cast<size_t>(src)] != 1 || is_graph_output[static_cast<size_t>(src)]) continue;
      const int32_t pi = producer[static_cast<size_t>(src)];
      if (pi < 0 || removed[static_cast<size_t>(pi)]) continue;
      Op& prod = im.ops[static_cast<size_t>(pi)].op;
      if (prod.outputs.size() != 1) continue;
      float* alpha = nullptr;
      Activation* slot = fused_activation_slot(prod, &alpha);
      if (!slot || *slot != Activation::kNone) continue;
      // Same dtype/shape in and out for activations, so the producer can write the final tensor.
      *slot = act;
      if (act == Activation::kLeakyRelu) *alpha = act_op.as<LeakyReluAttrs>().alpha;
      prod.outputs[0] = act_op.outputs[0];
      producer[static_cast<size_t>(act_op.outputs[0])] = pi;
      removed[i] = 1;
      ++plan->stats_.fused_ops;
    }
    std::vector<PlannedOp> kept;
    kept.reserve(im.ops.size());
    for (size_t i = 0; i < im.ops.size(); ++i)
      if (!removed[i]) kept.push_back(std::move(im.ops[i]));
    im.ops = std::move(kept);
  }

  // Views: reshapes of run-time tensors share their input's memory.
  {
    std::vector<PlannedOp> kept;
    kept.reserve(im.ops.size());
    for (PlannedOp& p : im.ops) {
      if (is_view_op(p.op.type) && p.op.inputs[0] >= 0 && !state(p.op.inputs[0]).value &&
          !is_graph_output[static_cast<size_t>(p.op.outputs[0])]) {
        state(p.op.outputs[0]).alias_of = p.op.inputs[0];
        ++plan->stats_.aliased_ops;
        continue;
      }
      kept.push_back(std::move(p));
    }
    im.ops = std::move(kept);
  }
  plan->stats_.scheduled_ops = static_cast<int>(im.ops.size());

  // Kernels (constant inputs carry their data; run-time inputs have none yet).
  size_t workspace_bytes = 0;
  for (PlannedOp& p : im.ops) {
    std::vector<TensorView> ins(p.op.inputs.size());
    for (size_t k = 0; k < p.op.inputs.size(); ++k) {
      const int32_t id = p.op.inputs[k];
      if (id < 0) continue;
      const TensorState& s = state(id);
      ins[k] = TensorView{s.desc.dtype, s.desc.shape, const_cast<void*>(s.value)};
    }
    std::vector<TensorDesc> outs(p.op.outputs.size());
    for (size_t k = 0; k < p.op.outputs.size(); ++k) outs[k] = state(p.op.outputs[k]).desc;
    if (!options.reference_only) p.kernel = make_optimized_kernel(p.op, ins, outs);
    if (p.kernel) {
      ++plan->stats_.optimized_ops;
      workspace_bytes = std::max(workspace_bytes, p.kernel->workspace_bytes());
    }
  }

  // Memory planning over root tensors: lifetimes in op indices (-1: graph input).
  MemoryPlanner planner;
  const int end_of_plan = static_cast<int>(im.ops.size());
  std::vector<int32_t> buffer_of(g.tensors.size(), -1);
  auto buffer_for = [&](int32_t id, int at) {
    const int32_t r = im.root(id);
    if (state(r).value) return;  // constants and folded values live outside the arena
    int32_t& b = buffer_of[static_cast<size_t>(r)];
    if (b < 0) {
      b = planner.add_buffer(state(r).desc.bytes(), at, at);
    } else {
      planner.extend(b, at);
    }
  };
  for (int32_t id : g.inputs) buffer_for(id, -1);
  for (int i = 0; i < end_of_plan; ++i) {
    for (int32_t id : im.ops[static_cast<size_t>(i)].op.inputs)
      if (id >= 0) buffer_for(id, i);
    for (int32_t id : im.ops[static_cast<size_t>(i)].op.outputs) buffer_for(id, i);
  }
  for (int32_t id : g.outputs) buffer_for(id, end_of_plan);
  const size_t tensors_bytes = planner.plan();
  const size_t workspace_offset = (tensors_bytes + 63) / 64 * 64;
  im.arena.resize(workspace_offset + workspace_bytes);
  im.workspace = workspace_bytes ? im.arena.data() + workspace_offset : nullptr;
  plan->stats_.arena_bytes = im.arena.size();
  plan->stats_.naive_arena_bytes = planner.naive_bytes() + workspace_bytes;

  auto data_of = [&](int32_t id) -> void* {
    const int32_t r = im.root(id);
    if (state(r).value) return const_cast<void*>(state(r).value);
    return im.arena.data() + planner.offset(buffer_of[static_cast<size_t>(r)]);
  };
  for (PlannedOp& p : im.ops) {
    p.inputs.assign(p.op.inputs.size(), TensorView{});
    for (size_t k = 0; k < p.op.inputs.size(); ++k) {
      const int32_t id = p.op.inputs[k];
      if (id >= 0) p.inputs[k] = TensorView{state(id).desc.dtype, state(id).desc.shape, data_of(id)};
    }
    p.outputs.resize(p.op.outputs.size());
    for (size_t k = 0; k < p.op.outputs.size(); ++k) {
      const int32_t id = p.op.outputs[k];
      p.outputs[k] = TensorView{state(id).desc.dtype, state(id).desc.shape, data_of(id)};
    }
  }
  for (int32_t id : g.inputs) plan->inputs_.push_back(TensorView{state(id).desc.dtype, state(id).desc.shape, data_of(id)});
  for (int32_t id : g.outputs)
    plan->outputs_.push_back(TensorView{state(id).desc.dtype, state(id).desc.shape, data_of(id)});

  const int threads = options.num_threads > 0 ? options.num_threads : default_thread_count();
  plan->pool_ = std::make_unique<ThreadPool>(threads);
  return plan;
}

const std::string& CpuPlan::input_name(int i) const { return graph_->tensor(graph_->inputs.at(static_cast<size_t>(i))).name; }
const std::string& CpuPlan::output_name(int i) const {
  return graph_->tensor(graph_->outputs.at(static_cast<size_t>(i))).name;
}

int CpuPlan::find_input(std::string_view name) const {
  for (int i = 0; i < num_inputs(); ++i)
    if (input_name(i) == name) return i;
  return -1;
}

int CpuPlan::find_output(std::string_view name) const {
  for (int i = 0; i < num_outputs(); ++i)
    if (output_name(i) == name) return i;
  return -1;
}

Status CpuPlan::run() {
  failed_op_ = -1;
  for (size_t i = 0; i < impl_->ops.size(); ++i) {
    PlannedOp& p = impl_->ops[i];
    const Status st = p.kernel ? p.kernel->run(p.inputs, p.outputs, impl_->workspace, *pool_)
                               : run_reference_op(p.op, p.inputs, p.outputs);
    if (!st.is_ok()) {
      failed_op_ = p.source_index;
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
