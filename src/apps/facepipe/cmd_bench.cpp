// facepipe bench model FILE[:member] [--shape NAME=D0xD1x...] [--threads N] [--iterations N] [--json]
//                      [--device cpu|cuda] [--fp16]
// Warm-up runs, then timed runs; prints median / min / max milliseconds (benchncnn style). With
// --device cuda each run is one CUDA graph launch timed with CUDA events on the plan's stream; the
// batch is the first dimension of --shape.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "apps/facepipe/cli_common.h"
#include "common/status.h"
#include "engine/cpu/cpu_plan.h"
#ifdef FACEPIPE_HAVE_CUDA
#include "engine/cuda/cuda_plan.h"
#endif

namespace facepipe::cli {

namespace {

struct BenchModelOptions {
  ModelOptions models;
  std::string spec;
  std::vector<std::string> shapes;
  int threads = 0;
  int iterations = 50;
  int warmup = 5;
  bool json = false;
  bool reference = false;
  std::string device = "cpu";
  bool fp16 = false;
  int profile = 0;  // --profile N: with --device cuda, print the N slowest kernels
};

struct TimingSummary {
  double median_ms = 0, min_ms = 0, max_ms = 0;
};

TimingSummary summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  TimingSummary s;
  s.min_ms = ms.front();
  s.max_ms = ms.back();
  const size_t n = ms.size();
  s.median_ms = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  return s;
}

void print_summary(const BenchModelOptions& o, const TimingSummary& s, const std::string& source,
                   const std::string& shape_text, const std::string& what) {
  if (o.json) {
    std::printf("{\"median_ms\": %.4f, \"min_ms\": %.4f, \"max_ms\": %.4f, \"iterations\": %d}\n", s.median_ms,
                s.min_ms, s.max_ms, o.iterations);
    return;
  }
  std::printf("%-40s %-16s %s  median = %8.3f ms  min = %8.3f ms  max = %8.3f ms  (%d iterations, %d warm-up)\n",
              source.c_str(), shape_text.c_str(), what.c_str(), s.median_ms, s.min_ms, s.max_ms, o.iterations, o.warmup);
}

// --device cuda: CUDA-event time of each run (one graph launch) on the plan's stream.
void bench_model_cuda(const std::shared_ptr<const engine::Graph>& graph, const std::vector<engine::Shape>& shapes,
                      const std::string& shape_text, const BenchModelOptions& o) {
#ifdef FACEPIPE_HAVE_CUDA
  engine::cuda::CudaPlanOptions options;
  options.fp16 = o.fp16;
  auto plan = engine::cuda::CudaPlan::create(graph, shapes, options);
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  for (int i = 0; i < plan->num_inputs(); ++i) {
    const engine::TensorView& in = plan->input(i);
    if (in.dtype != engine::DType::kF32) continue;
    std::vector<float> host(static_cast<size_t>(in.num_elements()));
    for (float& v : host) v = uniform(rng);
    if (!plan->copy_input_from_host(i, host.data(), in.bytes()).is_ok()) throw Error("input upload failed");
  }
  auto check = [&](Status st) {
    if (!st.is_ok()) throw Error(graph->source + ": CUDA run failed at " + plan->failed_op() + ": " + st.message());
  };
  for (int i = 0; i < o.warmup; ++i) check(plan->run());
  check(plan->synchronize());
  facepipe::cuda::Event start, stop;
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(o.iterations));
  for (int i = 0; i < o.iterations; ++i) {
    FACEPIPE_CUDA_THROW(cudaEventRecord(start.get(), plan->stream()));
    check(plan->run());
    FACEPIPE_CUDA_THROW(cudaEventRecord(stop.get(), plan->stream()));
    FACEPIPE_CUDA_THROW(cudaEventSynchronize(stop.get()));
    float elapsed = 0.f;
    FACEPIPE_CUDA_THROW(cudaEventElapsedTime(&elapsed, start.get(), stop.get()));
    ms.push_back(elapsed);
  }
  const std::string what = std::string("cuda:") + std::to_string(plan->device()) + (plan->fp16() ? " fp16" : o.fp16 ? " fp32(fp16 refused)" : " fp32") +
                           " kernels=" + std::to_string(plan->stats().scheduled_ops) + (plan->uses_graph() ? " graph" : "");
  print_summary(o, summarize(std::move(ms)), graph->source, shape_text, what);
  if (o.profile > 0) {
    auto timings = plan->profile(o.iterations);
    double total = 0;
    for (const auto& t : timings) total += t.median_ms;
    std::printf("  per-kernel medians, launched one by one (sum %.3f ms over %zu kernels); slowest:\n", total,
                timings.size());
    std::stable_sort(timings.begin(), timings.end(), [](const auto& a, const auto& b) { return a.median_ms > b.median_ms; });
    for (size_t i = 0; i < timings.size() && i < static_cast<size_t>(o.profile); ++i)
      std::printf("    %8.4f ms  %s\n", timings[i].median_ms, timings[i].op.c_str());
  }
#else
  (void)graph, (void)shapes, (void)shape_text, (void)o;
  throw Error("--device cuda: this build of facepipe has no CUDA backend");
#endif
}

void run_bench_model(const BenchModelOptions& o) {
  if (o.iterations < 1) throw Error("--iterations must be at least 1");
  const auto graph = load_model(o.spec, o.models);
  const engine::Graph& g = *graph;
  std::vector<engine::Shape> shapes(g.inputs.size());
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    shapes[i] = g.tensor(g.inputs[i]).shape;
    for (int d = 0; d < shapes[i].rank(); ++d)
      if (shapes[i][d] < 0) shapes[i][d] = 1;
  }
  for (const std::string& text : o.shapes) {
    const auto [key, value] = split_key_value(text, "--shape");
    shapes[static_cast<size_t>(find_graph_input(g, key))] = engine::parse_shape(value);
  }
  std::string shape_text;
  for (size_t i = 0; i < shapes.size(); ++i) shape_text += (i ? "," : "") + shapes[i].to_string();
  if (o.device == "cuda") {
    bench_model_cuda(graph, shapes, shape_text, o);
    return;
  }
  if (o.fp16) throw Error("--fp16 needs --device cuda");
  engine::cpu::PlanOptions plan_options;
  plan_options.num_threads = o.threads;
  plan_options.reference_only = o.reference;
  auto plan = engine::cpu::CpuPlan::create(graph, shapes, plan_options);

  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  for (int i = 0; i < plan->num_inputs(); ++i) {
    const engine::TensorView& in = plan->input(i);
    if (in.dtype != engine::DType::kF32) continue;
    float* p = in.as<float>();
    for (int64_t k = 0; k < in.num_elements(); ++k) p[k] = uniform(rng);
  }
  auto run_once = [&] {
    const Status st = plan->run();
    if (!st.is_ok()) throw Error(g.source + ": running op " + plan->failed_op() + " failed: " + st.message());
  };
  for (int i = 0; i < o.warmup; ++i) run_once();
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(o.iterations));
  for (int i = 0; i < o.iterations; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run_once();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  print_summary(o, summarize(std::move(ms)), g.source, shape_text,
                "threads=" + std::to_string(plan->thread_pool().num_threads()));
}

}  // namespace

void register_bench_commands(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  auto opts = std::make_shared<BenchModelOptions>();
  CLI::App* model = bench->add_subcommand("model", "Time one model: warm-up, then median / min / max");
  model->add_option("model", opts->spec, "FILE or FILE.task:MEMBER")->required();
  model->add_option("--shape", opts->shapes, "NAME=D0xD1x... input shape (NAME: input name or index)");
  model->add_option("--threads", opts->threads, "CPU threads (default: all cores)");
  model->add_option("--iterations", opts->iterations, "Timed runs (default 50)");
  model->add_option("--warmup", opts->warmup, "Untimed warm-up runs (default 5)");
  model->add_flag("--json", opts->json, "Print one JSON object instead of the table line");
  model->add_flag("--reference", opts->reference, "Use the naive reference kernels");
  model->add_option("--device", opts->device, "cpu (default) or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  model->add_flag("--fp16", opts->fp16, "With --device cuda: f16 storage of activations and weights");
  model->add_option("--profile", opts->profile, "With --device cuda: print the N slowest kernels");
  add_model_options(*model, opts->models);
  model->callback([opts] { run_bench_model(*opts); });
}

}  // namespace facepipe::cli
