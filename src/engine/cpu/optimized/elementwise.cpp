// Elementwise kernels (elementwise.h). Memory bound: AVX2 everywhere, work split in cache-sized
// contiguous chunks across the pool.
#include "engine/cpu/optimized/elementwise.h"

#include <algorithm>
#include <array>

#include "engine/cpu/optimized/kernel_util.h"
#include "engine/cpu/optimized/simd_avx2.h"
#include "engine/cpu/optimized/vec_math.h"

namespace facepipe::engine::cpu::opt {
namespace {

using I = Avx2;
using V = I::V;
constexpr int L = I::kLanes;
constexpr int64_t kElementGrain = 16384;  // floats per parallel chunk at least (64 KiB)

enum class BinOp { kAdd, kSub, kMul, kDiv, kMax, kMin, kSqDiff };

template <BinOp Op> inline V apply(V a, V b) {
  if constexpr (Op == BinOp::kAdd) return I::add(a, b);
  if constexpr (Op == BinOp::kSub) return I::sub(a, b);
  if constexpr (Op == BinOp::kMul) return I::mul(a, b);
  if constexpr (Op == BinOp::kDiv) return I::div(a, b);
  if constexpr (Op == BinOp::kMax) return I::max(a, b);
  if constexpr (Op == BinOp::kMin) return I::min(a, b);
  if constexpr (Op == BinOp::kSqDiff) {
    const V d = I::sub(a, b);
    return I::mul(d, d);
  }
}

// out[i] = act(a[i*sa] op b[i*sb]) for i < n, with sa, sb in {0, 1} (0: broadcast one value).
template <BinOp Op, Activation A, bool AVec, bool BVec>
void binary_span(const float* a, const float* b, float* out, int64_t n, float alpha_value) {
  const V alpha = I::set1(alpha_value);
  const V as = AVec ? V{} : I::bcast(a);
  const V bs = BVec ? V{} : I::bcast(b);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    const V av = AVec ? I::load(a + i) : as;
    const V bv = BVec ? I::load(b + i) : bs;
    I::store(out + i, activate<I, A>(apply<Op>(av, bv), alpha));
  }
  if (i < n) {
    const int r = static_cast<int>(n - i);
    const V av = AVec ? I::load_partial(a + i, r) : as;
    const V bv = BVec ? I::load_partial(b + i, r) : bs;
    I::store_partial(out + i, activate<I, A>(apply<Op>(av, bv), alpha), r);
  }
}

using SpanFn = void (*)(const float*, const float*, float*, int64_t, float);

template <BinOp Op, Activation A> SpanFn pick_span(bool a_vec, bool b_vec) {
  if (a_vec && b_vec) return &binary_span<Op, A, true, true>;
  if (a_vec) return &binary_span<Op, A, true, false>;
  if (b_vec) return &binary_span<Op, A, false, true>;
  return &binary_span<Op, A, false, false>;
}

template <BinOp Op> SpanFn pick_span(Activation act, bool a_vec, bool b_vec) {
  return dispatch_activation(act, [&](auto a) { return pick_span<Op, decltype(a)::value>(a_vec, b_vec); });
}

SpanFn pick_span(BinOp op, Activation act, bool a_vec, bool b_vec) {
  switch (op) {
    case BinOp::kAdd: return pick_span<BinOp::kAdd>(act, a_vec, b_vec);
    case BinOp::kSub: return pick_span<BinOp::kSub>(act, a_vec, b_vec);
    case BinOp::kMul: return pick_span<BinOp::kMul>(act, a_vec, b_vec);
    case BinOp::kDiv: return pick_span<BinOp::kDiv>(act, a_vec, b_vec);
    case BinOp::kMax: return pick_span<BinOp::kMax>(act, a_vec, b_vec);
    case BinOp::kMin: return pick_span<BinOp::kMin>(act, a_vec, b_vec);
    case BinOp::kSqDiff: return pick_span<BinOp::kSqDiff>(act, a_vec, b_vec);
  }
  return nullptr;
}

// The output viewed as [outer rows][inner]: each input either walks the row (stride 1) or
// repeats one value (stride 0); a row's start offset in each input comes from per-dim strides.
class BinaryKernel final : public CpuKernel {
 public:
  static constexpr int kMaxRank = Shape::kMaxRank;

  BinaryKernel(SpanFn fn, float alpha, int64_t total, int64_t inner, int rank, std::array<int64_t, kMaxRank> dims,
               std::array<int64_t, kMaxRank> a_strides, std::array<int64_t, kMaxRank> b_strides)
      : fn_(fn), alpha_(alpha), total_(total), inner_(inner), rank_(rank), dims_(dims), a_strides_(a_strides),
        b_strides_(b_strides) {}

  Status run(std::span<const TensorView> inputs, std::span<const TensorView> outputs, void*,
             ThreadPool& pool) override {
    const float* a = inputs[0].as<const float>();
    const float* b = inputs[1].as<const float>();
    float* out = outputs[0].as<float>();
    const float alpha = alpha_;
    if (rank_ == 0) {  // flat: both inputs are the full shape or a single value
      const bool a_vec = a_strides_[0] != 0, b_vec = b_strides_[0] != 0;
      pool.parallel_for(total_, kElementGrain, [&](int64_t begin, int64_t end) {
        fn_(a_vec ? a + begin : a, b_vec ? b + begin : b, out + begin, end - begin, alpha);
      });
      return Status::ok();
    }
    const int64_t rows = total_ / inner_;
    pool.parallel_for(rows, std::max<int64_t>(1, kElementGrain / inner_), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        int64_t rem = r, ao = 0, bo = 0;
        for (int d = rank_ - 1; d >= 0; --d) {  // dims_ are the outer dims, innermost last
          const int64_t idx = rem % dims_[d];
          rem /= dims_[d];
          ao += idx * a_strides_[d];
          bo += idx * b_strides_[d];
        }
        fn_(a + ao, b + bo, out + r * inner_, inner_, alpha);
      }
    });
    return Status::ok();
  }

 private:
  SpanFn fn_;
  float alpha_;
  int64_t total_, inner_;
  int rank_;  // number of outer dims (0: flat)
  std::array<int64_t, kMaxRank> dims_, a_strides_, b_strides_;
};

// Element strides of `s` broadcast to `out` (numpy: right-aligned, size-1 dims stride 0).
std::array<int64_t, Shape::kMaxRank> broadcast_strides(const Shape& s, const Shape& out) {
  std::array<int64_t, Shape::kMaxRank> strides{};
  int64_t stride = 1;
  for (int d = out.rank() - 1, sd = s.rank() - 1; d >= 0; --d, --sd) {
    const int64_t dim = sd >= 0 ? s[sd] : 1;
    strides[static_cast<size_t>(d)] = dim == 1 ? 0 : stride;
    stride *= dim;
  }
  return strides;
}

bool binop_of(OpType type, BinOp* op) {
  switch (type) {
    case OpType::kAdd: *op = BinOp::kAdd; return true;
    case OpType::kSub: *op = BinOp::kSub; return true;
    case OpType::kMul: *op = BinOp::kMul; return true;
    case OpType::kDiv: *op = BinOp::kDiv; return true;
    case OpType::kMaximum: *op = BinOp::kMax; return true;
    case OpType::kMinimum: *op = BinOp::kMin; return true;
    case OpType::kSquaredDifference: *op = BinOp::kSqDiff; return true;
    default: return false;
  }
}

// ---- Unary ---------------------------------------------------------------------------------------

template <Activation A> void unary_span(const float* x, float* out, int64_t n, float alpha_value) {
  const V alpha = I::set1(alpha_value);
  int64_t i = 0;
  for (; i + L <= n; i += L) I::store(out + i, activate<I, A>(I::load(x + i), alpha));
  if (i < n) {
    const int r = static_cast<int>(n - i);
    I::store_partial(out + i, activate<I, A>(I::load_partial(x + i, r), alpha), r);
  }
}

using UnaryFn = void (*)(const float*, float*, int64_t, float);

class UnaryKernel final : public CpuKernel {
 public:
  UnaryKernel(UnaryFn fn, float alpha, int64_t n) : fn_(fn), alpha_(alpha), n_(n) {}
  Status run(std::span<const TensorView> inputs, std::span<const TensorView> outputs, void*,
             ThreadPool& pool) override {
    const float* x = inputs[0].as<const float>();
    float* out = outputs[0].as<float>();
    const float alpha = alpha_;
    pool.parallel_for(n_, kElementGrain, [&](int64_t b, int64_t e) { fn_(x + b, out + b, e - b, alpha); });
    return Status::ok();
  }

 private:
  UnaryFn fn_;
  float alpha_;
  int64_t n_;
};

// ---- PReLU ---------------------------------------------------------------------------------------

class PreluKernel final : public CpuKernel {
 public:
  enum class Mode { kPerChannel, kFull };
  PreluKernel(Mode mode, int64_t n, int64_t channels) : mode_(mode), n_(n), channels_(channels) {}
  Status run(std::span<const TensorView> inputs, std::span<const TensorView> outputs, void*,
             ThreadPool& pool) override {
    const float* x = inputs[0].as<const float>();
    const float* alpha = inputs[1].as<const float>();
    float* out = outputs[0].as<float>();
    if (mode_ == Mode::kFull) {
      pool.parallel_for(n_, kElementGrain, [&](int64_t b, int64_t e) { prelu_span(x + b, alpha + b, out + b, e - b); });
      return Status::ok();
    }
    const int64_t C = channels_;
    pool.parallel_for(n_ / C, std::max<int64_t>(1, kElementGrain / C), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) prelu_span(x + r * C, alpha, out + r * C, C);
    });
    return Status::ok();
  }

 private:
  static void prelu_span(const float* x, const float* alpha, float* out, int64_t n) {
    int64_t i = 0;
    for (; i + L <= n; i += L) {
      const V v = I::load(x + i);
      I::store(out + i, I::select_neg(v, I::mul(v, I::load(alpha + i)), v));
    }
    if (i < n) {
      const int r = static_cast<int>(n - i);
      const V v = I::load_partial(x + i, r);
      I::store_partial(out + i, I::select_neg(v, I::mul(v, I::load_partial(alpha + i, r)), v), r);
    }
  }
  Mode mode_;
  int64_t n_, channels_;
};

bool all_f32(std::span<const TensorView> inputs, std::span<const TensorDesc> outputs) {
  for (const auto& t : inputs)
    if (!is_f32(t)) return false;
  for (const auto& t : outputs)
    if (!is_f32(t)) return false;
  return true;
}

}  // namespace

std::unique_ptr<CpuKernel> make_binary_kernel(const Op& op, std::span<const TensorView> inputs,
                                              std::span<const TensorDesc> outputs) {
  BinOp bop;
  if (!binop_of(op.type, &bop) || inputs.size() != 2 || outputs.size() != 1) return nullptr;
  if (!all_f32(inputs, outputs)) return nullptr;
  Activation act = Activation::kNone;
  float alpha = 0.f;
  if (const auto* attrs = std::get_if<BinaryAttrs>(&op.attrs)) {
    act = attrs->activation;
    alpha = attrs->activation_alpha;
  }
  const Shape& out = outputs[0].shape;
  const Shape& as = inputs[0].shape;
  const Shape& bs = inputs[1].shape;
  const int64_t total = out.num_elements();
  if (total == 0 || as.rank() > out.rank() || bs.rank() > out.rank()) return nullptr;
  const int64_t an = as.num_elements(), bn = bs.num_elements();
  std::array<int64_t, Shape::kMaxRank> none{};
  if ((an == total || an == 1) && (bn == total || bn == 1)) {
    std::array<int64_t, Shape::kMaxRank> a_flat{}, b_flat{};
    a_flat[0] = an == total && total > 1 ? 1 : 0;
    b_flat[0] = bn == total && total > 1 ? 1 : 0;
    return std::make_unique<BinaryKernel>(pick_span(bop, act, a_flat[0] != 0, b_flat[0] != 0), alpha, total, total, 0,
                                          none, a_flat, b_flat);
  }
  // General broadcast: the innermost output dim must be walked contiguously (stride 1) or
  // broadcast (stride 0) by each input.
  const auto a_str = broadcast_strides(as, out);
  const auto b_str = broadcast_strides(bs, out);
  const int r = out.rank();
  const int64_t inner = out[r - 1];
  const bool a_vec = a_str[static_cast<size_t>(r - 1)] != 0, b_vec = b_str[static_cast<size_t>(r - 1)] != 0;
  if (inner < 4) return nullptr;  // tiny rows: the reference is as good
  std::array<int64_t, Shape::kMaxRank> dims{};
  for (int d = 0; d < r - 1; ++d) dims[static_cast<size_t>(d)] = out[d];
  return std::make_unique<BinaryKernel>(pick_span(bop, act, a_vec, b_vec), alpha, total, inner, r - 1, dims, a_str,
                                        b_str);
}

std::unique_ptr<CpuKernel> make_unary_kernel(const Op& op, std::span<const TensorView> inputs,
                                             std::span<const TensorDesc> outputs) {
  if (inputs.size() != 1 || outputs.size() != 1 || !all_f32(inputs, outputs)) return nullptr;
  Activation act;
  float alpha = 0.f;
  switch (op.type) {
    case OpType::kRelu: act = Activation::kRelu; break;
    case OpType::kRelu6: act = Activation::kRelu6; break;
    case OpType::kLogistic: act = Activation::kSigmoid; break;
    case OpType::kTanh: act = Activation::kTanh; break;
    case OpType::kLeakyRelu:
      act = Activation::kLeakyRelu;
      alpha = op.as<LeakyReluAttrs>().alpha;
      break;
    default: return nullptr;
  }
  const int64_t n = outputs[0].shape.num_elements();
  if (n == 0 || inputs[0].num_elements() != n) return nullptr;
  UnaryFn fn = dispatch_activation(act, [](auto a) -> UnaryFn { return &unary_span<decltype(a)::value>; });
  return std::make_unique<UnaryKernel>(fn, alpha, n);
}

std::unique_ptr<CpuKernel> make_prelu_kernel(const Op& op, std::span<const TensorView> inputs,
                                             std::span<const TensorDesc> outputs) {
  if (op.type != OpType::kPRelu || inputs.size() != 2 || outputs.size() != 1 || !all_f32(inputs, outputs))
    return nullptr;
  const Shape& xs = inputs[0].shape;
  const int64_t n = xs.num_elements();
  if (n == 0 || outputs[0].shape.num_elements() != n || xs.rank() < 1) return nullptr;
  const Shape& as = inputs[1].shape;
  if (as == xs) return std::make_unique<PreluKernel>(PreluKernel::Mode::kFull, n, 1);
  const int64_t channels = xs[xs.rank() - 1];
  // Per channel: alpha's only non-1 dim is the last, equal to x's last dim, and rank <= x's.
  if (as.rank() <= xs.rank() && as.rank() >= 1 && as[as.rank() - 1] == channels && inputs[1].num_elements() == channels)
    return std::make_unique<PreluKernel>(PreluKernel::Mode::kPerChannel, n, channels);
  return nullptr;  // scalar or other broadcasts: reference
}

}  // namespace facepipe::engine::cpu::opt
