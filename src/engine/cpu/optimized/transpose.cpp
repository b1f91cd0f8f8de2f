// Transpose (layout_ops.h): the output viewed as [outer rows][A][B] (its last two dims); each
// outer row's input offset is decoded once, then the A x B block is gathered with the input
// strides of those two dims. For the NCHW -> NHWC input conversion of ONNX models (A = W with input
// stride 1, B = C) this reads C sequential streams and writes sequentially.
#include <algorithm>
#include <array>
#include <cstring>

#include "engine/cpu/optimized/kernel_util.h"
#include "engine/cpu/optimized/layout_ops.h"
#include "engine/plan/op_geometry.h"

namespace facepipe::engine::cpu::opt {
namespace {

template <typename T>
class TransposeKernel final : public CpuKernel {
 public:
  static constexpr int kMaxRank = Shape::kMaxRank;

  TransposeKernel(int outer_rank, std::array<int64_t, kMaxRank> outer_dims, std::array<int64_t, kMaxRank> outer_strides,
                  int64_t a, int64_t b, int64_t stride_a, int64_t stride_b, int64_t rows)
      : outer_rank_(outer_rank), outer_dims_(outer_dims), outer_strides_(outer_strides), a_(a), b_(b),
        stride_a_(stride_a), stride_b_(stride_b), rows_(rows) {}

  Status run(std::span<const TensorView> inputs, std::span<const TensorView> outputs, void*,
             ThreadPool& pool) override {
    const T* in = inputs[0].as<const T>();
    T* out = outputs[0].as<T>();
    const int64_t block = a_ * b_;
    pool.parallel_for(rows_, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, block)), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        int64_t rem = r, offset = 0;
        for (int d = outer_rank_ - 1; d >= 0; --d) {
          const int64_t idx = rem % outer_dims_[static_cast<size_t>(d)];
          rem /= outer_dims_[static_cast<size_t>(d)];
          offset += idx * outer_strides_[static_cast<size_t>(d)];
        }
        copy_block(in + offset, out + r * block);
      }
    });
    return Status::ok();
  }

 private:
  void copy_block(const T* in, T* out) const {
    const int64_t A = a_, B = b_, sa = stride_a_, sb = stride_b_;
    if (sb == 1) {  // rows of B are contiguous in the input too
      for (int64_t i = 0; i < A; ++i) std::memcpy(out + i * B, in + i * sa, static_cast<size_t>(B) * sizeof(T));
      return;
    }
    if (B <= 4 && sa == 1) {  // few interleaved channels: walk the B input streams together
      for (int64_t i = 0; i < A; ++i)
        for (int64_t j = 0; j < B; ++j) out[i * B + j] = in[i + j * sb];
      return;
    }
    for (int64_t i = 0; i < A; ++i) {
      const T* src = in + i * sa;
      T* dst = out + i * B;
      for (int64_t j = 0; j < B; ++j) dst[j] = src[j * sb];
    }
  }

  int outer_rank_;
  std::array<int64_t, kMaxRank> outer_dims_, outer_strides_;
  int64_t a_, b_, stride_a_, stride_b_, rows_;
};

}  // namespace

std::unique_ptr<CpuKernel> make_transpose_kernel(const Op& op, std::span<const TensorView> inputs,
                                                 std::span<const TensorDesc> outputs) {
  if (op.type != OpType::kTranspose || inputs.size() != 1 || outputs.size() != 1) return nullptr;
  const Shape& xs = inputs[0].shape;
  const Shape& os = outputs[0].shape;
  const int rank = xs.rank();
  if (rank < 2 || os.rank() != rank || !xs.is_static() || xs.num_elements() == 0) return nullptr;
  const size_t elem = dtype_size(inputs[0].dtype);
  if (elem != 4 && elem != 8) return nullptr;
  const auto perm = resolve_perm(op.as<TransposeAttrs>().perm, rank);
  std::array<int64_t, Shape::kMaxRank> in_strides{};
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    in_strides[static_cast<size_t>(d)] = stride;
    stride *= xs[d];
  }
  // Output dim i walks input dim perm[i].
  std::array<int64_t, Shape::kMaxRank> out_strides_in{}, outer_dims{};
  for (int i = 0; i < rank; ++i) out_strides_in[static_cast<size_t>(i)] = in_strides[static_cast<size_t>(perm[static_cast<size_t>(i)])];
  int64_t rows = 1;
  for (int i = 0; i < rank - 2; ++i) {
    outer_dims[static_cast<size_t>(i)] = os[i];
    rows *= os[i];
  }
  const int64_t a = os[rank - 2], b = os[rank - 1];
  const int64_t sa = out_strides_in[static_cast<size_t>(rank - 2)], sb = out_strides_in[static_cast<size_t>(rank - 1)];
  if (elem == 4)
    return std::make_unique<TransposeKernel<uint32_t>>(rank - 2, outer_dims, out_strides_in, a, b, sa, sb, rows);
  return std::make_unique<TransposeKernel<uint64_t>>(rank - 2, outer_dims, out_strides_in, a, b, sa, sb, rows);
}

}  // namespace facepipe::engine::cpu::opt
