// Every op of the sweep table (op_test_util.h: odd shapes, the networks' configurations) on the
// CUDA backend against the CPU reference ops: f32 storage within 1e-5 normalized error, f16 storage
// within 1e-3 (inputs rounded to f16 first, so the bar measures the backend's own rounding), plus
// the CUDA planner's epilogue fusions on small graphs against the CPU reference plan.
#include <cmath>
#include <cstdio>
#include <random>

#include "engine/cpu/cpu_plan.h"
#include "gpu/cuda_test_util.h"
#include "support/test_support.h"

namespace facepipe::test {
namespace {

using engine::cuda::CudaPlan;
using engine::cuda::CudaPlanOptions;

// Normalized max error of output 0 of impl against the reference (NaN where finite: infinite).
double normalized_error(const OpCase& c, const OpImpl& impl) {
  const OpCase::Result ref = c.run_reference();
  const OpCase::Result got = c.run(impl);
  if (!ref.status || !got.status) return INFINITY;
  const std::vector<float> e = to_floats(ref.outputs.at(0)), a = to_floats(got.outputs.at(0));
  const Deviation d = compare(a.data(), e.data(), e.size());
  return d.normalized();
}

void sweep(bool fp16, double tolerance) {
  FACEPIPE_REQUIRE_CUDA();
  std::vector<OpCase> cases = sweep_cases();
  ASSERT_GT(cases.size(), 50u);
  double worst = 0;
  std::string worst_label;
  for (OpCase& c : cases) {
    if (fp16) round_inputs_to_f16(c);
    CudaPlanOptions options;
    options.fp16 = fp16;
    int scheduled = -1;
    const OpImpl impl = cuda_op_impl(c, options, &scheduled);
    EXPECT_TRUE(matches_reference(c, impl, tolerance)) << (fp16 ? "fp16" : "fp32");
    EXPECT_GE(scheduled, 1) << c.label() << ": nothing ran on the GPU";
    const double err = normalized_error(c, impl);
    std::printf("[cuda-op] %-4s %-52s %-18s normalized error %.3e\n", fp16 ? "fp16" : "fp32", c.label().c_str(),
                std::string(engine::op_type_name(c.op().type)).c_str(), err);
    if (err > worst) worst = err, worst_label = c.label();
  }
  std::printf("[cuda-op] %s: %zu cases, max normalized error %.3e (%s), bar %.0e\n", fp16 ? "fp16" : "fp32",
              cases.size(), worst, worst_label.c_str(), tolerance);
}

TEST(CudaOps, SweepMatchesReferenceF32) { sweep(false, 1e-5); }
TEST(CudaOps, SweepMatchesReferenceF16) { sweep(true, 1e-3); }

// Layers large enough for the default GEMM tiles (the sweep's small shapes all take the BM = 32
// tiles or the direct kernel): BN = 64 (tensor cores with f16), 32 and 16.
TEST(CudaOps, LargeConvolutionsUseTheDefaultTiles) {
  FACEPIPE_REQUIRE_CUDA();
  struct Big {
    const char* label;
    engine::Shape x;
    int out_c, k;
  };
  const Big table[] = {{"conv 3x3 32->64 2x96x96", {2, 96, 96, 32}, 64, 3},
                       {"conv 1x1 48->32 192x192", {1, 192, 192, 48}, 32, 1},
                       {"conv 1x1 40->16 272x272", {1, 272, 272, 40}, 16, 1}};
  for (const Big& t : table) {
    for (bool fp16 : {false, true}) {
      engine::ConvAttrs a;
      a.padding.mode = engine::PaddingMode::kSame;
      a.activation = engine::Activation::kRelu6;
      OpCase c(t.label, make_op(engine::OpType::kConv2D, a));
      c.random_input(engine::DType::kF32, t.x)
          .random_input(engine::DType::kF32, {t.out_c, t.k, t.k, t.x[3]})
          .constant()
          .random_input(engine::DType::kF32, {t.out_c})
          .constant();
      if (fp16) round_inputs_to_f16(c);
      CudaPlanOptions options;
      options.fp16 = fp16;
      EXPECT_TRUE(matches_reference(c, cuda_op_impl(c, options, nullptr), fp16 ? 1e-3 : 1e-5));
    }
  }
}

TEST(CudaOps, WithoutGraphAndOnACallerStream) {
  FACEPIPE_REQUIRE_CUDA();
  facepipe::cuda::Stream stream;
  for (OpCase& c : sweep_cases(engine::OpType::kConv2D)) {
    CudaPlanOptions options;
    options.use_graph = false;
    options.stream = stream.get();
    EXPECT_TRUE(matches_reference(c, cuda_op_impl(c, options, nullptr), 1e-5));
  }
}

// ---- Fused epilogues on small graphs -------------------------------------------------------------

struct GraphBuilder {
  std::shared_ptr<engine::Graph> g = std::make_shared<engine::Graph>();
  std::mt19937 rng{7};
  int32_t input(const engine::Shape& s) {
    engine::Tensor t;
    t.name = "x" + std::to_string(g->tensors.size());
    t.shape = s;
    t.shape_known = true;
    const int32_t id = g->add_tensor(std::move(t));
    g->inputs.push_back(id);
    return id;
  }
  int32_t constant(const engine::Shape& s, float lo = -1.f, float hi = 1.f) {
    AlignedBuffer b(static_cast<size_t>(s.num_elements()) * 4);
    std::uniform_real_distribution<float> u(lo, hi);
    for (int64_t i = 0; i < s.num_elements(); ++i) b.as<float>()[i] = u(rng);
    return g->add_constant("c" + std::to_string(g->tensors.size()), engine::DType::kF32, s, std::move(b));
  }
  int32_t op(engine::OpType type, std::vector<int32_t> inputs, engine::OpAttrs attrs = {}) {
    engine::Tensor t;
    t.name = "t" + std::to_string(g->tensors.size());
    const int32_t out = g->add_tensor(std::move(t));
    engine::Op o = make_op(type, std::move(attrs));
    o.inputs = std::move(inputs);
    o.outputs = {out};
    g->ops.push_back(std::move(o));
    return out;
  }
};

engine::ConvAttrs same_conv(engine::Activation act = engine::Activation::kNone) {
  engine::ConvAttrs a;
  a.padding.mode = engine::PaddingMode::kSame;
  a.activation = act;
  return a;
}

// Runs both plans on the same random inputs; returns the worst normalized error over the outputs.
double compare_with_cpu(const std::shared_ptr<const engine::Graph>& g, const CudaPlanOptions& options,
                        int* epilogue_fusions, int* layer_norm_fusions = nullptr) {
  engine::cpu::PlanOptions cpu_options;
  cpu_options.reference_only = true;
  auto cpu = engine::cpu::CpuPlan::create(g, {}, cpu_options);
  auto gpu = CudaPlan::create(g, {}, options);
  *epilogue_fusions = gpu->stats().epilogue_fusions;
  if (layer_norm_fusions) *layer_norm_fusions = gpu->stats().layer_norm_fusions;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int i = 0; i < cpu->num_inputs(); ++i) {
    float* p = cpu->input(i).as<float>();
    for (int64_t k = 0; k < cpu->input(i).num_elements(); ++k)
      p[k] = options.fp16 ? half_to_float(float_to_half(u(rng))) : u(rng);
    EXPECT_TRUE(gpu->copy_input_from_host(i, p, cpu->input(i).bytes()).is_ok());
  }
  EXPECT_TRUE(cpu->run().is_ok());
  EXPECT_TRUE(gpu->run().is_ok());
  double worst = 0;
  for (int i = 0; i < cpu->num_outputs(); ++i) {
    std::vector<float> got(static_cast<size_t>(cpu->output(i).num_elements()));
    EXPECT_TRUE(gpu->copy_output_to_host(i, got.data(), got.size() * 4).is_ok());
    worst = std::max(worst, compare(got.data(), cpu->output(i).as<float>(), got.size()).normalized());
  }
  return worst;
}

TEST(CudaOps, ConvEpilogueFusesPReluResidualAndPRelu) {
  FACEPIPE_REQUIRE_CUDA();
  GraphBuilder b;
  const int32_t x = b.input({2, 9, 7, 13});
  const int32_t r = b.op(engine::OpType::kConv2D, {x, b.constant({16, 1, 1, 13}), b.constant({16})}, same_conv());
  const int32_t y = b.op(engine::OpType::kConv2D, {x, b.constant({16, 3, 3, 13}), b.constant({16})}, same_conv());
  const int32_t p1 = b.op(engine::OpType::kPRelu, {y, b.constant({1, 1, 16}, 0.f, 0.5f)});
  const int32_t s = b.op(engine::OpType::kAdd, {r, p1});
  const int32_t p2 = b.op(engine::OpType::kPRelu, {s, b.constant({16}, 0.f, 0.5f)});
  b.g->outputs = {p2};
  for (bool fp16 : {false, true}) {
    CudaPlanOptions options;
    options.fp16 = fp16;
    int fusions = 0;
    const double err = compare_with_cpu(b.g, options, &fusions);
    std::printf("[cuda-op] %s conv+prelu+residual+prelu: %d epilogue fusions, normalized error %.3e\n",
                fp16 ? "fp16" : "fp32", fusions, err);
    EXPECT_EQ(fusions, 3);
    EXPECT_LE(err, fp16 ? 1e-3 : 1e-5);
  }
}

TEST(CudaOps, DepthwiseEpilogueFusesResidualWithActivation) {
  FACEPIPE_REQUIRE_CUDA();
  GraphBuilder b;
  const int32_t x = b.input({1, 8, 9, 16});
  engine::ConvAttrs a = same_conv();
  const int32_t y = b.op(engine::OpType::kDepthwiseConv2D, {x, b.constant({1, 3, 3, 16}), b.constant({16})}, a);
  const int32_t s = b.op(engine::OpType::kAdd, {y, x});
  const int32_t out = b.op(engine::OpType::kRelu, {s});
  b.g->outputs = {out};
  for (bool fp16 : {false, true}) {
    CudaPlanOptions options;
    options.fp16 = fp16;
    int fusions = 0;
    const double err = compare_with_cpu(b.g, options, &fusions);
    std::printf("[cuda-op] %s depthwise+residual+relu: %d epilogue fusions, normalized error %.3e\n",
                fp16 ? "fp16" : "fp32", fusions, err);
    EXPECT_EQ(fusions, 1);
    EXPECT_LE(err, fp16 ? 1e-3 : 1e-5);
  }
}

// conv/depthwise output y -> PRelu -> Add(residual) -> Relu -> PRelu: three epilogue fusions (the
// Relu folds into the Add first).
int32_t full_epilogue(GraphBuilder& b, int32_t y, int32_t residual, int64_t channels) {
  const int32_t p1 = b.op(engine::OpType::kPRelu, {y, b.constant({1, 1, channels}, 0.f, 0.5f)});
  const int32_t s = b.op(engine::OpType::kAdd, {residual, p1});
  const int32_t a = b.op(engine::OpType::kRelu, {s});
  return b.op(engine::OpType::kPRelu, {a, b.constant({channels}, 0.f, 0.5f)});
}

void expect_full_epilogue(const std::shared_ptr<engine::Graph>& g, const char* label) {
  for (bool fp16 : {false, true}) {
    CudaPlanOptions options;
    options.fp16 = fp16;
    int fusions = 0;
    const double err = compare_with_cpu(g, options, &fusions);
    std::printf("[cuda-op] %s %s: %d epilogue fusions, normalized error %.3e\n", fp16 ? "fp16" : "fp32", label,
                fusions, err);
    EXPECT_EQ(fusions, 3) << label;
    EXPECT_LE(err, fp16 ? 1e-3 : 1e-5) << label;
  }
}

// The 16-byte kernels (conv_direct.cu, depthwise_vec.cu) with every epilogue stage, the residual
// read as vectors, on pixel counts that are no multiple of a block.
TEST(CudaOps, VectorKernelsFuseTheWholeEpilogue) {
  FACEPIPE_REQUIRE_CUDA();
  struct Pointwise {
    int64_t c, oc;
  };
  for (const Pointwise t : {Pointwise{8, 16}, Pointwise{16, 32}, Pointwise{32, 32}, Pointwise{16, 8}}) {
    GraphBuilder b;
    const int32_t x = b.input({2, 37, 53, t.c});
    const int32_t r = b.input({2, 37, 53, t.oc});
    const int32_t y = b.op(engine::OpType::kConv2D, {x, b.constant({t.oc, 1, 1, t.c}), b.constant({t.oc})}, same_conv());
    b.g->outputs = {full_epilogue(b, y, r, t.oc)};
    const std::string label = "conv 1x1 " + std::to_string(t.c) + "->" + std::to_string(t.oc) + "+epilogue";
    expect_full_epilogue(b.g, label.c_str());
  }
  {
    GraphBuilder b;  // stem: scalar taps, vector stores and residual
    const int32_t x = b.input({2, 37, 53, 3});
    const int32_t r = b.input({2, 19, 27, 16});
    engine::ConvAttrs a = same_conv(engine::Activation::kLeakyRelu);
    a.stride_h = a.stride_w = 2;
    a.activation_alpha = 0.1f;
    const int32_t y = b.op(engine::OpType::kConv2D, {x, b.constant({16, 3, 3, 3}), b.constant({16})}, a);
    b.g->outputs = {full_epilogue(b, y, r, 16)};
    expect_full_epilogue(b.g, "conv 3x3 s2 3->16+epilogue");
  }
  {
    // The vector depthwise kernel only takes layers with four waves of its blocks on the GPU
    // (2.2M outputs on the H200), hence the sizes of these two.
    GraphBuilder b;  // depthwise stride 1, residual = the input
    const int32_t x = b.input({2, 160, 257, 32});
    const int32_t y = b.op(engine::OpType::kDepthwiseConv2D, {x, b.constant({1, 3, 3, 32}), b.constant({32})}, same_conv());
    b.g->outputs = {full_epilogue(b, y, x, 32)};
    expect_full_epilogue(b.g, "dw 3x3 s1 c32+epilogue");
  }
  {
    GraphBuilder b;  // depthwise stride 2, 5x5
    const int32_t x = b.input({2, 600, 540, 16});
    const int32_t r = b.input({2, 300, 270, 16});
    engine::ConvAttrs a = same_conv(engine::Activation::kRelu6);
    a.stride_h = a.stride_w = 2;
    const int32_t y = b.op(engine::OpType::kDepthwiseConv2D, {x, b.constant({1, 5, 5, 16}), b.constant({16})}, a);
    b.g->outputs = {full_epilogue(b, y, r, 16)};
    expect_full_epilogue(b.g, "dw 5x5 s2 c16+epilogue");
  }
}

// Channel counts that are not whole vectors (BlazeFace's 24/28) take the scalar direct kernel: a
// thread per pixel with every channel on large layers, channel groups of 8 on small ones.
TEST(CudaOps, ScalarDirectKernelOnLargeAndSmallLayers) {
  FACEPIPE_REQUIRE_CUDA();
  for (const engine::Shape& shape : {engine::Shape{1, 300, 300, 24}, engine::Shape{1, 64, 64, 24}}) {
    GraphBuilder b;
    const int32_t x = b.input(shape);
    const int32_t r = b.input({shape[0], shape[1], shape[2], 28});
    const int32_t y = b.op(engine::OpType::kConv2D, {x, b.constant({28, 1, 1, 24}), b.constant({28})}, same_conv());
    b.g->outputs = {full_epilogue(b, y, r, 28)};
    const std::string label = "conv 1x1 24->28 on " + shape.to_string() + "+epilogue";
    expect_full_epilogue(b.g, label.c_str());
  }
}

TEST(CudaOps, ResidualComputedAfterTheConvIsNotFused) {
  FACEPIPE_REQUIRE_CUDA();
  GraphBuilder b;
  const int32_t x = b.input({1, 5, 5, 8});
  const int32_t y = b.op(engine::OpType::kConv2D, {x, b.constant({8, 1, 1, 8}), -1}, same_conv());
  const int32_t later = b.op(engine::OpType::kTanh, {x});  // scheduled after the conv
  const int32_t s = b.op(engine::OpType::kAdd, {y, later});
  b.g->outputs = {s};
  int fusions = -1;
  const double err = compare_with_cpu(b.g, CudaPlanOptions{}, &fusions);
  EXPECT_EQ(fusions, 0);
  EXPECT_LE(err, 1e-5);
}

// TFLite's ten-op layer norm (the blendshape MLP's) becomes one LayerNorm kernel; a chain whose
// intermediate is also read elsewhere stays as it is.
int32_t decomposed_layer_norm(GraphBuilder& b, int32_t x, int64_t channels) {
  using engine::OpType;
  const engine::ReduceAttrs last{{-1}, true};
  const int32_t m = b.op(OpType::kMean, {x}, last);
  const int32_t n = b.op(OpType::kNeg, {m});
  const int32_t d = b.op(OpType::kSquaredDifference, {x, m});
  const int32_t v = b.op(OpType::kMean, {d}, last);
  const int32_t eps = b.g->add_constant("eps", engine::DType::kF32, engine::Shape{}, [] {
    AlignedBuffer e(4);
    e.as<float>()[0] = 1e-6f;
    return e;
  }());
  const int32_t ve = b.op(OpType::kAdd, {v, eps});
  const int32_t r = b.op(OpType::kRsqrt, {ve});
  const int32_t g = b.op(OpType::kMul, {r, b.constant({channels}, 0.5f, 1.5f)});
  const int32_t a = b.op(OpType::kMul, {x, g});
  const int32_t c = b.op(OpType::kMul, {n, g});
  return b.op(OpType::kAdd, {a, c});
}

TEST(CudaOps, LayerNormChainFusesIntoOneOp) {
  FACEPIPE_REQUIRE_CUDA();
  for (const engine::Shape& shape : {engine::Shape{1, 1, 97, 64}, engine::Shape{2, 5, 70}}) {
    GraphBuilder b;
    const int32_t x = b.input(shape);
    const int32_t y = decomposed_layer_norm(b, x, shape[shape.rank() - 1]);
    b.g->outputs = {b.op(engine::OpType::kAdd, {y, x})};
    int epilogue = 0, layer_norm = 0;
    const double err = compare_with_cpu(b.g, CudaPlanOptions{}, &epilogue, &layer_norm);
    std::printf("[cuda-op] layer norm chain %s: %d ops fused away, normalized error %.3e\n", shape.to_string().c_str(),
                layer_norm, err);
    EXPECT_EQ(layer_norm, 9);
    EXPECT_LE(err, 1e-5);
  }
  GraphBuilder b;  // the variance is also a graph output: nothing may be fused
  const int32_t x = b.input({1, 4, 32});
  const int32_t y = decomposed_layer_norm(b, x, 32);
  b.g->outputs = {y, b.g->ops[3].outputs[0]};
  int epilogue = 0, layer_norm = -1;
  EXPECT_LE(compare_with_cpu(b.g, CudaPlanOptions{}, &epilogue, &layer_norm), 1e-5);
  EXPECT_EQ(layer_norm, 0);
}

}  // namespace
}  // namespace facepipe::test
