#include "engine/plan/planned_graph.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "engine/cpu/reference_ops.h"
#include "engine/plan/memory_planner.h"
#include "engine/plan/shape_inference.h"

namespace facepipe::engine {

namespace {

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

PlannedGraph::PlannedGraph(std::shared_ptr<const Graph> graph, std::span<const Shape> input_shapes,
                           const GraphPlanOptions& options)
    : graph_(std::move(graph)) {
  if (!graph_) throw Error("planning: no graph");
  const Graph& g = *graph_;
  tensors_.resize(g.tensors.size());
  is_graph_output_.assign(g.tensors.size(), 0);
  for (int32_t id : g.outputs) is_graph_output_[static_cast<size_t>(id)] = 1;
  auto state = [&](int32_t id) -> PlannedTensor& { return tensors_[static_cast<size_t>(id)]; };

  // Constants.
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const Tensor& t = g.tensors[i];
    if (t.constant < 0) continue;
    PlannedTensor& s = tensors_[i];
    s.desc = {t.dtype, t.shape};
    s.has_desc = true;
    s.value = g.constants[static_cast<size_t>(t.constant)].data.data();
  }

  // 1. Inputs at the requested shapes.
  if (!input_shapes.empty() && input_shapes.size() != g.inputs.size()) {
    throw Error(g.source + ": " + std::to_string(input_shapes.size()) + " input shapes given, the model has " +
                std::to_string(g.inputs.size()) + " inputs");
  }
  std::vector<int32_t> rebatched_inputs;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const Tensor& t = g.tensor(g.inputs[i]);
    Shape shape = t.shape;
    if (!input_shapes.empty()) {
      const Shape& given = input_shapes[i];
      // With batch_override a declared batch of 1 may be given as N; the ops are checked below.
      const bool rebatch = options.batch_override && t.shape_known && t.shape.rank() >= 1 && t.shape[0] == 1 &&
                           given.rank() == t.shape.rank() && given[0] > 1;
      bool fits = !t.shape_known || given.rank() == t.shape.rank();
      for (int d = rebatch ? 1 : 0; fits && t.shape_known && d < given.rank(); ++d)
        fits = t.shape[d] < 0 || t.shape[d] == given[d];
      if (!fits || !given.is_static()) {
        throw Error(g.source + ": input '" + t.name + "' is declared " + t.shape.to_string() + ", cannot run it at " +
                    given.to_string());
      }
      if (rebatch) {
        if (batch_ != 0 && batch_ != given[0]) {
          throw Error(g.source + ": inputs are given at batches " + std::to_string(batch_) + " and " +
                      std::to_string(given[0]) + "; batch_override needs one batch");
        }
        batch_ = given[0];
        rebatched_inputs.push_back(g.inputs[i]);
      }
      shape = given;
    } else {
      for (int d = 0; d < shape.rank(); ++d)
        if (shape[d] < 0) shape[d] = 1;
    }
    PlannedTensor& s = state(g.inputs[i]);
    s.desc = {t.dtype, shape};
    s.has_desc = true;
  }

  if (batch_ != 0) {
    layouts_.assign(g.tensors.size(), BatchLayout::kShared);
    for (int32_t id : rebatched_inputs) layouts_[static_cast<size_t>(id)] = BatchLayout::kAxis0;
  }

  // 2-3. Shape inference and constant folding, in graph order. When re-planning at a batch, an op
  // reading a batched tensor is replaced by its batch-N form (rebatch.h) before inference.
  std::vector<TensorView> in_views;
  std::vector<TensorDesc> out_descs;
  RebatchedOp rebatched;
  for (size_t oi = 0; oi < g.ops.size(); ++oi) {
    const bool batched = batch_ != 0 && reads_batched(g.ops[oi]);
    if (batched) rebatched = rebatch(g.ops[oi]);
    const Op& op = batched ? rebatched.op : g.ops[oi];
    in_views.assign(op.inputs.size(), TensorView{});
    bool all_known = true;
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      const int32_t id = op.inputs[k];
      if (id < 0) continue;
      const PlannedTensor& s = state(id);
      if (!s.has_desc) {
        throw Error(g.source + ": op '" + op.name + "' reads tensor '" + g.tensor(id).name + "' whose shape is unknown");
      }
      in_views[k] = TensorView{s.desc.dtype, s.desc.shape, const_cast<void*>(s.value)};
      all_known = all_known && s.value != nullptr;
    }
    out_descs.assign(op.outputs.size(), TensorDesc{});
    infer_output_descs(g.source, op, in_views, out_descs);
    if (batched) {
      // The rules promise [N, item...]; a rewritten op that infers anything else is refused too.
      if (out_descs[0].shape != rebatched.expected_output) {
        throw Error(g.source + ": cannot run at batch " + std::to_string(batch_) + ": op '" + op.name + "' (" +
                    std::string(op_type_name(op.type)) + ") mixes batch items: it gives " +
                    out_descs[0].shape.to_string() + " at batch " + std::to_string(batch_) + ", expected " +
                    rebatched.expected_output.to_string());
      }
      layouts_[static_cast<size_t>(op.outputs[0])] = rebatched.layout;
    }
    for (size_t k = 0; k < op.outputs.size(); ++k) {
      PlannedTensor& s = state(op.outputs[k]);
      s.desc = out_descs[k];
      s.has_desc = true;
    }
    const bool foldable = op.type == OpType::kShape || all_known;
    if (foldable) {
      std::vector<TensorView> out_views(op.outputs.size());
      for (size_t k = 0; k < op.outputs.size(); ++k) {
        folded_.emplace_back(std::max<size_t>(out_descs[k].bytes(), 1));
        out_views[k] = TensorView{out_descs[k].dtype, out_descs[k].shape, folded_.back().data()};
        state(op.outputs[k]).value = folded_.back().data();
      }
      // A Shape op only needs its input's shape, which is known even when the values are not.
      const Status st = op.type == OpType::kShape ? write_shape(in_views[0].shape, out_views[0])
                                                  : cpu::run_reference_op(op, in_views, out_views);
      if (!st.is_ok()) {
        throw Error(g.source + ": folding op '" + op.name + "' (" + std::string(op_type_name(op.type)) +
                    ") at plan time failed: " + st.message());
      }
      ++stats_.folded_ops;
      continue;
    }
    ScheduledOp p;
    p.op = op;
    p.source_index = static_cast<int32_t>(oi);
    ops_.push_back(std::move(p));
  }

  is_graph_output_.resize(tensors_.size(), 0);  // tensors added by rebatching are never outputs

  // 4. Fusion: an activation op that is the only reader of a conv/add output folds into it.
  if (options.fuse_activations) {
    const std::vector<int> uses = use_counts();
    std::vector<int32_t> producer = producers();
    std::vector<char> removed(ops_.size(), 0);
    for (size_t i = 0; i < ops_.size(); ++i) {
      Op& act_op = ops_[i].op;
      const Activation act = activation_of(act_op.type);
      if (act == Activation::kNone || act_op.inputs.size() != 1) continue;
      const int32_t src = act_op.inputs[0];
      if (src < 0 || uses[static_cast<size_t>(src)] != 1 || is_graph_output(src)) continue;
      const int32_t pi = producer[static_cast<size_t>(src)];
      if (pi < 0 || removed[static_cast<size_t>(pi)]) continue;
      Op& prod = ops_[static_cast<size_t>(pi)].op;
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
      ++stats_.fused_ops;
    }
    std::vector<ScheduledOp> kept;
    kept.reserve(ops_.size());
    for (size_t i = 0; i < ops_.size(); ++i)
      if (!removed[i]) kept.push_back(std::move(ops_[i]));
    ops_ = std::move(kept);
  }

  // 5. Views: reshapes of run-time tensors share their input's memory.
  {
    std::vector<ScheduledOp> kept;
    kept.reserve(ops_.size());
    for (ScheduledOp& p : ops_) {
      if (is_view_op(p.op.type) && p.op.inputs[0] >= 0 && !state(p.op.inputs[0]).value &&
          !is_graph_output(p.op.outputs[0])) {
        state(p.op.outputs[0]).alias_of = p.op.inputs[0];
        ++stats_.aliased_ops;
        continue;
      }
      kept.push_back(std::move(p));
    }
    ops_ = std::move(kept);
  }
}

bool PlannedGraph::reads_batched(const Op& op) const {
  for (int32_t id : op.inputs)
    if (id >= 0 && layouts_[static_cast<size_t>(id)] != BatchLayout::kShared) return true;
  return false;
}

RebatchedOp PlannedGraph::rebatch(const Op& op) {
  const Graph& g = *graph_;
  std::vector<TensorView> items(op.inputs.size());
  std::vector<BatchLayout> layouts(op.inputs.size(), BatchLayout::kShared);
  for (size_t k = 0; k < op.inputs.size(); ++k) {
    const int32_t id = op.inputs[k];
    if (id < 0) continue;
    const PlannedTensor& s = tensors_[static_cast<size_t>(id)];
    if (!s.has_desc) {
      throw Error(g.source + ": op '" + op.name + "' reads tensor '" + g.tensor(id).name + "' whose shape is unknown");
    }
    layouts[k] = layouts_[static_cast<size_t>(id)];
    items[k] = TensorView{s.desc.dtype, item_shape(s.desc.shape, layouts[k]), const_cast<void*>(s.value)};
  }
  RebatchedOp r = rebatch_op(g.source, op, items, layouts, batch_);
  // A shared plan-time input of a Concat, [1, ...], repeated once per item as a new constant.
  for (size_t k : r.tile_inputs) {
    const TensorView& item = items[k];
    const size_t item_bytes = item.bytes();
    folded_.emplace_back(std::max<size_t>(item_bytes * static_cast<size_t>(batch_), 1));
    std::byte* dst = static_cast<std::byte*>(folded_.back().data());
    for (int64_t b = 0; b < batch_; ++b) std::memcpy(dst + static_cast<size_t>(b) * item_bytes, item.data, item_bytes);
    PlannedTensor tiled;
    tiled.desc = {item.dtype, planned_shape(item.shape, BatchLayout::kAxis0, batch_)};
    tiled.has_desc = true;
    tiled.value = dst;
    tensors_.push_back(tiled);
    layouts_.push_back(BatchLayout::kAxis0);
    r.op.inputs[k] = static_cast<int32_t>(tensors_.size() - 1);
  }
  return r;
}

int32_t PlannedGraph::root(int32_t id) const {
  while (tensors_[static_cast<size_t>(id)].alias_of >= 0) id = tensors_[static_cast<size_t>(id)].alias_of;
  return id;
}

TensorView PlannedGraph::host_view(int32_t id) const {
  const PlannedTensor& t = tensor(id);
  return TensorView{t.desc.dtype, t.desc.shape, const_cast<void*>(value(id))};
}

std::vector<int> PlannedGraph::use_counts() const {
  std::vector<int> uses(tensors_.size(), 0);
  for (const ScheduledOp& p : ops_)
    for (int32_t id : p.op.inputs)
      if (id >= 0) ++uses[static_cast<size_t>(id)];
  for (int32_t id : graph_->outputs) ++uses[static_cast<size_t>(id)];
  for (const PlannedTensor& t : tensors_)
    if (t.alias_of >= 0) ++uses[static_cast<size_t>(t.alias_of)];
  return uses;
}

std::vector<int32_t> PlannedGraph::producers() const {
  std::vector<int32_t> producer(tensors_.size(), -1);
  for (size_t i = 0; i < ops_.size(); ++i)
    for (int32_t id : ops_[i].op.outputs) producer[static_cast<size_t>(id)] = static_cast<int32_t>(i);
  return producer;
}

size_t PlannedGraph::plan_memory(const std::function<size_t(int32_t id)>& storage_bytes) {
  // Lifetimes over root tensors in op indices (-1: graph input; ops().size(): graph output).
  const Graph& g = *graph_;
  MemoryPlanner planner;
  const int end_of_plan = static_cast<int>(ops_.size());
  std::vector<int32_t> buffer_of(tensors_.size(), -1);
  auto buffer_for = [&](int32_t id, int at) {
    const int32_t r = root(id);
    if (tensors_[static_cast<size_t>(r)].value) return;  // constants and folded values live outside the arena
    int32_t& b = buffer_of[static_cast<size_t>(r)];
    if (b < 0) {
      b = planner.add_buffer(storage_bytes(r), at, at);
    } else {
      planner.extend(b, at);
    }
  };
  for (int32_t id : g.inputs) buffer_for(id, -1);
  for (int i = 0; i < end_of_plan; ++i) {
    for (int32_t id : ops_[static_cast<size_t>(i)].op.inputs)
      if (id >= 0) buffer_for(id, i);
    for (int32_t id : ops_[static_cast<size_t>(i)].op.outputs) buffer_for(id, i);
  }
  for (int32_t id : g.outputs) buffer_for(id, end_of_plan);
  const size_t bytes = planner.plan();
  offsets_.assign(tensors_.size(), kNoOffset);
  for (size_t i = 0; i < buffer_of.size(); ++i)
    if (buffer_of[i] >= 0) offsets_[i] = planner.offset(buffer_of[i]);
  stats_.tensor_bytes = bytes;
  stats_.naive_tensor_bytes = planner.naive_bytes();
  return bytes;
}

size_t PlannedGraph::arena_offset(int32_t id) const {
  const int32_t r = root(id);
  if (offsets_.empty() || tensors_[static_cast<size_t>(r)].value) return kNoOffset;
  return offsets_[static_cast<size_t>(r)];
}

}  // namespace facepipe::engine
