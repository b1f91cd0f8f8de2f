// Ops that only move elements: Transpose and Slice (one strided gather), Pad, Gather, Concat, and
// Reshape/Squeeze/Unsqueeze when they must be copied (graph outputs). They work on any dtype by
// moving 1, 2, 4 or 8-byte words; all index arithmetic is resolved at plan time through
// engine/plan/op_geometry (resolve_perm, resolve_slice, normalize_axis).
#include <cmath>
#include <cstring>
#include <vector>

#include "common/half.h"
#include "engine/cuda/ops/common.cuh"
#include "engine/plan/op_geometry.h"

namespace facepipe::engine::cuda {

namespace {

constexpr int kThreads = 256;

// out[i] = in[base + sum_d coord_d(i) * strides[d]]
struct StridedParams {
  const void* x = nullptr;
  void* y = nullptr;
  int total = 0;
  int rank = 0;
  int32_t dims[kMaxRank] = {};
  int32_t strides[kMaxRank] = {};
  int32_t base = 0;
  int element = 4;
  // Walk the input instead: x[i] goes to y[base + sum coord_d(i) * strides[d]] (dims are then the
  // input's). Transposes that make the innermost dimension shorter (NCHW -> NHWC with 3 channels)
  // read coalesced this way instead of with a stride of H*W.
  bool scatter = false;
};

template <typename E>
__global__ void strided_kernel(const StridedParams p) {
  await_inputs();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= p.total) return;
  int other = p.base, rest = i;
  for (int d = p.rank - 1; d >= 0; --d) {
    other += (rest % p.dims[d]) * p.strides[d];
    rest /= p.dims[d];
  }
  if (p.scatter) static_cast<E*>(p.y)[other] = static_cast<const E*>(p.x)[i];
  else static_cast<E*>(p.y)[i] = static_cast<const E*>(p.x)[other];
}

// NCHW -> NHWC with few channels (RetinaFace's input, C = 3): one thread per pixel reads its C
// values (coalesced across the warp within each plane) and writes them contiguously. No index
// division at all, where the generic strided kernel spends four per element.
struct ToNhwcParams {
  const void* x = nullptr;
  void* y = nullptr;
  int N = 0, C = 0, HW = 0;
  int element = 4;
};

template <typename E>
__global__ void to_nhwc_kernel(const ToNhwcParams p) {
  await_inputs();
  const int pixel = blockIdx.x * blockDim.x + threadIdx.x;
  if (pixel >= p.HW) return;
  const int n = blockIdx.y;
  const E* x = static_cast<const E*>(p.x) + static_cast<int64_t>(n) * p.C * p.HW + pixel;
  E* y = static_cast<E*>(p.y) + (static_cast<int64_t>(n) * p.HW + pixel) * p.C;
  for (int c = 0; c < p.C; ++c) y[c] = x[static_cast<int64_t>(c) * p.HW];
}

struct PadParams {
  const void* x = nullptr;
  void* y = nullptr;
  int total = 0;
  int rank = 0;
  int32_t out_dims[kMaxRank] = {};
  int32_t in_dims[kMaxRank] = {};
  int32_t before[kMaxRank] = {};
  int32_t in_strides[kMaxRank] = {};
  uint64_t fill = 0;
  int element = 4;
};

template <typename E>
__global__ void pad_kernel(const PadParams p) {
  await_inputs();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= p.total) return;
  int from = 0, rest = i;
  bool inside = true;
  for (int d = p.rank - 1; d >= 0; --d) {
    const int c = rest % p.out_dims[d] - p.before[d];
    rest /= p.out_dims[d];
    inside = inside && c >= 0 && c < p.in_dims[d];
    from += c * p.in_strides[d];
  }
  static_cast<E*>(p.y)[i] = inside ? static_cast<const E*>(p.x)[from] : static_cast<E>(p.fill);
}

// out[o][j][k] = data[o][indices[j]][k]
struct GatherParams {
  const void* x = nullptr;
  const void* indices = nullptr;
  void* y = nullptr;
  int total = 0;
  int count = 0;  // number of indices
  int inner = 0;
  int dim = 0;    // data extent along the axis
  bool i64 = true;
  int element = 4;
};

template <typename E>
__global__ void gather_kernel(const GatherParams p) {
  await_inputs();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= p.total) return;
  const int k = i % p.inner;
  const int j = (i / p.inner) % p.count;
  const int o = i / p.inner / p.count;
  int64_t v = p.i64 ? static_cast<const int64_t*>(p.indices)[j] : static_cast<const int32_t*>(p.indices)[j];
  if (v < 0) v += p.dim;
  E* y = static_cast<E*>(p.y);
  if (v < 0 || v >= p.dim) {
    y[i] = E(0);  // out of range: the reference reports an error; a kernel writes zeros
    return;
  }
  y[i] = static_cast<const E*>(p.x)[(static_cast<int64_t>(o) * p.dim + v) * p.inner + k];
}

// One input of a Concat: rows of `in_len` elements copied into rows of `out_len` at `offset`.
template <typename E>
__global__ void concat_kernel(const void* x, void* y, int total, int in_len, int out_len, int offset) {
  await_inputs();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= total) return;
  static_cast<E*>(y)[(i / in_len) * out_len + offset + i % in_len] = static_cast<const E*>(x)[i];
}

struct ConcatParams {
  struct Part {
    const void* x;
    int total, in_len, offset;
  };
  std::vector<Part> parts;
  void* y = nullptr;
  int out_len = 0;
  int element = 4;
};

struct CopyParams {
  const void* x = nullptr;
  void* y = nullptr;
  size_t bytes = 0;
};

template <template <typename> class F, typename... A>
Status by_element(int element, A&&... a) {
  switch (element) {
    case 1: F<uint8_t>::run(a...); break;
    case 2: F<uint16_t>::run(a...); break;
    case 4: F<uint32_t>::run(a...); break;
    case 8: F<uint64_t>::run(a...); break;
    default: return Status::error(StatusCode::kUnsupported, "element size");
  }
  return launch_status();
}

template <typename E> struct RunStrided {
  static void run(const StridedParams& p, cudaStream_t s) { launch(strided_kernel<E>, grid_for(p.total, kThreads), kThreads, s, p); }
};
template <typename E> struct RunToNhwc {
  static void run(const ToNhwcParams& p, cudaStream_t s) {
    const dim3 grid(grid_for(p.HW, kThreads), static_cast<unsigned>(p.N));
    launch(to_nhwc_kernel<E>, grid, kThreads, s, p);
  }
};
template <typename E> struct RunPad {
  static void run(const PadParams& p, cudaStream_t s) { launch(pad_kernel<E>, grid_for(p.total, kThreads), kThreads, s, p); }
};
template <typename E> struct RunGather {
  static void run(const GatherParams& p, cudaStream_t s) { launch(gather_kernel<E>, grid_for(p.total, kThreads), kThreads, s, p); }
};
template <typename E> struct RunConcat {
  static void run(const ConcatParams& p, cudaStream_t s) {
    for (const ConcatParams::Part& part : p.parts) {
      if (part.total == 0) continue;
      launch(concat_kernel<E>, grid_for(part.total, kThreads), kThreads, s, part.x, p.y, part.total, part.in_len,
                                                                            p.out_len, part.offset);
    }
  }
};

Status launch_strided(const StridedParams& p, cudaStream_t s) {
  return p.total == 0 ? Status::ok() : by_element<RunStrided>(p.element, p, s);
}
Status launch_to_nhwc(const ToNhwcParams& p, cudaStream_t s) {
  return p.N * p.HW * p.C == 0 ? Status::ok() : by_element<RunToNhwc>(p.element, p, s);
}
Status launch_pad(const PadParams& p, cudaStream_t s) { return p.total == 0 ? Status::ok() : by_element<RunPad>(p.element, p, s); }
Status launch_gather(const GatherParams& p, cudaStream_t s) {
  return p.total == 0 ? Status::ok() : by_element<RunGather>(p.element, p, s);
}
Status launch_concat(const ConcatParams& p, cudaStream_t s) { return by_element<RunConcat>(p.element, p, s); }
Status launch_copy(const CopyParams& p, cudaStream_t s) {
  if (p.bytes == 0 || p.x == p.y) return Status::ok();
  FACEPIPE_CUDA_RETURN(cudaMemcpyAsync(p.y, p.x, p.bytes, cudaMemcpyDeviceToDevice, s));
  return Status::ok();
}

uint64_t pad_fill_bits(const Op& op, DType dtype, float value) {
  uint64_t bits = 0;
  switch (dtype) {
    case DType::kF32: std::memcpy(&bits, &value, 4); break;
    case DType::kF16: bits = float_to_half(value); break;
    case DType::kI32:
    case DType::kI64: {
      if (!(std::fabs(value) < 2147483648.f) || value != std::trunc(value)) unsupported(op, "fill is not an integer");
      const int64_t v = static_cast<int32_t>(value);
      if (dtype == DType::kI32) {
        const auto v32 = static_cast<uint32_t>(static_cast<int32_t>(v));
        bits = v32;
      } else {
        std::memcpy(&bits, &v, 8);
      }
      break;
    }
    default:
      if (value != 0.f) unsupported(op, "u8/i8/bool pads fill with 0 only");
  }
  return bits;
}

}  // namespace

std::unique_ptr<CudaKernel> make_layout_kernel(const KernelArgs& args) {
  const Op& op = args.op;
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  require_int32_elements(op, y.num_elements());
  require_int32_elements(op, x.num_elements());
  const int element = static_cast<int>(dtype_size(y.dtype));
  const int total = static_cast<int>(y.num_elements());
  switch (op.type) {
    case OpType::kReshape:
    case OpType::kSqueeze:
    case OpType::kUnsqueeze:
      return std::make_unique<LaunchKernel<CopyParams>>(CopyParams{x.data, y.data, y.bytes()}, &launch_copy);
    case OpType::kTranspose: {
      const auto* a = std::get_if<TransposeAttrs>(&op.attrs);
      const auto perm = resolve_perm(a ? std::span<const int32_t>(a->perm) : std::span<const int32_t>(), x.shape.rank());
      const DimArray xs = row_major_strides(x.shape);
      const int rank = y.shape.rank();
      if (rank == 4 && perm[0] == 0 && perm[1] == 2 && perm[2] == 3 && perm[3] == 1 && x.shape[1] <= 16 &&
          x.shape[0] <= 65535) {
        const ToNhwcParams t{x.data, y.data, static_cast<int>(x.shape[0]), static_cast<int>(x.shape[1]),
                             static_cast<int>(x.shape[2] * x.shape[3]), element};
        return std::make_unique<LaunchKernel<ToNhwcParams>>(t, &launch_to_nhwc);
      }
      StridedParams p{x.data, y.data, total, y.shape.rank(), {}, {}, 0, element};
      p.scatter = rank > 0 && y.shape[rank - 1] < x.shape[rank - 1];
      const DimArray ys = row_major_strides(y.shape);
      for (int d = 0; d < rank; ++d) {
        const int a = perm[static_cast<size_t>(d)];  // output axis d walks input axis a
        if (p.scatter) {
          p.dims[a] = static_cast<int32_t>(x.shape[a]);
          p.strides[a] = static_cast<int32_t>(ys[static_cast<size_t>(d)]);
        } else {
          p.dims[d] = static_cast<int32_t>(y.shape[d]);
          p.strides[d] = static_cast<int32_t>(xs[static_cast<size_t>(a)]);
        }
      }
      return std::make_unique<LaunchKernel<StridedParams>>(p, &launch_strided);
    }
    case OpType::kSlice: {
      const auto* a = std::get_if<SliceAttrs>(&op.attrs);
      const SliceGeometry g = resolve_slice(a ? *a : SliceAttrs{}, x.shape);
      const DimArray xs = row_major_strides(x.shape);
      StridedParams p{x.data, y.data, total, 0, {}, {}, 0, element};
      for (int d = 0; d < x.shape.rank(); ++d) {
        const SliceAxis& s = g.axes[static_cast<size_t>(d)];
        p.base += static_cast<int32_t>(s.start * xs[static_cast<size_t>(d)]);
        if (s.shrink) continue;
        p.dims[p.rank] = static_cast<int32_t>(s.count);
        p.strides[p.rank] = static_cast<int32_t>(s.step * xs[static_cast<size_t>(d)]);
        ++p.rank;
      }
      return std::make_unique<LaunchKernel<StridedParams>>(p, &launch_strided);
    }
    case OpType::kPad: {
      const auto* a = std::get_if<PadAttrs>(&op.attrs);
      if (!a) unsupported(op, "missing pad attributes");
      const DimArray xs = row_major_strides(x.shape);
      PadParams p;
      p.x = x.data;
      p.y = y.data;
      p.total = total;
      p.rank = x.shape.rank();
      for (int d = 0; d < p.rank; ++d) {
        p.out_dims[d] = static_cast<int32_t>(y.shape[d]);
        p.in_dims[d] = static_cast<int32_t>(x.shape[d]);
        p.before[d] = static_cast<int32_t>(a->pads[static_cast<size_t>(2 * d)]);
        p.in_strides[d] = static_cast<int32_t>(xs[static_cast<size_t>(d)]);
      }
      p.fill = pad_fill_bits(op, y.dtype, a->value);
      p.element = element;
      return std::make_unique<LaunchKernel<PadParams>>(p, &launch_pad);
    }
    case OpType::kGather: {
      const TensorView& indices = args.inputs[1];
      if (indices.dtype != DType::kI32 && indices.dtype != DType::kI64) unsupported(op, "indices must be i32/i64");
      const auto* a = std::get_if<GatherAttrs>(&op.attrs);
      const int axis = normalize_axis(a ? a->axis : 0, x.shape.rank());
      GatherParams p;
      p.x = x.data;
      p.indices = indices.data;
      p.y = y.data;
      p.total = total;
      p.count = static_cast<int>(indices.num_elements());
      p.dim = static_cast<int>(x.shape[axis]);
      p.inner = 1;
      for (int d = axis + 1; d < x.shape.rank(); ++d) p.inner *= static_cast<int>(x.shape[d]);
      p.i64 = indices.dtype == DType::kI64;
      p.element = element;
      return std::make_unique<LaunchKernel<GatherParams>>(p, &launch_gather);
    }
    case OpType::kConcat: {
      const auto* a = std::get_if<ConcatAttrs>(&op.attrs);
      if (a && a->activation != Activation::kNone) unsupported(op, "Concat with a fused activation");
      const int axis = normalize_axis(a ? a->axis : 0, y.shape.rank());
      int64_t inner = 1;
      for (int d = axis + 1; d < y.shape.rank(); ++d) inner *= y.shape[d];
      ConcatParams p;
      p.y = y.data;
      p.out_len = static_cast<int>(y.shape[axis] * inner);
      p.element = element;
      int64_t offset = 0;
      for (size_t k = 0; k < args.inputs.size(); ++k) {
        const TensorView& in = args.inputs[k];
        if (in.dtype != y.dtype) unsupported(op, "inputs of different dtypes");
        p.parts.push_back({in.data, static_cast<int>(in.num_elements()), static_cast<int>(in.shape[axis] * inner),
                           static_cast<int>(offset)});
        offset += in.shape[axis] * inner;
      }
      return std::make_unique<LaunchKernel<ConcatParams>>(std::move(p), &launch_concat);
    }
    default: break;
  }
  unsupported(op, "not a layout op");
}

}  // namespace facepipe::engine::cuda
