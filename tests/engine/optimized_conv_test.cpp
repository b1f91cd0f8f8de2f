// Optimized Conv2D (packed GEMM) against the reference: odd channel counts, every activation,
// SAME/VALID/explicit padding, strides, batch 2, width/height 1, both ISAs; plus the fused
// epilogue (PReLU, residual).
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
using engine::cpu::opt::Isa;

KernelFactory conv_factory(Isa isa, engine::cpu::opt::ConvEpilogue extra = {}) {
  return [isa, extra](const engine::Op& op, std::span<const engine::TensorView> in,
                      std::span<const engine::TensorDesc> out) {
    const auto& attrs = op.as<engine::ConvAttrs>();
    engine::cpu::opt::ConvEpilogue e = extra;
    e.activation = attrs.activation;
    e.activation_alpha = attrs.activation_alpha;
    const engine::TensorView* bias = in.size() > 2 && op.inputs[2] >= 0 ? &in[2] : nullptr;
    return engine::cpu::opt::make_conv2d_kernel(attrs, in[1], bias, in[0].desc(), out[0], e, isa);
  };
}

std::vector<Isa> isas() {
  std::vector<Isa> v{Isa::kAvx2};
  if (engine::cpu::opt::isa_supported(Isa::kAvx512)) v.push_back(Isa::kAvx512);
  return v;
}

struct ConvSpec {
  Shape x;
  int out_c, kh, kw, stride_h, stride_w;
  PaddingMode mode;
  engine::Padding pads;
  Activation act;
  bool bias;
  int dilation = 1;
};

OpCase conv_case(const ConvSpec& s, uint32_t seed) {
  engine::ConvAttrs a;
  a.stride_h = s.stride_h;
  a.stride_w = s.stride_w;
  a.dilation_h = a.dilation_w = s.dilation;
  a.padding = s.pads;
  a.padding.mode = s.mode;
  a.activation = s.act;
  a.activation_alpha = 0.15f;
  const std::string label = "conv x" + s.x.to_string() + " o" + std::to_string(s.out_c) + " k" + std::to_string(s.kh) +
                            "x" + std::to_string(s.kw) + " s" + std::to_string(s.stride_h) + "/" +
                            std::to_string(s.stride_w) + " d" + std::to_string(s.dilation) + " pad" +
                            std::to_string(static_cast<int>(s.mode)) + " act" + std::to_string(static_cast<int>(s.act));
  OpCase c(label, make_op(OpType::kConv2D, a), seed);
  c.random_input(DType::kF32, s.x).random_input(DType::kF32, {s.out_c, s.kh, s.kw, s.x[3]}).constant();
  if (s.bias) c.random_input(DType::kF32, {s.out_c}).constant();
  else c.absent_input();
  return c;
}

TEST(OptimizedConv, OddShapesAllActivationsAllPaddings) {
  const int in_channels[] = {1, 3, 13, 16, 24, 17};
  const int out_channels[] = {1, 3, 8, 13, 16, 17, 24, 32, 40, 64, 70};
  const Activation acts[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1,
                             Activation::kTanh, Activation::kSigmoid, Activation::kLeakyRelu};
  std::mt19937 rng(42);
  int n = 0;
  for (Isa isa : isas()) {
    for (int ci : in_channels) {
      for (int co : out_channels) {
        const int k = std::array{1, 3, 5}[rng() % 3];
        const int stride = 1 + static_cast<int>(rng() % 2);
        const PaddingMode mode = std::array{PaddingMode::kSame, PaddingMode::kValid, PaddingMode::kExplicit}[rng() % 3];
        const engine::Padding pads{PaddingMode::kExplicit, static_cast<int32_t>(rng() % 3), static_cast<int32_t>(rng() % 2),
                                   static_cast<int32_t>(rng() % 2), static_cast<int32_t>(rng() % 3)};
        const int batch = 1 + static_cast<int>(rng() % 2);
        const Shape x{batch, k + static_cast<int>(rng() % 7), k + static_cast<int>(rng() % 8), ci};
        const ConvSpec s{x, co, k, k, stride, stride, mode, pads, acts[n % 7], (n % 4) != 3};
        ++n;
        EXPECT_TRUE(optimized_matches_reference(conv_case(s, static_cast<uint32_t>(n)), conv_factory(isa)))
            << engine::cpu::opt::isa_name(isa);
      }
    }
  }
}

TEST(OptimizedConv, EdgeGeometries) {
  const ConvSpec specs[] = {
      // width 1, height 1, 1x1 images, stride 2 with odd sizes, non-square kernels and strides.
      {{2, 9, 1, 13}, 17, 3, 3, 1, 1, PaddingMode::kSame, {}, Activation::kRelu, true},
      {{1, 1, 11, 3}, 8, 3, 3, 2, 2, PaddingMode::kSame, {}, Activation::kNone, true},
      {{1, 1, 1, 24}, 16, 3, 3, 2, 2, PaddingMode::kSame, {}, Activation::kLeakyRelu, true},
      {{1, 1, 1, 5}, 3, 1, 1, 1, 1, PaddingMode::kValid, {}, Activation::kNone, false},
      {{1, 15, 13, 3}, 8, 3, 3, 2, 2, PaddingMode::kExplicit, {PaddingMode::kExplicit, 1, 1, 1, 1}, Activation::kLeakyRelu, true},
      {{1, 12, 10, 7}, 9, 3, 5, 2, 1, PaddingMode::kSame, {}, Activation::kRelu6, true},
      {{1, 9, 8, 6}, 11, 3, 3, 1, 1, PaddingMode::kValid, {}, Activation::kNone, true, 2},  // dilation: kTaps
      {{1, 10, 10, 64}, 64, 3, 3, 1, 1, PaddingMode::kSame, {}, Activation::kRelu, true},  // SSH-like
      {{1, 6, 7, 128}, 64, 3, 3, 1, 1, PaddingMode::kSame, {}, Activation::kNone, true},   // wide K: kTaps
      {{1, 7, 7, 40}, 33, 1, 1, 2, 2, PaddingMode::kValid, {}, Activation::kNone, true},   // strided 1x1
      {{2, 6, 5, 17}, 200, 1, 1, 1, 1, PaddingMode::kValid, {}, Activation::kSigmoid, true},
  };
  uint32_t seed = 100;
  for (Isa isa : isas())
    for (const ConvSpec& s : specs)
      EXPECT_TRUE(optimized_matches_reference(conv_case(s, ++seed), conv_factory(isa))) << engine::cpu::opt::isa_name(isa);
}

TEST(OptimizedConv, LargeLayerBothIsasTwoThreads) {
  const ConvSpec s{{1, 40, 37, 64}, 64, 3, 3, 1, 1, PaddingMode::kSame, {}, Activation::kLeakyRelu, true};
  for (Isa isa : isas()) EXPECT_TRUE(optimized_matches_reference(conv_case(s, 7), conv_factory(isa)));
}

// y = prelu(conv(x) + bias + residual): checked against the reference conv (no activation)
// followed by the formula.
TEST(OptimizedConv, FusedResidualAndPrelu) {
  for (Isa isa : isas()) {
    for (int co : {5, 16, 24, 40, 64}) {
      const ConvSpec s{{2, 7, 6, 13}, co, 3, 3, 1, 1, PaddingMode::kSame, {}, Activation::kNone, true};
      OpCase c = conv_case(s, static_cast<uint32_t>(co));
      const std::vector<float> conv = reference_f32(c);
      ASSERT_FALSE(conv.empty());
      std::mt19937 rng(co);
      std::uniform_real_distribution<float> u(-1.f, 1.f);
      std::vector<float> residual(conv.size()), slopes(static_cast<size_t>(co));
      for (auto& v : residual) v = u(rng);
      for (auto& v : slopes) v = u(rng);
      std::vector<float> expected(conv.size());
      for (size_t i = 0; i < conv.size(); ++i) {
        const float v = conv[i] + residual[i];
        expected[i] = v < 0 ? v * slopes[i % static_cast<size_t>(co)] : v;
      }
      engine::cpu::opt::ConvEpilogue e;
      e.prelu_alpha = slopes;
      e.residual = true;
      auto kernel = plan_kernel(c, conv_factory(isa, e));
      ASSERT_TRUE(kernel);
      const auto descs = c.output_descs();
      GuardedBuffer out(DType::kF32, descs[0].shape);
      std::vector<engine::TensorView> inputs = c.inputs();
      inputs.push_back({DType::kF32, descs[0].shape, residual.data()});
      const engine::TensorView outputs[1] = {out.view()};
      ThreadPool pool(2);
      ASSERT_TRUE(kernel->run(inputs, outputs, nullptr, pool).is_ok());
      EXPECT_TRUE(out.guards_intact());
      const Deviation d = compare(out.view().as<const float>(), expected.data(), expected.size());
      EXPECT_LE(d.normalized(), 1e-5) << engine::cpu::opt::isa_name(isa) << " co " << co;
    }
  }
}

TEST(OptimizedConv, MissingResidualIsAnError) {
  const ConvSpec s{{1, 4, 4, 3}, 8, 1, 1, 1, 1, PaddingMode::kValid, {}, Activation::kNone, true};
  OpCase c = conv_case(s, 1);
  engine::cpu::opt::ConvEpilogue e;
  e.residual = true;
  auto kernel = plan_kernel(c, conv_factory(Isa::kAvx2, e));
  ASSERT_TRUE(kernel);
  GuardedBuffer out(DType::kF32, c.output_descs()[0].shape);
  const engine::TensorView outputs[1] = {out.view()};
  ThreadPool pool(1);
  EXPECT_FALSE(kernel->run(c.inputs(), outputs, nullptr, pool).is_ok());
}

}  // namespace
}  // namespace facepipe::test
