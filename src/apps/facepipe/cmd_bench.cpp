// facepipe bench model FILE[:member] [--shape NAME=D0xD1x...] [--threads N] [--iterations N] [--json]
// Warm-up runs, then timed runs; prints median / min / max milliseconds (benchncnn style).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "apps/facepipe/cli_common.h"
#include "common/status.h"
#include "engine/cpu/cpu_plan.h"

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
  const TimingSummary s = summarize(std::move(ms));
  if (o.json) {
    std::printf("{\"median_ms\": %.4f, \"min_ms\": %.4f, \"max_ms\": %.4f, \"iterations\": %d}\n", s.median_ms, s.min_ms,
                s.max_ms, o.iterations);
    return;
  }
  std::string shape_text;
  for (size_t i = 0; i < shapes.size(); ++i) shape_text += (i ? "," : "") + shapes[i].to_string();
  std::printf("%-40s %-16s threads=%d  median = %8.3f ms  min = %8.3f ms  max = %8.3f ms  (%d iterations, %d warm-up)\n",
              g.source.c_str(), shape_text.c_str(), plan->thread_pool().num_threads(), s.median_ms, s.min_ms,
              s.max_ms, o.iterations, o.warmup);
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
  add_model_options(*model, opts->models);
  model->callback([opts] { run_bench_model(*opts); });
}

}  // namespace facepipe::cli
