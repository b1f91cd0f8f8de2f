// Optimized DepthwiseConv2D (and Conv2D with groups == channels) against the reference: fast 3x3
// and 5x5 paths, the generic path (other kernels, dilation, multiplier > 1), odd channel counts,
// every activation and padding mode, batch 2, width/height 1; plus the fused epilogue.
#include <gtest/gtest.h>

#include <random>

#include "engine/cpu/optimized/conv.h"
#include "engine/optimized_kernel_harness.h"
#include "support/test_support.h"

namespace facepipe::test {
namespace {

using engine::Activation;
using engine::DType;
using engine::OpType;
using engine::PaddingMode;
using engine::Shape;

KernelFactory default_factory() {
  return [](const engine::Op& op, std::span<const engine::TensorView> in, std::span<const engine::TensorDesc> out) {
    return engine::cpu::make_optimized_kernel(op, in, out);
  };
}

struct DwSpec {
  Shape x;
  int multiplier, kh, kw, stride;
  PaddingMode mode;
  engine::Padding pads;
  Activation act;
  bool bias;
  int dilation = 1;
};

OpCase dw_case(const DwSpec& s, uint32_t seed, bool as_grouped_conv = false) {
  engine::ConvAttrs a;
  a.stride_h = a.stride_w = s.stride;
  a.dilation_h = a.dilation_w = s.dilation;
  a.padding = s.pads;
  a.padding.mode = s.mode;
  a.activation = s.act;
  a.activation_alpha = 0.2f;
  const int64_t out_c = s.x[3] * s.multiplier;
  const std::string label = std::string(as_grouped_conv ? "grouped conv" : "dw") + " x" + s.x.to_string() + " m" +
                            std::to_string(s.multiplier) + " k" + std::to_string(s.kh) + "x" + std::to_string(s.kw) +
                            " s" + std::to_string(s.stride) + " d" + std::to_string(s.dilation) + " pad" +
                            std::to_string(static_cast<int>(s.mode)) + " act" + std::to_string(static_cast<int>(s.act));
  if (as_grouped_conv) {
    a.groups = static_cast<int32_t>(s.x[3]);
    OpCase c(label, make_op(OpType::kConv2D, a), seed);
    c.random_input(DType::kF32, s.x).random_input(DType::kF32, {out_c, s.kh, s.kw, 1}).constant();
    if (s.bias) c.random_input(DType::kF32, {out_c}).constant();
    else c.absent_input();
    return c;
  }
  a.depth_multiplier = s.multiplier;
  OpCase c(label, make_op(OpType::kDepthwiseConv2D, a), seed);
  c.random_input(DType::kF32, s.x).random_input(DType::kF32, {1, s.kh, s.kw, out_c}).constant();
  if (s.bias) c.random_input(DType::kF32, {out_c}).constant();
  else c.absent_input();
  return c;
}

TEST(OptimizedDepthwise, OddShapesAllActivationsAllPaddings) {
  const int channels[] = {1, 3, 8, 13, 16, 24, 17, 64};
  const Activation acts[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1,
                             Activation::kTanh, Activation::kSigmoid, Activation::kLeakyRelu};
  std::mt19937 rng(3);
  int n = 0;
  for (int c : channels) {
    for (int k : {3, 5, 2}) {
      for (int stride : {1, 2}) {
        const PaddingMode mode = std::array{PaddingMode::kSame, PaddingMode::kValid, PaddingMode::kExplicit}[n % 3];
        const engine::Padding pads{PaddingMode::kExplicit, static_cast<int32_t>(rng() % 3), static_cast<int32_t>(rng() % 3),
                                   static_cast<int32_t>(rng() % 2), static_cast<int32_t>(rng() % 3)};
        const Shape x{1 + n % 2, k + static_cast<int>(rng() % 9), k + static_cast<int>(rng() % 9), c};
        const DwSpec s{x, 1, k, k, stride, mode, pads, acts[n % 7], n % 5 != 4};
        ++n;
        EXPECT_TRUE(optimized_matches_reference(dw_case(s, static_cast<uint32_t>(n)), default_factory()));
      }
    }
  }
}

TEST(OptimizedDepthwise, GenericPaths) {
  const DwSpec specs[] = {
      {{1, 9, 8, 3}, 2, 3, 3, 2, PaddingMode::kSame, {}, Activation::kNone, true},            // multiplier 2
      {{2, 7, 7, 5}, 3, 3, 3, 1, PaddingMode::kValid, {}, Activation::kRelu, true},           // multiplier 3
      {{1, 11, 9, 13}, 1, 3, 3, 1, PaddingMode::kSame, {}, Activation::kRelu6, true, 2},      // dilation 2
      {{1, 10, 9, 16}, 1, 3, 5, 2, PaddingMode::kSame, {}, Activation::kNone, true},          // non-square
      {{1, 12, 12, 8}, 1, 7, 7, 1, PaddingMode::kSame, {}, Activation::kLeakyRelu, true},     // 7x7
      {{2, 9, 1, 13}, 1, 3, 3, 1, PaddingMode::kSame, {}, Activation::kNone, true},           // width 1
      {{1, 1, 9, 24}, 1, 3, 3, 2, PaddingMode::kSame, {}, Activation::kNone, true},           // height 1
      {{1, 1, 1, 17}, 1, 5, 5, 1, PaddingMode::kSame, {}, Activation::kNone, true},           // 1x1 image
      {{1, 2, 2, 8}, 1, 3, 3, 1, PaddingMode::kExplicit, {PaddingMode::kExplicit, 2, 2, 2, 2}, Activation::kNone, true},
  };
  uint32_t seed = 50;
  for (const DwSpec& s : specs) EXPECT_TRUE(optimized_matches_reference(dw_case(s, ++seed), default_factory()));
}

TEST(OptimizedDepthwise, GroupedConvRunsAsDepthwise) {
  const DwSpec specs[] = {
      {{1, 10, 9, 8}, 1, 3, 3, 1, PaddingMode::kExplicit, {PaddingMode::kExplicit, 1, 1, 1, 1}, Activation::kLeakyRelu, true},
      {{1, 11, 10, 16}, 1, 3, 3, 2, PaddingMode::kExplicit, {PaddingMode::kExplicit, 1, 1, 1, 1}, Activation::kNone, false},
      {{2, 6, 7, 3}, 2, 3, 3, 1, PaddingMode::kSame, {}, Activation::kRelu, true},
  };
  uint32_t seed = 80;
  for (const DwSpec& s : specs) EXPECT_TRUE(optimized_matches_reference(dw_case(s, ++seed, true), default_factory()));
}

TEST(OptimizedDepthwise, FusedResidualAndPrelu) {
  for (int c : {3, 8, 13, 32}) {
    const DwSpec s{{2, 9, 7, c}, 1, 3, 3, 1, PaddingMode::kSame, {}, Activation::kNone, true};
    OpCase oc = dw_case(s, static_cast<uint32_t>(c));
    const std::vector<float> conv = reference_f32(oc);
    ASSERT_FALSE(conv.empty());
    std::mt19937 rng(c);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> residual(conv.size()), slopes(static_cast<size_t>(c)), expected(conv.size());
    for (auto& v : residual) v = u(rng);
    for (auto& v : slopes) v = u(rng);
    for (size_t i = 0; i < conv.size(); ++i) {
      const float v = conv[i] + residual[i];
      expected[i] = v < 0 ? v * slopes[i % static_cast<size_t>(c)] : v;
    }
    engine::cpu::opt::ConvEpilogue e;
    e.prelu_alpha = slopes;
    e.residual = true;
    auto kernel = plan_kernel(oc, [&](const engine::Op& op, std::span<const engine::TensorView> in,
                                      std::span<const engine::TensorDesc> out) {
      return engine::cpu::opt::make_depthwise_conv2d_kernel(op.as<engine::ConvAttrs>(), in[1], &in[2], in[0].desc(),
                                                            out[0], e);
    });
    ASSERT_TRUE(kernel);
    const auto descs = oc.output_descs();
    GuardedBuffer out(DType::kF32, descs[0].shape);
    std::vector<engine::TensorView> inputs = oc.inputs();
    inputs.push_back({DType::kF32, descs[0].shape, residual.data()});
    const engine::TensorView outputs[1] = {out.view()};
    ThreadPool pool(2);
    ASSERT_TRUE(kernel->run(inputs, outputs, nullptr, pool).is_ok());
    EXPECT_TRUE(out.guards_intact());
    EXPECT_LE(compare(out.view().as<const float>(), expected.data(), expected.size()).normalized(), 1e-5) << c;
  }
}

}  // namespace
}  // namespace facepipe::test
