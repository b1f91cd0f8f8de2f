// make_optimized_kernel: routes each op to its optimized CPU kernel (src/engine/cpu/optimized/),
// or returns nullptr so that the planner runs the reference implementation.
#include "engine/cpu/cpu_kernel.h"
#include "engine/cpu/optimized/conv.h"

namespace facepipe::engine::cpu {

std::unique_ptr<CpuKernel> make_optimized_kernel(const Op& op, std::span<const TensorView> inputs,
                                                 std::span<const TensorDesc> outputs) {
  if (outputs.empty() || inputs.empty()) return nullptr;
  switch (op.type) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D: {
      if (inputs.size() < 2) return nullptr;
      const auto& attrs = op.as<ConvAttrs>();
      const TensorView* bias = inputs.size() > 2 && op.inputs[2] >= 0 ? &inputs[2] : nullptr;
      const opt::ConvEpilogue epilogue = opt::epilogue_of(attrs);
      if (op.type == OpType::kConv2D)
        return opt::make_conv2d_kernel(attrs, inputs[1], bias, inputs[0].desc(), outputs[0], epilogue);
      return opt::make_depthwise_conv2d_kernel(attrs, inputs[1], bias, inputs[0].desc(), outputs[0], epilogue);
    }
    default:
      return nullptr;
  }
}

}  // namespace facepipe::engine::cpu
