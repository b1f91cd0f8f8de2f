// facepipe bench model FILE[:member] [--shape NAME=D0xD1x...] [--threads N] [--iterations N] [--json]
//                      [--device cpu|cuda] [--fp16]
// Warm-up runs, then timed runs; prints median / min / max milliseconds (benchncnn style). With
// --device cuda each run is one CUDA graph launch timed with CUDA events on the plan's stream; the
// batch is the first dimension of --shape.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "apps/facepipe/bench_pipeline.h"
#include "apps/facepipe/cli_common.h"
#include "common/status.h"
#include "engine/cpu/cpu_plan.h"
#include "face/pipeline/face_pipeline.h"
#include "media/image_io.h"
#include "media/kernel_view.h"
#include "media/video_reader.h"
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

// ---- facepipe bench pipeline ---------------------------------------------------------------------

// The frame at WxH as a camera would deliver it: the picture scaled to fit (bilinear, aspect
// kept) and centred on black. Start-up only: frames are prepared before timing.
media::Image fit_rgb(const media::Image& src, int width, int height) {
  media::Image dst(width, height, src.format());
  for (int y = 0; y < height; ++y) std::fill_n(dst.row(y), static_cast<size_t>(width) * 3, uint8_t{0});
  const double scale = std::min(static_cast<double>(width) / src.width(), static_cast<double>(height) / src.height());
  const int w = std::clamp(static_cast<int>(std::lround(src.width() * scale)), 1, width);
  const int h = std::clamp(static_cast<int>(std::lround(src.height() * scale)), 1, height);
  const int x0 = (width - w) / 2, y0 = (height - h) / 2;
  for (int y = 0; y < h; ++y) {
    const float sy = std::clamp((y + 0.5f) * src.height() / h - 0.5f, 0.f, src.height() - 1.f);
    const int ya = static_cast<int>(sy), yb = std::min(ya + 1, src.height() - 1);
    const float fy = sy - ya;
    uint8_t* out = dst.row(y0 + y) + static_cast<size_t>(x0) * 3;
    for (int x = 0; x < w; ++x) {
      const float sx = std::clamp((x + 0.5f) * src.width() / w - 0.5f, 0.f, src.width() - 1.f);
      const int xa = static_cast<int>(sx), xb = std::min(xa + 1, src.width() - 1);
      const float fx = sx - xa;
      for (int c = 0; c < 3; ++c) {
        const float top = src.row(ya)[xa * 3 + c] * (1 - fx) + src.row(ya)[xb * 3 + c] * fx;
        const float bottom = src.row(yb)[xa * 3 + c] * (1 - fx) + src.row(yb)[xb * 3 + c] * fx;
        out[x * 3 + c] = static_cast<uint8_t>(std::lround(top * (1 - fy) + bottom * fy));
      }
    }
  }
  return dst;
}

BenchFrames load_bench_frames(const BenchPipelineOptions& o) {
  if (o.input.empty()) throw Error("bench pipeline needs --input IMAGE|VIDEO");
  if (o.cameras < 1) throw Error("--cameras must be at least 1");
  // Frames in memory, at the requested resolution.
  std::vector<media::Image> frames;
  bool video = false;
  media::DecodeInfo info;
  try {
    frames.push_back(media::decode_image_file(o.input, &info));
    if (info.first_frame_only) throw Error("a video");
  } catch (const Error&) {
    frames.clear();
    media::VideoReader reader(o.input);
    media::VideoFrame frame;
    while (static_cast<int>(frames.size()) < o.frames && reader.read(frame).is_ok()) frames.push_back(frame.image.clone());
    if (frames.empty()) throw Error(o.input + ": no frames");
    video = true;
  }
  if (!o.resolution.empty()) {
    const engine::Shape wh = engine::parse_shape(o.resolution);
    if (wh.rank() != 2) throw Error("--resolution must be WxH");
    for (media::Image& f : frames) f = fit_rgb(f, static_cast<int>(wh[0]), static_cast<int>(wh[1]));
  }
  return BenchFrames{std::move(frames), video};
}

void run_bench_pipeline(const BenchPipelineOptions& o) {
  if (o.device != "cpu" && o.device != "cuda") throw Error("bench pipeline --device " + o.device + ": cpu or cuda");
  BenchFrames loaded = load_bench_frames(o);
  if (o.device == "cuda") return run_bench_pipeline_cuda(o, loaded);
  const std::vector<media::Image>& frames = loaded.frames;
  const bool video = loaded.video;
  face::FacePipelineConfig config;
  config.detector = face::parse_detector(o.detector);
  config.max_faces = o.max_faces;
  config.models_dir = o.models.models_dir;
  config.threads = o.threads;
  std::vector<std::unique_ptr<face::FacePipeline>> cameras;
  for (int c = 0; c < o.cameras; ++c) cameras.push_back(std::make_unique<face::FacePipeline>(config));

  auto process = [&](face::FacePipeline& p, const media::Image& image, int64_t index) {
    const kernels::ImageView view = media::kernel_view(image);
    const Status st = video ? p.process_frame(view, static_cast<double>(index) / 30.0) : p.process_image(view);
    if (!st.is_ok()) throw Error(o.input + ": " + st.message());
  };
  // Warm-up: a few frames per camera.
  int64_t index = 0;
  for (int i = 0; i < 5; ++i, ++index)
    for (auto& p : cameras) process(*p, frames[static_cast<size_t>(index) % frames.size()], index);

  std::vector<double> latency_ms;
  double detect = 0, landmarks = 0, blendshapes = 0, pose = 0;
  int64_t processed = 0, faces = 0, detector_runs = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < o.seconds) {
    const media::Image& image = frames[static_cast<size_t>(index) % frames.size()];
    for (auto& p : cameras) {
      const auto t0 = std::chrono::steady_clock::now();
      process(*p, image, index);
      latency_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      const face::StageTimes& t = p->stage_times();
      detect += t.detect_ms;
      landmarks += t.landmarks_ms;
      blendshapes += t.blendshapes_ms;
      pose += t.pose_ms;
      detector_runs += t.detector_ran;
      faces += static_cast<int64_t>(p->faces().size());
      ++processed;
    }
    ++index;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  const double n = static_cast<double>(processed);
  const auto median = percentile(latency_ms, 0.5), p99 = percentile(latency_ms, 0.99);
  const auto [min_it, max_it] = std::minmax_element(latency_ms.begin(), latency_ms.end());
  if (o.json) {
    std::printf("{\"device\": \"cpu\", \"cameras\": %d, \"mode\": \"%s\", \"width\": %d, \"height\": %d, \"frames\": %lld, "
                "\"seconds\": %.3f, \"frames_per_s\": %.2f, \"faces_per_s\": %.2f, \"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f, "
                "\"min\": %.3f, \"max\": %.3f}, \"stages_ms\": {\"detect\": %.3f, \"landmarks\": %.3f, \"blendshapes\": %.3f, "
                "\"pose\": %.3f}, \"detector_runs_per_frame\": %.3f}\n",
                o.cameras, video ? "video" : "image", frames[0].width(), frames[0].height(), static_cast<long long>(processed),
                elapsed, n / elapsed, static_cast<double>(faces) / elapsed, median, p99, *min_it, *max_it, detect / n,
                landmarks / n, blendshapes / n, pose / n, static_cast<double>(detector_runs) / n);
    return;
  }
  std::printf("pipeline %s (%s mode, %dx%d, %s detector, %d camera(s), %d thread(s))\n", o.input.c_str(),
              video ? "video/tracking" : "image", frames[0].width(), frames[0].height(), o.detector.c_str(), o.cameras,
              cameras[0]->thread_pool().num_threads());
  std::printf("  frames %lld in %.2f s: %.1f frames/s, %.1f faces/s\n", static_cast<long long>(processed), elapsed,
              n / elapsed, static_cast<double>(faces) / elapsed);
  std::printf("  latency per frame: median = %.3f ms  p99 = %.3f ms  min = %.3f ms  max = %.3f ms\n", median, p99, *min_it,
              *max_it);
  std::printf("  stages per frame (mean): detect %.3f ms (ran on %.0f%% of frames), landmarks %.3f ms, blendshapes %.3f ms, "
              "pose %.3f ms\n",
              detect / n, 100.0 * static_cast<double>(detector_runs) / n, landmarks / n, blendshapes / n, pose / n);
}

}  // namespace

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

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

  auto popts = std::make_shared<BenchPipelineOptions>();
  CLI::App* pipeline = bench->add_subcommand("pipeline", "Time the whole face pipeline on frames replayed from memory");
  pipeline->add_option("--input", popts->input, "Image (image mode) or video (tracking mode)")->required();
  pipeline->add_option("--device", popts->device, "cpu (default) or cuda");
  pipeline->add_option("--cameras", popts->cameras, "Cameras replaying the input (default 1)");
  pipeline->add_option("--seconds", popts->seconds, "Timed duration (default 10)");
  pipeline->add_option("--resolution", popts->resolution, "Frames at WxH (e.g. 1920x1080): the input scaled to fit, aspect kept, centred on black");
  pipeline->add_option("--detector", popts->detector, "blazeface, blazeface-full or retinaface")
      ->check(CLI::IsMember(kDetectorNames));
  pipeline->add_option("--max-faces", popts->max_faces, "Most faces per frame (default 8)");
  pipeline->add_option("--frames", popts->frames, "Video frames held in memory (default 150)");
  pipeline->add_option("--threads", popts->threads, "CPU threads (default: all cores)");
  pipeline->add_flag("--json", popts->json, "One JSON object instead of the text report");
  pipeline->add_option("--streams", popts->streams, "cuda: pipelines, each with its own stream and host thread (default: 1 per 32 cameras, at least 2 for several cameras)");
  pipeline->add_option("--max-batch", popts->max_batch, "cuda: faces per landmark launch (default 64)");
  pipeline->add_flag("--fp32", popts->fp32, "cuda: f32 storage in the networks (default f16)");
  pipeline->add_option("--gpu", popts->gpu, "cuda: device index (default 0)");
  pipeline->add_option("--pixel-format", popts->pixel_format, "cuda: frames as the cameras deliver them: bgr (default), nv12 or yuyv (uploaded as they are; the GPU kernels read YUV directly)")
      ->check(CLI::IsMember({"bgr", "nv12", "yuyv"}));
  add_model_options(*pipeline, popts->models);
  pipeline->callback([popts] { run_bench_pipeline(*popts); });
}

}  // namespace facepipe::cli
