// Micro-benchmarks of the optimized convolution kernels on the real layer shapes of RetinaFace
// MobileNet-0.25 at 640x640 and of MediaPipe's 256x256 face landmark network (NHWC, batch 1).
// Reported: GFLOP/s (2 flops per multiply-add) and, for depthwise layers (memory bound), GB/s of
// input + output + weight traffic. `/threads:N` in the name is the ThreadPool size.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/thread_pool.h"
#include "engine/cpu/optimized/conv.h"

namespace facepipe::engine::cpu {
namespace {

struct Layer {
  const char* name;
  int h, w, c, o, k, s;
  bool depthwise;
};

// clang-format off
const Layer kLayers[] = {
  // RetinaFace mnet0.25 backbone @640x640.
  {"rf_conv1_3x3s2_3to8@640", 640, 640, 3, 8, 3, 2, false},
  {"rf_dw3x3s1_c8@320", 320, 320, 8, 8, 3, 1, true},
  {"rf_pw_8to16@320", 320, 320, 8, 16, 1, 1, false},
  {"rf_dw3x3s2_c16@320", 320, 320, 16, 16, 3, 2, true},
  {"rf_pw_16to32@160", 160, 160, 16, 32, 1, 1, false},
  {"rf_dw3x3s1_c32@160", 160, 160, 32, 32, 3, 1, true},
  {"rf_pw_32to32@160", 160, 160, 32, 32, 1, 1, false},
  {"rf_dw3x3s2_c32@160", 160, 160, 32, 32, 3, 2, true},
  {"rf_pw_32to64@80", 80, 80, 32, 64, 1, 1, false},
  {"rf_dw3x3s1_c64@80", 80, 80, 64, 64, 3, 1, true},
  {"rf_pw_64to64@80", 80, 80, 64, 64, 1, 1, false},
  {"rf_dw3x3s2_c64@80", 80, 80, 64, 64, 3, 2, true},
  {"rf_pw_64to128@40", 40, 40, 64, 128, 1, 1, false},
  {"rf_dw3x3s1_c128@40", 40, 40, 128, 128, 3, 1, true},
  {"rf_pw_128to128@40", 40, 40, 128, 128, 1, 1, false},
  {"rf_dw3x3s2_c128@40", 40, 40, 128, 128, 3, 2, true},
  {"rf_pw_128to256@20", 20, 20, 128, 256, 1, 1, false},
  {"rf_dw3x3s1_c256@20", 20, 20, 256, 256, 3, 1, true},
  {"rf_pw_256to256@20", 20, 20, 256, 256, 1, 1, false},
  // FPN + SSH + heads.
  {"rf_fpn_pw_128to64@40", 40, 40, 128, 64, 1, 1, false},
  {"rf_fpn_pw_256to64@20", 20, 20, 256, 64, 1, 1, false},
  {"rf_merge_3x3_64to64@80", 80, 80, 64, 64, 3, 1, false},
  {"rf_merge_3x3_64to64@40", 40, 40, 64, 64, 3, 1, false},
  {"rf_ssh_3x3_64to32@80", 80, 80, 64, 32, 3, 1, false},
  {"rf_ssh_3x3_64to16@80", 80, 80, 64, 16, 3, 1, false},
  {"rf_ssh_3x3_16to16@80", 80, 80, 16, 16, 3, 1, false},
  {"rf_head_pw_64to20@80", 80, 80, 64, 20, 1, 1, false},
  {"rf_head_pw_64to4@80", 80, 80, 64, 4, 1, 1, false},
  // Face landmark network @256x256 (MobileNet-style blocks with PReLU).
  {"lm_conv1_3x3s2_3to16@256", 256, 256, 3, 16, 3, 2, false},
  {"lm_dw3x3s1_c16@128", 128, 128, 16, 16, 3, 1, true},
  {"lm_pw_16to16@128", 128, 128, 16, 16, 1, 1, false},
  {"lm_dw3x3s2_c32@128", 128, 128, 32, 32, 3, 2, true},
  {"lm_pw_32to32@64", 64, 64, 32, 32, 1, 1, false},
  {"lm_pw_64to64@32", 32, 32, 64, 64, 1, 1, false},
  {"lm_pw_128to128@16", 16, 16, 128, 128, 1, 1, false},
  // BlazeFace @128x128 (5x5 depthwise).
  {"bf_conv1_5x5s2_3to24@128", 128, 128, 3, 24, 5, 2, false},
  {"bf_dw5x5s1_c24@64", 64, 64, 24, 24, 5, 1, true},
  {"bf_pw_24to24@64", 64, 64, 24, 24, 1, 1, false},
};
// clang-format on

void BM_Conv(benchmark::State& state, Layer layer, opt::Isa isa) {
  const int threads = static_cast<int>(state.range(0));
  const int pad = layer.k / 2;
  const int oh = (layer.h + 2 * pad - layer.k) / layer.s + 1;
  const int ow = (layer.w + 2 * pad - layer.k) / layer.s + 1;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  const Shape wshape = layer.depthwise ? Shape{1, layer.k, layer.k, layer.c} : Shape{layer.o, layer.k, layer.k, layer.c};
  std::vector<float> weights(static_cast<size_t>(wshape.num_elements())), bias(static_cast<size_t>(layer.o));
  for (auto& v : weights) v = dist(rng);
  for (auto& v : bias) v = dist(rng);
  AlignedBuffer x(static_cast<size_t>(layer.h) * layer.w * layer.c * sizeof(float));
  AlignedBuffer y(static_cast<size_t>(oh) * ow * layer.o * sizeof(float));
  for (int64_t i = 0; i < int64_t{layer.h} * layer.w * layer.c; ++i) x.as<float>()[i] = dist(rng);

  ConvAttrs attrs;
  attrs.stride_h = attrs.stride_w = layer.s;
  attrs.padding.top = attrs.padding.left = attrs.padding.bottom = attrs.padding.right = pad;
  attrs.activation = Activation::kLeakyRelu;
  attrs.activation_alpha = 0.1f;
  const TensorView wv{DType::kF32, wshape, weights.data()};
  const TensorView bv{DType::kF32, Shape{layer.o}, bias.data()};
  const TensorDesc in{DType::kF32, Shape{1, layer.h, layer.w, layer.c}};
  const TensorDesc out{DType::kF32, Shape{1, oh, ow, layer.o}};
  auto kernel = layer.depthwise ? opt::make_depthwise_conv2d_kernel(attrs, wv, &bv, in, out, opt::epilogue_of(attrs), isa)
                                : opt::make_conv2d_kernel(attrs, wv, &bv, in, out, opt::epilogue_of(attrs), isa);
  if (!kernel) {
    state.SkipWithError("no optimized kernel");
    return;
  }
  ThreadPool pool(threads);
  const TensorView inputs[3] = {{DType::kF32, in.shape, x.data()}, wv, bv};
  const TensorView outputs[1] = {{DType::kF32, out.shape, y.data()}};
  for (auto _ : state) {
    const Status s = kernel->run(inputs, outputs, nullptr, pool);
    benchmark::DoNotOptimize(s);
    benchmark::ClobberMemory();
  }
  const double macs = layer.depthwise ? double(oh) * ow * layer.o * layer.k * layer.k
                                      : double(oh) * ow * layer.o * layer.k * layer.k * layer.c;
  state.counters["GFLOP/s"] = benchmark::Counter(2 * macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  const double bytes = 4.0 * (double(layer.h) * layer.w * layer.c + double(oh) * ow * layer.o + weights.size());
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

const bool kRegistered = [] {
  for (const Layer& layer : kLayers) {
    for (opt::Isa isa : {opt::Isa::kAvx2, opt::Isa::kAvx512}) {
      if (!opt::isa_supported(isa)) continue;
      if (layer.depthwise && isa == opt::Isa::kAvx512) continue;  // depthwise is AVX2-only
      const std::string name = std::string("Conv/") + layer.name + "/" + opt::isa_name(isa);
      benchmark::RegisterBenchmark(name.c_str(), BM_Conv, layer, isa)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
    }
  }
  return true;
}();

}  // namespace
}  // namespace facepipe::engine::cpu
