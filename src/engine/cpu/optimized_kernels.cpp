// make_optimized_kernel: routes each op to its optimized CPU kernel (src/engine/cpu/optimized/),
// or returns nullptr so that the planner runs the reference implementation. docs/engine.md
// ("Optimized CPU kernels") lists what each kernel covers.
#include "engine/cpu/cpu_kernel.h"
#include "engine/cpu/optimized/conv.h"
#include "engine/cpu/optimized/elementwise.h"
#include "engine/cpu/optimized/layout_ops.h"

namespace facepipe::engine::cpu {

std::unique_ptr<CpuKernel> make_optimized_kernel(const Op& op, std::span<const TensorView> inputs,
                                                 std::span<const TensorDesc> outputs) {
  if (outputs.empty() || inputs.empty() || inputs.size() != op.inputs.size()) return nullptr;
  switch (op.type) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D: {
      if (inputs.size() < 2 || op.inputs[1] < 0) return nullptr;
      const auto& attrs = op.as<ConvAttrs>();
      const TensorView* bias = inputs.size() > 2 && op.inputs[2] >= 0 ? &inputs[2] : nullptr;
      const opt::ConvEpilogue epilogue = opt::epilogue_of(attrs);
      if (op.type == OpType::kConv2D)
        return opt::make_conv2d_kernel(attrs, inputs[1], bias, inputs[0].desc(), outputs[0], epilogue);
      return opt::make_depthwise_conv2d_kernel(attrs, inputs[1], bias, inputs[0].desc(), outputs[0], epilogue);
    }
    case OpType::kAdd:
    case OpType::kSub:
    case OpType::kMul:
    case OpType::kDiv:
    case OpType::kMaximum:
    case OpType::kMinimum:
    case OpType::kSquaredDifference:
      return opt::make_binary_kernel(op, inputs, outputs);
    case OpType::kRelu:
    case OpType::kRelu6:
    case OpType::kLeakyRelu:
    case OpType::kLogistic:
    case OpType::kTanh:
      return opt::make_unary_kernel(op, inputs, outputs);
    case OpType::kPRelu:
      return opt::make_prelu_kernel(op, inputs, outputs);
    case OpType::kMaxPool2D:
    case OpType::kAvgPool2D:
      return opt::make_pool2d_kernel(op, inputs, outputs);
    case OpType::kConcat:
      return opt::make_concat_kernel(op, inputs, outputs);
    case OpType::kResize:
      return opt::make_resize_nearest_kernel(op, inputs, outputs);
    case OpType::kTranspose:
      return opt::make_transpose_kernel(op, inputs, outputs);
    default:
      return nullptr;
  }
}

}  // namespace facepipe::engine::cpu
