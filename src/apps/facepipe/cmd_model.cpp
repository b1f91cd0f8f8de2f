// facepipe model inspect FILE[:member]
// facepipe model run FILE[:member] --input KEY=PATH.f32:D0xD1x... [--input ...] --output-dir DIR
//                   [--device cpu|cuda] [--fp16]
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "apps/facepipe/cli_common.h"
#include "common/status.h"
#include "engine/cpu/cpu_plan.h"
#ifdef FACEPIPE_HAVE_CUDA
#include "engine/cuda/cuda_plan.h"
#endif

namespace facepipe::cli {

namespace {

struct InspectOptions {
  ModelOptions models;
  std::string spec;
};

void print_tensor_line(const engine::Graph& g, size_t index, int32_t id) {
  const engine::Tensor& t = g.tensor(id);
  std::printf("  %zu  %-28s %-4s %s\n", index, t.name.c_str(), std::string(engine::dtype_name(t.dtype)).c_str(),
              t.shape.to_string().c_str());
}

void run_inspect(const InspectOptions& o) {
  const auto graph = load_model(o.spec, o.models);
  const engine::Graph& g = *graph;
  std::printf("model:      %s\nformat:     %s\n", g.source.c_str(), g.format.c_str());
  std::printf("inputs:\n");
  for (size_t i = 0; i < g.inputs.size(); ++i) print_tensor_line(g, i, g.inputs[i]);
  std::printf("outputs:\n");
  for (size_t i = 0; i < g.outputs.size(); ++i) print_tensor_line(g, i, g.outputs[i]);
  std::map<std::string_view, int> counts;
  for (const engine::Op& op : g.ops) ++counts[engine::op_type_name(op.type)];
  std::printf("ops:        %zu\n", g.ops.size());
  for (const auto& [name, n] : counts) std::printf("  %-20s %d\n", std::string(name).c_str(), n);
  std::printf("parameters: %lld\n", static_cast<long long>(g.parameter_count()));
}

struct RunOptions {
  ModelOptions models;
  std::string spec;
  std::vector<std::string> inputs;
  std::string output_dir;
  int threads = 0;
  bool reference = false;
  std::string device = "cpu";
  bool fp16 = false;
};

struct InputFile {
  int index = -1;
  std::string path;
  engine::Shape shape;
};

// "KEY=PATH.f32:D0xD1x..." -> input index, path, shape.
InputFile parse_input_flag(const engine::Graph& g, const std::string& text) {
  auto [key, value] = split_key_value(text, "--input");
  const auto colon = value.rfind(':');
  if (colon == std::string::npos) throw Error("bad --input '" + text + "': expected KEY=PATH.f32:D0xD1x...");
  InputFile in;
  in.index = find_graph_input(g, key);
  in.path = value.substr(0, colon);
  in.shape = engine::parse_shape(value.substr(colon + 1));
  return in;
}

void read_exact(const std::string& path, void* data, size_t bytes) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw Error(path + ": cannot open input file");
  const auto size = static_cast<size_t>(f.tellg());
  if (size != bytes) {
    throw Error(path + ": holds " + std::to_string(size) + " bytes, the shape needs " + std::to_string(bytes) +
                " (raw little-endian float32)");
  }
  f.seekg(0);
  f.read(static_cast<char*>(data), static_cast<std::streamsize>(bytes));
  if (!f) throw Error(path + ": read error");
}

void write_output(const std::string& dir, int i, const std::string& name, const engine::TensorView& out,
                  const void* host) {
  const auto path = std::filesystem::path(dir) / (std::to_string(i) + ".f32");
  std::ofstream f(path, std::ios::binary);
  f.write(static_cast<const char*>(host), static_cast<std::streamsize>(out.bytes()));
  if (!f) throw Error(path.string() + ": write error");
  std::printf("%d %s %s\n", i, name.c_str(), out.shape.to_string().c_str());
}

// --device cuda: the same run on the GPU (inputs uploaded, outputs downloaded).
void run_model_cuda(const std::shared_ptr<const engine::Graph>& graph, const std::vector<engine::Shape>& shapes,
                    const std::vector<InputFile>& files, const RunOptions& o) {
#ifdef FACEPIPE_HAVE_CUDA
  const engine::Graph& g = *graph;
  engine::cuda::CudaPlanOptions options;
  options.fp16 = o.fp16;
  auto plan = engine::cuda::CudaPlan::create(graph, shapes, options);
  std::vector<std::byte> host;
  for (const InputFile& in : files) {
    const engine::TensorView& view = plan->input(in.index);
    if (view.dtype != engine::DType::kF32) throw Error(g.source + ": input " + std::to_string(in.index) + " is not float32");
    host.resize(view.bytes());
    read_exact(in.path, host.data(), view.bytes());
    const Status st = plan->copy_input_from_host(in.index, host.data(), host.size());
    if (!st.is_ok()) throw Error(g.source + ": upload failed: " + st.message());
  }
  const Status st = plan->run();
  if (!st.is_ok()) throw Error(g.source + ": running op " + plan->failed_op() + " failed: " + st.message());
  std::filesystem::create_directories(o.output_dir);
  for (int i = 0; i < plan->num_outputs(); ++i) {
    const engine::TensorView& out = plan->output(i);
    if (out.dtype != engine::DType::kF32) throw Error(g.source + ": output " + std::to_string(i) + " is not float32");
    host.resize(out.bytes());
    const Status cs = plan->copy_output_to_host(i, host.data(), host.size());
    if (!cs.is_ok()) throw Error(g.source + ": download failed: " + cs.message());
    write_output(o.output_dir, i, plan->output_name(i), out, host.data());
  }
#else
  (void)graph, (void)shapes, (void)files, (void)o;
  throw Error("--device cuda: this build of facepipe has no CUDA backend");
#endif
}

void run_model(const RunOptions& o) {
  const auto graph = load_model(o.spec, o.models);
  const engine::Graph& g = *graph;
  std::vector<InputFile> files;
  std::vector<engine::Shape> shapes(g.inputs.size());
  std::vector<bool> given(g.inputs.size(), false);
  for (const std::string& text : o.inputs) {
    InputFile in = parse_input_flag(g, text);
    if (given[static_cast<size_t>(in.index)]) throw Error("input " + std::to_string(in.index) + " given twice");
    given[static_cast<size_t>(in.index)] = true;
    shapes[static_cast<size_t>(in.index)] = in.shape;
    files.push_back(std::move(in));
  }
  for (size_t i = 0; i < g.inputs.size(); ++i)
    if (!given[i]) throw Error(g.source + ": no --input for input " + std::to_string(i) + " '" + g.tensor(g.inputs[i]).name + "'");

  if (o.device == "cuda") {
    run_model_cuda(graph, shapes, files, o);
    return;
  }
  if (o.fp16) throw Error("--fp16 needs --device cuda");
  engine::cpu::PlanOptions plan_options;
  plan_options.num_threads = o.threads;
  plan_options.reference_only = o.reference;
  auto plan = engine::cpu::CpuPlan::create(graph, shapes, plan_options);
  for (const InputFile& in : files) {
    const engine::TensorView& view = plan->input(in.index);
    if (view.dtype != engine::DType::kF32) throw Error(g.source + ": input " + std::to_string(in.index) + " is not float32");
    read_exact(in.path, view.data, view.bytes());
  }
  const Status st = plan->run();
  if (!st.is_ok()) throw Error(g.source + ": running op " + plan->failed_op() + " failed: " + st.message());

  std::filesystem::create_directories(o.output_dir);
  for (int i = 0; i < plan->num_outputs(); ++i) {
    const engine::TensorView& out = plan->output(i);
    if (out.dtype != engine::DType::kF32) throw Error(g.source + ": output " + std::to_string(i) + " is not float32");
    write_output(o.output_dir, i, plan->output_name(i), out, out.data);
  }
}

}  // namespace

void register_model_commands(CLI::App& app) {
  CLI::App* model = app.add_subcommand("model", "Inspect and run model files (.task members, .tflite, .onnx)");
  model->require_subcommand(1);

  auto inspect_opts = std::make_shared<InspectOptions>();
  CLI::App* inspect = model->add_subcommand("inspect", "Print inputs, outputs, op counts and parameter count");
  inspect->add_option("model", inspect_opts->spec, "FILE or FILE.task:MEMBER")->required();
  add_model_options(*inspect, inspect_opts->models);
  inspect->callback([inspect_opts] { run_inspect(*inspect_opts); });

  auto run_opts = std::make_shared<RunOptions>();
  CLI::App* run = model->add_subcommand("run", "Run a model on raw float32 inputs, write raw float32 outputs");
  run->add_option("model", run_opts->spec, "FILE or FILE.task:MEMBER")->required();
  run->add_option("--input", run_opts->inputs, "KEY=PATH.f32:D0xD1x... (KEY: input name or index)")->required();
  run->add_option("--output-dir", run_opts->output_dir, "Directory for <i>.f32 outputs")->required();
  run->add_option("--threads", run_opts->threads, "CPU threads (default: all cores)");
  run->add_flag("--reference", run_opts->reference, "Use the naive reference kernels (the test oracle)");
  run->add_option("--device", run_opts->device, "cpu (default) or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  run->add_flag("--fp16", run_opts->fp16, "With --device cuda: f16 storage of activations and weights");
  add_model_options(*run, run_opts->models);
  run->callback([run_opts] { run_model(*run_opts); });
}

}  // namespace facepipe::cli
