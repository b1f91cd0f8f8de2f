// Dispatch of the reference ops (implementations under reference/). Before running an op this
// re-derives the output description with infer_output_descs and refuses a mismatch: the loops
// below index the output by the shape they expect, so a caller's wrong output shape must become an
// error status, never an out-of-bounds write.
#include "engine/cpu/reference_ops.h"

#include <array>
#include <new>
#include <string>

#include "engine/cpu/reference/reference_common.h"
#include "engine/plan/shape_inference.h"

namespace facepipe::engine::cpu {

namespace {

Status dispatch(const Op& op, std::span<const TensorView> in, const TensorView& out) {
  switch (op.type) {
    case OpType::kConv2D: return ref::conv2d(op, in, out);
    case OpType::kDepthwiseConv2D: return ref::depthwise_conv2d(op, in, out);
    case OpType::kMaxPool2D:
    case OpType::kAvgPool2D: return ref::pool2d(op, in, out);
    case OpType::kAdd:
    case OpType::kSub:
    case OpType::kMul:
    case OpType::kDiv:
    case OpType::kSquaredDifference:
    case OpType::kMaximum:
    case OpType::kMinimum: return ref::binary(op, in, out);
    case OpType::kRelu:
    case OpType::kRelu6:
    case OpType::kLeakyRelu:
    case OpType::kLogistic:
    case OpType::kTanh:
    case OpType::kNeg:
    case OpType::kSqrt:
    case OpType::kRsqrt:
    case OpType::kExp: return ref::unary(op, in, out);
    case OpType::kPRelu: return ref::prelu(op, in, out);
    case OpType::kDequantize: return ref::dequantize(op, in, out);
    case OpType::kCast: return ref::cast(op, in, out);
    case OpType::kReshape:
    case OpType::kUnsqueeze:
    case OpType::kSqueeze: return ref::copy_same_order(op, in, out);
    case OpType::kTranspose: return ref::transpose(op, in, out);
    case OpType::kConcat: return ref::concat(op, in, out);
    case OpType::kSlice: return ref::slice(op, in, out);
    case OpType::kPad: return ref::pad(op, in, out);
    case OpType::kGather: return ref::gather(op, in, out);
    case OpType::kShape: return ref::shape_of(op, in, out);
    case OpType::kResize: return ref::resize(op, in, out);
    case OpType::kMean:
    case OpType::kSum: return ref::reduce(op, in, out);
    case OpType::kSoftmax: return ref::softmax(op, in, out);
    case OpType::kLayerNorm: return ref::layer_norm(op, in, out);
    case OpType::kFullyConnected: return ref::fully_connected(op, in, out);
    case OpType::kCount: break;
  }
  return Status::error(StatusCode::kUnsupported, "reference ops: invalid op type");
}

}  // namespace

Status run_reference_op(const Op& op, std::span<const TensorView> inputs, std::span<const TensorView> outputs) {
  if (inputs.size() != op.inputs.size() || outputs.size() != 1 || op.outputs.size() != 1) {
    return Status::error(StatusCode::kInvalidArgument, "reference ops: input/output count does not match the op");
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (op.inputs[i] >= 0 && !inputs[i].present() && inputs[i].num_elements() > 0) {
      return Status::error(StatusCode::kInvalidArgument, "reference ops: an input has no data");
    }
  }
  const TensorView& out = outputs[0];
  if (!out.present() && out.num_elements() > 0) {
    return Status::error(StatusCode::kInvalidArgument, "reference ops: the output has no buffer");
  }
  try {
    static const std::string kSource = "reference op";
    std::array<TensorDesc, 1> expected;
    infer_output_descs(kSource, op, inputs, expected);
    if (expected[0].dtype != out.dtype || expected[0].shape != out.shape) {
      return Status::error(StatusCode::kInvalidArgument,
                           "reference ops: output dtype/shape differ from infer_output_descs");
    }
    return dispatch(op, inputs, out);
  } catch (const Error&) {
    // The message with details comes from calling infer_output_descs directly; a Status carries
    // static text only.
    return Status::error(StatusCode::kInvalidArgument, "reference ops: the inputs do not fit the op (see infer_output_descs)");
  } catch (const std::bad_alloc&) {
    return Status::error(StatusCode::kInternal, "reference ops: out of memory");
  }
}

}  // namespace facepipe::engine::cpu
