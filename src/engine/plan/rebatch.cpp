// The per-op rules of batch-N planning (rebatch.h has the model). Each rule states why the op keeps
// the items apart; anything not covered is refused rather than guessed.
#include "engine/plan/rebatch.h"

#include <string>

#include "common/status.h"
#include "engine/plan/op_geometry.h"
#include "engine/plan/shape_inference.h"

namespace facepipe::engine {

namespace {

[[noreturn]] void refuse(const std::string& why) { throw Error(why); }

bool is_batched(BatchLayout l) { return l != BatchLayout::kShared; }

// Attributes of kind T, or T's defaults for an op built without any (as shape inference reads them;
// it has already rejected a wrong kind).
template <typename T> const T& attrs_of(const Op& op) {
  static const T kDefaults{};
  const T* a = std::get_if<T>(&op.attrs);
  return a ? *a : kDefaults;
}

struct Rule {
  const Op& op;
  std::span<const TensorView> items;
  std::span<const BatchLayout> layouts;
  const Shape& item_out;
  int64_t batch;

  bool batched(size_t k) const { return k < layouts.size() && op.inputs[k] >= 0 && is_batched(layouts[k]); }

  // Ops whose semantics index axis 0 as the batch (NHWC spatial ops, reductions, ...): input
  // `data` must carry the batch on its own axis 0 and every other input must be shared.
  void require_axis0_data(size_t data = 0) const {
    for (size_t k = 0; k < layouts.size(); ++k) {
      if (k == data) {
        if (!batched(k)) refuse("its data input is not batched while input " + std::to_string(k) + " is");
        if (layouts[k] != BatchLayout::kAxis0) {
          refuse("its input had its batch axis dropped by the model (batch as an added leading axis); only "
                 "elementwise ops and reshapes may follow that");
        }
      } else if (batched(k)) {
        refuse("input " + std::to_string(k) + " (weights, indices, shape, ...) differs per item");
      }
    }
  }
  void require_axis_not_batch(int64_t axis, const char* what) const {
    if (normalize_axis(axis, items[0].shape.rank(), what) == 0) {
      refuse(std::string(what) + " is axis 0, the batch");
    }
  }
};

// Elementwise with numpy broadcasting: each batched operand must span the whole output (same rank,
// so its batch axis is the output's axis 0) and shared operands must not stretch over the batch
// (leading 1 at the output's rank for kAxis0; for kLeading they cannot reach the added axis).
BatchLayout elementwise(const Rule& r) {
  BatchLayout layout = BatchLayout::kShared;
  for (size_t k = 0; k < r.layouts.size(); ++k) {
    if (!r.batched(k)) continue;
    if (layout != BatchLayout::kShared && layout != r.layouts[k]) {
      refuse("its operands carry the batch differently (one on axis 0, one as an added leading axis)");
    }
    layout = r.layouts[k];
    if (r.items[k].shape.rank() != r.item_out.rank()) {
      refuse("batched operand " + std::to_string(k) + " " + r.items[k].shape.to_string() + " is broadcast to " +
             r.item_out.to_string());
    }
  }
  if (layout == BatchLayout::kAxis0 && r.item_out[0] != 1) {
    refuse("a shared operand stretches axis 0, the batch, to " + std::to_string(r.item_out[0]));
  }
  return layout;
}

// Reshape, Squeeze and Unsqueeze only reinterpret one contiguous block per item, so any item
// target works: planned as a Reshape to [N, item_out[1:]] when the item result keeps a leading 1,
// else to [N, item_out...] (the batch becomes a new leading axis).
BatchLayout reshape(const Rule& r, Op& out) {
  for (size_t k = 1; k < r.layouts.size(); ++k)
    if (r.batched(k)) refuse("its target shape is computed from batched data");
  const BatchLayout layout =
      r.item_out.rank() >= 1 && r.item_out[0] == 1 ? BatchLayout::kAxis0 : BatchLayout::kLeading;
  ReshapeAttrs attrs;
  attrs.shape.assign(r.item_out.begin(), r.item_out.end());
  if (layout == BatchLayout::kAxis0) {
    attrs.shape[0] = r.batch;
  } else {
    attrs.shape.insert(attrs.shape.begin(), r.batch);
  }
  out.type = OpType::kReshape;
  out.inputs.resize(1);
  out.attrs = std::move(attrs);
  return layout;
}

// A Slice sees axis 0 of size 1 per item: it can only take that one element (or nothing). Planned,
// axis 0 is taken whole; a shrink of it (TFLite's trailing "squeeze the batch" slice) becomes a
// batch as an added leading axis instead.
BatchLayout slice(const Rule& r, Op& out) {
  r.require_axis0_data();
  const Shape& item = r.items[0].shape;
  const SliceAttrs& a = attrs_of<SliceAttrs>(r.op);
  const SliceGeometry geometry = resolve_slice(a, item);
  if (geometry.axes[0].count != 1) refuse("it takes no element of axis 0, the batch");
  SliceAttrs planned = a;
  for (size_t i = 0; i < a.begin.size(); ++i) {
    const int64_t axis = a.axes.empty() ? static_cast<int64_t>(i) : a.axes[i];
    if (normalize_axis(axis, item.rank(), "slice axis") != 0) continue;
    planned.begin[i] = SliceAttrs::kSliceStart;
    planned.end[i] = SliceAttrs::kSliceEnd;
    if (!planned.strides.empty()) planned.strides[i] = 1;
  }
  const bool shrinks_batch = (a.shrink_axis_mask & 1u) != 0;
  planned.shrink_axis_mask &= ~1u;
  out.attrs = std::move(planned);
  return shrinks_batch ? BatchLayout::kLeading : BatchLayout::kAxis0;
}

BatchLayout apply_rule(const Rule& r, Op& out, std::vector<size_t>& tile_inputs) {
  const Op& op = r.op;
  switch (op.type) {
    case OpType::kRelu:
    case OpType::kRelu6:
    case OpType::kLeakyRelu:
    case OpType::kLogistic:
    case OpType::kTanh:
    case OpType::kNeg:
    case OpType::kSqrt:
    case OpType::kRsqrt:
    case OpType::kExp:
    case OpType::kDequantize:
    case OpType::kCast:
    case OpType::kAdd:
    case OpType::kSub:
    case OpType::kMul:
    case OpType::kDiv:
    case OpType::kSquaredDifference:
    case OpType::kMaximum:
    case OpType::kMinimum:
    case OpType::kPRelu: return elementwise(r);

    case OpType::kReshape:
    case OpType::kSqueeze:
    case OpType::kUnsqueeze: return reshape(r, out);

    // NHWC spatial ops window over H and W only; Pad must leave axis 0 alone.
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D:
    case OpType::kMaxPool2D:
    case OpType::kAvgPool2D:
    case OpType::kResize: r.require_axis0_data(); return BatchLayout::kAxis0;
    case OpType::kPad: {
      r.require_axis0_data();
      const auto& pads = attrs_of<PadAttrs>(op).pads;
      if (pads.size() >= 2 && (pads[0] != 0 || pads[1] != 0)) refuse("it pads axis 0, the batch");
      return BatchLayout::kAxis0;
    }

    case OpType::kTranspose: {
      r.require_axis0_data();
      const auto perm = resolve_perm(attrs_of<TransposeAttrs>(op).perm, r.items[0].shape.rank());
      if (perm[0] != 0) refuse("it moves axis 0, the batch, to axis " + std::to_string(perm[0]));
      return BatchLayout::kAxis0;
    }
    case OpType::kMean:
    case OpType::kSum: {
      r.require_axis0_data();
      const auto reduced = resolve_reduce_axes(attrs_of<ReduceAttrs>(op).axes, r.items[0].shape.rank());
      if (reduced[0]) refuse("it reduces over axis 0, the batch");
      return BatchLayout::kAxis0;
    }
    case OpType::kSoftmax:
      r.require_axis0_data();
      r.require_axis_not_batch(attrs_of<SoftmaxAttrs>(op).axis, "softmax axis");
      return BatchLayout::kAxis0;
    case OpType::kLayerNorm:
      r.require_axis0_data();
      r.require_axis_not_batch(-1, "layer norm axis");
      return BatchLayout::kAxis0;
    case OpType::kGather:
      r.require_axis0_data();
      r.require_axis_not_batch(attrs_of<GatherAttrs>(op).axis, "gather axis");
      return BatchLayout::kAxis0;
    case OpType::kFullyConnected:
      r.require_axis0_data();
      // Without keep_num_dims TFLite flattens to [rows, K]: one row per item keeps [N, n].
      if (r.item_out.rank() < 1 || r.item_out[0] != 1) refuse("it flattens several rows of one item together");
      return BatchLayout::kAxis0;
    case OpType::kSlice: return slice(r, out);

    case OpType::kConcat: {
      // Along a non-batch axis, batched inputs join per item; a shared input (a learned token, say)
      // is the same for every item, so its [1, ...] is repeated N times at plan time.
      r.require_axis_not_batch(attrs_of<ConcatAttrs>(op).axis, "concat axis");
      for (size_t k = 0; k < r.layouts.size(); ++k) {
        if (r.batched(k)) {
          if (r.layouts[k] != BatchLayout::kAxis0) {
            refuse("input " + std::to_string(k) + " had its batch axis dropped by the model");
          }
        } else if (!r.items[k].data) {
          refuse("input " + std::to_string(k) + " is computed at run time without the batch");
        } else {
          tile_inputs.push_back(k);
        }
      }
      return BatchLayout::kAxis0;
    }

    case OpType::kShape:
      refuse("it reads the shape of a batched tensor (the result would depend on N)");
    default:
      refuse("it is not known to keep batch items apart");
  }
}

}  // namespace

Shape item_shape(const Shape& planned, BatchLayout layout) {
  Shape item;
  switch (layout) {
    case BatchLayout::kShared: return planned;
    case BatchLayout::kAxis0:
      item = planned;
      item[0] = 1;
      return item;
    case BatchLayout::kLeading:
      for (int d = 1; d < planned.rank(); ++d) item.push_back(planned[d]);
      return item;
  }
  return planned;
}

Shape planned_shape(const Shape& item, BatchLayout layout, int64_t batch) {
  Shape planned;
  switch (layout) {
    case BatchLayout::kShared: return item;
    case BatchLayout::kAxis0:
      planned = item;
      planned[0] = batch;
      return planned;
    case BatchLayout::kLeading:
      planned.push_back(batch);
      for (int64_t d : item.dims()) planned.push_back(d);
      return planned;
  }
  return item;
}

RebatchedOp rebatch_op(const std::string& source, const Op& op, std::span<const TensorView> items,
                       std::span<const BatchLayout> layouts, int64_t batch) {
  // The model as made, on one item: a genuine shape error is reported as such, not as batching.
  std::vector<TensorDesc> item_out(op.outputs.size());
  infer_output_descs(source, op, items, item_out);

  RebatchedOp result;
  result.op = op;
  try {
    const Rule rule{op, items, layouts, item_out[0].shape, batch};
    result.layout = apply_rule(rule, result.op, result.tile_inputs);
    if (result.layout == BatchLayout::kAxis0 && (rule.item_out.rank() < 1 || rule.item_out[0] != 1)) {
      refuse("its output " + rule.item_out.to_string() + " no longer has the batch on axis 0");
    }
    result.expected_output = planned_shape(rule.item_out, result.layout, batch);
  } catch (const Error& e) {
    throw Error(source + ": cannot run at batch " + std::to_string(batch) + ": op '" + op.name + "' (" +
                std::string(op_type_name(op.type)) + ") mixes batch items: " + e.what());
  }
  return result;
}

}  // namespace facepipe::engine
