#include "engine/ir/op.h"

#include <array>

namespace facepipe::engine {

namespace {
constexpr std::array<std::string_view, static_cast<size_t>(OpType::kCount)> kOpNames = {
    "Conv2D", "DepthwiseConv2D", "MaxPool2D", "AvgPool2D",
    "Add", "Sub", "Mul", "Div", "SquaredDifference", "Maximum", "Minimum",
    "Relu", "Relu6", "LeakyRelu", "PRelu", "Logistic", "Tanh", "Neg", "Sqrt", "Rsqrt", "Exp",
    "Dequantize", "Cast",
    "Reshape", "Transpose", "Concat", "Slice", "Pad", "Gather", "Shape", "Unsqueeze", "Squeeze", "Resize",
    "Mean", "Sum",
    "Softmax", "LayerNorm",
    "FullyConnected",
};
// Adding an OpType without naming it here is a build error, not a crash.
static_assert(kOpNames.size() == static_cast<size_t>(OpType::kCount));
static_assert(!kOpNames.back().empty(), "every OpType needs a name in kOpNames");
}  // namespace

std::string_view op_type_name(OpType type) {
  const auto i = static_cast<size_t>(type);
  return i < kOpNames.size() ? kOpNames[i] : std::string_view("<invalid op>");
}

}  // namespace facepipe::engine
