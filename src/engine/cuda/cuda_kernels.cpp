// Dispatch from op type to the op family's entry point, and the entry points' shared checks.
#include <cstdlib>
#include <cstring>
#include <limits>

#include "engine/cuda/cuda_kernel.h"
#include "engine/cuda/ops/ops.h"

namespace facepipe::engine::cuda {

void require_int32_elements(const Op& op, int64_t n) {
  if (n > std::numeric_limits<int32_t>::max()) unsupported(op, "tensor has more than 2^31 elements");
}

void unsupported(const Op& op, const std::string& what) {
  throw Error("CUDA backend: op '" + op.name + "' (" + std::string(op_type_name(op.type)) + "): " + what);
}

bool programmatic_launch_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("FACEPIPE_CUDA_PDL");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  return enabled;
}

bool is_float_storage(DType d) { return d == DType::kF32 || d == DType::kF16; }

int multiprocessor_count() {
  int device = 0, sms = 0;
  cudaGetDevice(&device);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  return sms > 0 ? sms : 1;
}

void require_float_tensors(const Op& op, const TensorView& x, const TensorView& y, const TensorView* w) {
  if (!is_float_storage(x.dtype) || y.dtype != x.dtype || (w && w->dtype != x.dtype)) {
    unsupported(op, w ? "input, weights and output must share one float storage type" : "needs f32/f16 tensors");
  }
  require_int32_elements(op, x.num_elements());
  require_int32_elements(op, y.num_elements());
}

namespace {

using Factory = std::unique_ptr<CudaKernel> (*)(const KernelArgs&);

Factory factory_for(OpType type) {
  switch (type) {
    case OpType::kConv2D:
    case OpType::kFullyConnected: return &make_conv_kernel;
    case OpType::kDepthwiseConv2D: return &make_depthwise_kernel;
    case OpType::kMaxPool2D:
    case OpType::kAvgPool2D: return &make_pool_kernel;
    case OpType::kAdd:
    case OpType::kSub:
    case OpType::kMul:
    case OpType::kDiv:
    case OpType::kSquaredDifference:
    case OpType::kMaximum:
    case OpType::kMinimum:
    case OpType::kPRelu: return &make_binary_kernel;
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
    case OpType::kCast: return &make_unary_kernel;
    case OpType::kReshape:
    case OpType::kSqueeze:
    case OpType::kUnsqueeze:
    case OpType::kTranspose:
    case OpType::kConcat:
    case OpType::kSlice:
    case OpType::kPad:
    case OpType::kGather: return &make_layout_kernel;
    case OpType::kResize: return &make_resize_kernel;
    case OpType::kMean:
    case OpType::kSum:
    case OpType::kSoftmax:
    case OpType::kLayerNorm: return &make_reduce_kernel;
    case OpType::kShape:  // always folded at plan time: the shape is known
    case OpType::kCount: break;
  }
  return nullptr;
}

}  // namespace

bool cuda_supports(OpType type) { return factory_for(type) != nullptr; }

std::unique_ptr<CudaKernel> make_cuda_kernel(const KernelArgs& args) {
  const Factory f = factory_for(args.op.type);
  if (!f) unsupported(args.op, "no CUDA kernel for this op type");
  return f(args);
}

}  // namespace facepipe::engine::cuda
