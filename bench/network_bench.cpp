// The whole RetinaFace MobileNet-0.25 640x640 network as a chain of optimized kernels (same
// layers, same order, same fused activations; the head's reshape/softmax tail is left out, it is
// <1% of the work). Not a planner: it estimates what the CPU backend can reach end to end once the
// planner runs these kernels back to back, including thread-pool overhead per op.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/thread_pool.h"
#include "engine/cpu/cpu_kernel.h"
#include "engine/cpu/optimized/conv.h"

namespace facepipe::engine::cpu {
namespace {

class Net {
 public:
  struct Step {
    std::unique_ptr<CpuKernel> kernel;
    std::vector<TensorView> inputs;
    std::vector<TensorView> outputs;
  };

  int tensor(const Shape& s) {
    buffers_.emplace_back(static_cast<size_t>(s.num_elements()) * sizeof(float));
    shapes_.push_back(s);
    return static_cast<int>(shapes_.size()) - 1;
  }
  TensorView view(int t) { return {DType::kF32, shapes_[t], buffers_[t].data()}; }
  const Shape& shape(int t) const { return shapes_[t]; }

  // Conv / depthwise with "same" padding k/2, leaky or none; returns the output tensor.
  int conv(int x, int out_c, int k, int stride, bool depthwise, Activation act) {
    const Shape s = shapes_[x];  // a copy: tensor() below grows shapes_
    const int pad = k / 2;
    const int64_t oh = (s[1] + 2 * pad - k) / stride + 1, ow = (s[2] + 2 * pad - k) / stride + 1;
    const int y = tensor(Shape{1, oh, ow, out_c});
    const Shape wshape = depthwise ? Shape{1, k, k, s[3]} : Shape{out_c, k, k, s[3]};
    weights_.emplace_back(static_cast<size_t>(wshape.num_elements()));
    biases_.emplace_back(static_cast<size_t>(out_c));
    std::mt19937 rng(static_cast<uint32_t>(weights_.size()));
    std::uniform_real_distribution<float> u(-0.1f, 0.1f);
    for (auto& v : weights_.back()) v = u(rng);
    for (auto& v : biases_.back()) v = u(rng);
    ConvAttrs a;
    a.stride_h = a.stride_w = stride;
    a.padding.top = a.padding.left = a.padding.bottom = a.padding.right = pad;
    a.activation = act;
    a.activation_alpha = 0.1f;
    const TensorView wv{DType::kF32, wshape, weights_.back().data()};
    const TensorView bv{DType::kF32, Shape{out_c}, biases_.back().data()};
    const TensorDesc in{DType::kF32, s}, out{DType::kF32, shapes_[y]};
    Step step;
    step.kernel = depthwise ? opt::make_depthwise_conv2d_kernel(a, wv, &bv, in, out, opt::epilogue_of(a))
                            : opt::make_conv2d_kernel(a, wv, &bv, in, out, opt::epilogue_of(a));
    step.inputs = {view(x), wv, bv};
    step.outputs = {view(y)};
    steps_.push_back(std::move(step));
    return y;
  }
  int dwpw(int x, int out_c, int stride) {
    const int d = conv(x, static_cast<int>(shapes_[x][3]), 3, stride, true, Activation::kLeakyRelu);
    return conv(d, out_c, 1, 1, false, Activation::kLeakyRelu);
  }
  // A generic op through make_optimized_kernel.
  int op(OpType type, OpAttrs attrs, std::vector<int> xs, Shape out_shape, std::vector<TensorView> extra = {}) {
    const int y = tensor(out_shape);
    Op o;
    o.type = type;
    o.attrs = std::move(attrs);
    Step step;
    for (int x : xs) step.inputs.push_back(view(x));
    for (auto& e : extra) step.inputs.push_back(e);
    for (size_t i = 0; i < step.inputs.size(); ++i) o.inputs.push_back(static_cast<int32_t>(i));
    o.outputs = {static_cast<int32_t>(step.inputs.size())};
    std::vector<TensorView> plan_inputs = step.inputs;
    for (size_t i = 0; i < xs.size(); ++i) plan_inputs[i].data = nullptr;
    const TensorDesc out{DType::kF32, out_shape};
    step.kernel = make_optimized_kernel(o, plan_inputs, std::span<const TensorDesc>(&out, 1));
    step.outputs = {view(y)};
    steps_.push_back(std::move(step));
    return y;
  }
  // Index of the first step without an optimized kernel, or -1.
  int missing() const {
    for (size_t i = 0; i < steps_.size(); ++i)
      if (!steps_[i].kernel) return static_cast<int>(i);
    return -1;
  }
  void run(ThreadPool& pool) {
    for (Step& s : steps_) {
      const Status st = s.kernel->run(s.inputs, s.outputs, nullptr, pool);
      benchmark::DoNotOptimize(st);
    }
  }
  size_t size() const { return steps_.size(); }

  // Best-of-`reps` time per step, printed sorted (FACEPIPE_NET_PROFILE=1): where the time goes.
  void profile(ThreadPool& pool, int reps) {
    std::vector<double> best(steps_.size(), 1e30);
    for (int r = 0; r < reps; ++r) {
      for (size_t i = 0; i < steps_.size(); ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const Status st = steps_[i].kernel->run(steps_[i].inputs, steps_[i].outputs, nullptr, pool);
        benchmark::DoNotOptimize(st);
        best[i] = std::min(best[i], std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      }
    }
    std::vector<size_t> order(steps_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return best[a] > best[b]; });
    double total = 0;
    for (double b : best) total += b;
    std::printf("per-step best times, %d threads, sum %.0f us\n", pool.num_threads(), total);
    for (size_t i : order) {
      const Step& s = steps_[i];
      std::printf("  step %2zu %8.1f us  %s -> %s\n", i, best[i], s.inputs[0].shape.to_string().c_str(),
                  s.outputs[0].shape.to_string().c_str());
    }
  }

 private:
  std::vector<AlignedBuffer> buffers_;
  std::vector<Shape> shapes_;
  std::vector<std::vector<float>> weights_, biases_;
  std::vector<Step> steps_;
  std::vector<int64_t> size_values_;
};

void build_retinaface(Net& net, int size) {
  const Activation leaky = Activation::kLeakyRelu, none = Activation::kNone;
  const int x = net.tensor(Shape{1, size, size, 3});
  int t = net.conv(x, 8, 3, 2, false, leaky);
  t = net.dwpw(t, 16, 1);
  t = net.dwpw(t, 32, 2);
  t = net.dwpw(t, 32, 1);
  t = net.dwpw(t, 64, 2);
  const int c3 = net.dwpw(t, 64, 1);
  t = net.dwpw(c3, 128, 2);
  for (int i = 0; i < 5; ++i) t = net.dwpw(t, 128, 1);
  const int c4 = t;
  t = net.dwpw(c4, 256, 2);
  const int c5 = net.dwpw(t, 256, 1);
  // FPN.
  int o1 = net.conv(c3, 64, 1, 1, false, leaky);
  int o2 = net.conv(c4, 64, 1, 1, false, leaky);
  const int o3 = net.conv(c5, 64, 1, 1, false, leaky);
  ResizeAttrs nearest;  // asymmetric, floor
  const int up3 = net.op(OpType::kResize, nearest, {o3}, net.shape(o2));
  o2 = net.op(OpType::kAdd, BinaryAttrs{}, {o2, up3}, net.shape(o2));
  o2 = net.conv(o2, 64, 3, 1, false, leaky);
  const int up2 = net.op(OpType::kResize, nearest, {o2}, net.shape(o1));
  o1 = net.op(OpType::kAdd, BinaryAttrs{}, {o1, up2}, net.shape(o1));
  o1 = net.conv(o1, 64, 3, 1, false, leaky);
  // SSH + heads per level.
  for (int level : {o1, o2, o3}) {
    const int a = net.conv(level, 32, 3, 1, false, none);
    const int b = net.conv(level, 16, 3, 1, false, leaky);
    const int c = net.conv(b, 16, 3, 1, false, none);
    const int d = net.conv(b, 16, 3, 1, false, leaky);
    const int e = net.conv(d, 16, 3, 1, false, none);
    Shape cat = net.shape(level);
    const int f = net.op(OpType::kConcat, ConcatAttrs{3, Activation::kNone}, {a, c, e}, cat);
    const int g = net.op(OpType::kRelu, {}, {f}, cat);
    net.conv(g, 4, 1, 1, false, none);
    net.conv(g, 8, 1, 1, false, none);
    net.conv(g, 20, 1, 1, false, none);
  }
}

void BM_RetinaFace640(benchmark::State& state) {
  Net net;
  build_retinaface(net, 640);
  if (const int m = net.missing(); m >= 0) {
    static std::string message;
    message = "step " + std::to_string(m) + " has no optimized kernel";
    state.SkipWithError(message.c_str());
    return;
  }
  // FACEPIPE_POOL_SPIN_US overrides the pool's idle spin (compare spinning and sleeping pools).
  const char* spin = std::getenv("FACEPIPE_POOL_SPIN_US");
  ThreadPool pool(static_cast<int>(state.range(0)), spin ? std::atoi(spin) : ThreadPool::kDefaultSpinMicroseconds);
  if (const char* p = std::getenv("FACEPIPE_NET_PROFILE"); p && *p == '1') net.profile(pool, 20);
  for (auto _ : state) net.run(pool);
  state.counters["ops"] = static_cast<double>(net.size());
}
BENCHMARK(BM_RetinaFace640)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(1.0);

}  // namespace
}  // namespace facepipe::engine::cpu
