#include "engine/cuda/cuda_plan.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "common/half.h"
#include "engine/cuda/cuda_kernel.h"
#include "engine/plan/planned_graph.h"

namespace facepipe::engine::cuda {

namespace {

using facepipe::cuda::DeviceBuffer;

struct Convert {
  const void* src = nullptr;
  DType src_type = DType::kF32;
  void* dst = nullptr;
  DType dst_type = DType::kF32;
  int64_t count = 0;
};

struct Act2 {
  Activation act = Activation::kNone;
  float alpha = 0.f;
};

size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

bool is_conv(OpType t) { return t == OpType::kConv2D || t == OpType::kDepthwiseConv2D; }

// True when `alpha` is a plan-time f32 vector that applies per channel of `out` (scalar, or 1s
// and then the channel count).
bool per_channel_alpha(const PlannedGraph& pg, int32_t alpha, const TensorDesc& out) {
  if (alpha < 0 || !pg.value(alpha) || pg.desc(alpha).dtype != DType::kF32 || out.shape.rank() == 0) return false;
  const Shape& s = pg.desc(alpha).shape;
  for (int d = 0; d + 1 < s.rank(); ++d)
    if (s[d] != 1) return false;
  const int64_t n = s.num_elements();
  return n == 1 || (s.rank() >= 1 && n == out.shape[out.shape.rank() - 1]);
}

// Drops the ops marked in `removed` (parallel to ops), keeping the order of the rest.
void erase_removed(std::vector<ScheduledOp>& ops, const std::vector<char>& removed) {
  size_t kept = 0;
  for (size_t i = 0; i < ops.size(); ++i)
    if (!removed[i]) {
      if (kept != i) ops[kept] = std::move(ops[i]);  // never a self-move: that may empty the op
      ++kept;
    }
  ops.resize(kept);
}

// Epilogue fusion (KernelArgs in cuda_kernel.h describes the slots): after a conv, the chain
// [PRelu] [Add(residual) with its activation] [PRelu], each link the only reader of the previous
// output, moves into the conv. A residual must be computed before the conv runs.
int fuse_epilogues(PlannedGraph& pg, std::unordered_map<int32_t, Act2>& act2) {
  std::vector<ScheduledOp>& ops = pg.ops();
  const std::vector<int> uses = pg.use_counts();
  std::vector<int32_t> producer = pg.producers();
  std::vector<int32_t> reader(uses.size(), -1);  // the single direct reader (-2: several)
  for (size_t k = 0; k < ops.size(); ++k)
    for (int32_t id : ops[k].op.inputs)
      if (id >= 0) reader[static_cast<size_t>(id)] = reader[static_cast<size_t>(id)] == -1 ? static_cast<int32_t>(k) : -2;
  std::vector<char> removed(ops.size(), 0);
  int fused = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (removed[i] || !is_conv(ops[i].op.type) || ops[i].op.outputs.size() != 1) continue;
    int stage = 0;  // 0: after the conv's activation, 1: after PRelu 1, 2: after the residual, 3: done
    while (stage < 3) {
      Op& op = ops[i].op;
      const int32_t out = op.outputs[0];
      if (uses[static_cast<size_t>(out)] != 1 || pg.is_graph_output(out)) break;
      const int32_t j = reader[static_cast<size_t>(out)];
      if (j < 0 || removed[static_cast<size_t>(j)]) break;
      const Op& c = ops[static_cast<size_t>(j)].op;
      if (c.outputs.size() != 1 || pg.desc(c.outputs[0]).shape != pg.desc(out).shape ||
          pg.desc(c.outputs[0]).dtype != pg.desc(out).dtype) {
        break;
      }
      int slot = -1;
      int32_t extra = -1;
      if (c.type == OpType::kPRelu && stage != 1 && c.inputs.size() == 2 && c.inputs[0] == out &&
          per_channel_alpha(pg, c.inputs[1], pg.desc(out))) {
        slot = stage == 0 ? 3 : 5;
        extra = c.inputs[1];
        stage = stage == 0 ? 1 : 3;
      } else if (c.type == OpType::kAdd && stage <= 1 && c.inputs.size() == 2 && (c.inputs[0] == out) != (c.inputs[1] == out)) {
        const int32_t other = c.inputs[0] == out ? c.inputs[1] : c.inputs[0];
        if (other < 0 || pg.value(other) || pg.desc(other).shape != pg.desc(out).shape ||
            pg.desc(other).dtype != pg.desc(out).dtype) {
          break;
        }
        const int32_t p = producer[static_cast<size_t>(pg.root(other))];
        if (p >= static_cast<int32_t>(i)) break;  // computed after the conv: cannot read it there
        slot = 4;
        extra = other;
        stage = 2;
        if (const auto* a = std::get_if<BinaryAttrs>(&c.attrs)) act2[ops[i].source_index] = Act2{a->activation, a->activation_alpha};
      } else {
        break;
      }
      if (op.inputs.size() < 6) op.inputs.resize(6, -1);
      op.inputs[static_cast<size_t>(slot)] = extra;
      op.outputs[0] = c.outputs[0];
      producer[static_cast<size_t>(c.outputs[0])] = static_cast<int32_t>(i);
      removed[static_cast<size_t>(j)] = 1;
      ++fused;
    }
  }
  erase_removed(ops, removed);
  return fused;
}

// TFLite spells a layer norm over the last axis as ten ops (the blendshape MLP has eight):
//   m = Mean(x); n = Neg(m); v = Mean(SquaredDifference(x, m)); r = Rsqrt(Add(v, eps));
//   g = Mul(r, gamma); y = Add(Mul(x, g), Mul(n, g))
// Each is a tiny kernel at batch 1, so the chain becomes one LayerNorm op (a warp per row). Every
// intermediate must have exactly the readers of the pattern and no fused activation.
class LayerNormMatcher {
 public:
  explicit LayerNormMatcher(const PlannedGraph& pg) : pg_(pg), uses_(pg.use_counts()) {
    readers_.resize(uses_.size());
    for (size_t k = 0; k < pg.ops().size(); ++k)
      for (int32_t id : pg.ops()[k].op.inputs)
        if (id >= 0) readers_[static_cast<size_t>(id)].push_back(static_cast<int32_t>(k));
  }

  struct Match {
    std::vector<int32_t> ops;  // the ten op indices; the last is the final Add
    int32_t x = -1, gamma = -1, y = -1;
    float epsilon = 0.f;
  };

  // The chain starting at the Mean op `i`, if it is one.
  std::optional<Match> at(size_t i) const {
    const Op& mean = op(static_cast<int32_t>(i));
    if (!last_axis_mean(mean)) return std::nullopt;
    Match r;
    r.x = mean.inputs[0];
    const int32_t m = mean.outputs[0];
    const std::vector<int32_t>& m_readers = readers(m);
    if (m_readers.size() != 2 || !internal(m, 2)) return std::nullopt;
    int32_t neg = -1, sqd = -1;
    for (int32_t k : m_readers) {
      if (op(k).type == OpType::kNeg) neg = k;
      else if (op(k).type == OpType::kSquaredDifference && other(op(k), m) == r.x) sqd = k;
    }
    if (neg < 0 || sqd < 0) return std::nullopt;
    const int32_t mean2 = only_reader(op(sqd).outputs[0]);
    if (mean2 < 0 || !last_axis_mean(op(mean2))) return std::nullopt;
    const int32_t add_eps = only_reader(op(mean2).outputs[0]);
    if (add_eps < 0 || !plain_binary(op(add_eps), OpType::kAdd)) return std::nullopt;
    const int32_t eps = other(op(add_eps), op(mean2).outputs[0]);
    if (eps < 0 || !pg_.value(eps) || pg_.desc(eps).dtype != DType::kF32 || pg_.desc(eps).shape.num_elements() != 1) {
      return std::nullopt;
    }
    r.epsilon = *static_cast<const float*>(pg_.value(eps));
    const int32_t rsqrt = only_reader(op(add_eps).outputs[0]);
    if (rsqrt < 0 || op(rsqrt).type != OpType::kRsqrt) return std::nullopt;
    const int32_t scale = only_reader(op(rsqrt).outputs[0]);
    if (scale < 0 || !plain_binary(op(scale), OpType::kMul)) return std::nullopt;
    r.gamma = other(op(scale), op(rsqrt).outputs[0]);
    const int64_t channels = pg_.desc(r.x).shape[pg_.desc(r.x).shape.rank() - 1];
    if (r.gamma < 0 || !pg_.value(r.gamma) || pg_.desc(r.gamma).dtype != DType::kF32 ||
        pg_.desc(r.gamma).shape.num_elements() != channels) {
      return std::nullopt;
    }
    const int32_t g = op(scale).outputs[0];
    if (readers(g).size() != 2 || !internal(g, 2)) return std::nullopt;
    int32_t mul_x = -1, mul_n = -1;
    for (int32_t k : readers(g)) {
      if (!plain_binary(op(k), OpType::kMul)) return std::nullopt;
      if (other(op(k), g) == r.x) mul_x = k;
      else if (other(op(k), g) == op(neg).outputs[0]) mul_n = k;
    }
    if (mul_x < 0 || mul_n < 0 || only_reader(op(neg).outputs[0]) != mul_n) return std::nullopt;
    const int32_t add = only_reader(op(mul_x).outputs[0]);
    if (add < 0 || add != only_reader(op(mul_n).outputs[0]) || !plain_binary(op(add), OpType::kAdd)) return std::nullopt;
    r.y = op(add).outputs[0];
    if (pg_.desc(r.y).shape != pg_.desc(r.x).shape) return std::nullopt;
    r.ops = {static_cast<int32_t>(i), neg, sqd, mean2, add_eps, rsqrt, scale, mul_x, mul_n, add};
    return r;
  }

 private:
  const Op& op(int32_t k) const { return pg_.ops()[static_cast<size_t>(k)].op; }
  const std::vector<int32_t>& readers(int32_t id) const { return readers_[static_cast<size_t>(id)]; }
  // Read by exactly `n` ops and nothing else (no graph output, no view).
  bool internal(int32_t id, int n) const {
    return uses_[static_cast<size_t>(id)] == n && !pg_.is_graph_output(id) && readers(id).size() == static_cast<size_t>(n);
  }
  int32_t only_reader(int32_t id) const { return internal(id, 1) ? readers(id)[0] : -1; }
  static int32_t other(const Op& o, int32_t id) {
    if (o.inputs.size() != 2) return -1;
    if (o.inputs[0] == id && o.inputs[1] != id) return o.inputs[1];
    if (o.inputs[1] == id && o.inputs[0] != id) return o.inputs[0];
    return -1;
  }
  static bool plain_binary(const Op& o, OpType type) {
    if (o.type != type || o.inputs.size() != 2 || o.outputs.size() != 1) return false;
    const auto* a = std::get_if<BinaryAttrs>(&o.attrs);
    return !a || a->activation == Activation::kNone;
  }
  bool last_axis_mean(const Op& o) const {
    if (o.type != OpType::kMean || o.inputs.empty() || o.outputs.size() != 1 || pg_.value(o.inputs[0])) return false;
    const auto* a = std::get_if<ReduceAttrs>(&o.attrs);
    const int rank = pg_.desc(o.inputs[0]).shape.rank();
    if (!a || !a->keep_dims || a->axes.size() != 1 || rank == 0) return false;
    return a->axes[0] == -1 || a->axes[0] == rank - 1;
  }

  const PlannedGraph& pg_;
  std::vector<int> uses_;
  std::vector<std::vector<int32_t>> readers_;
};

int fuse_layer_norms(PlannedGraph& pg) {
  std::vector<ScheduledOp>& ops = pg.ops();
  std::vector<char> removed(ops.size(), 0);
  std::vector<std::pair<size_t, ScheduledOp>> replacements;
  {
    const LayerNormMatcher matcher(pg);
    for (size_t i = 0; i < ops.size(); ++i) {
      if (removed[i]) continue;
      const auto m = matcher.at(i);
      if (!m) continue;
      bool free = true;
      for (int32_t k : m->ops) free = free && !removed[static_cast<size_t>(k)];
      if (!free) continue;
      for (int32_t k : m->ops) removed[static_cast<size_t>(k)] = 1;
      // The fused op takes the final Add's place: x is ready long before, its readers come after.
      ScheduledOp fused = ops[static_cast<size_t>(m->ops.back())];
      fused.op.type = OpType::kLayerNorm;
      fused.op.inputs = {m->x, m->gamma};
      fused.op.outputs = {m->y};
      fused.op.attrs = LayerNormAttrs{m->epsilon};
      replacements.emplace_back(static_cast<size_t>(m->ops.back()), std::move(fused));
    }
  }
  for (auto& [index, fused] : replacements) {
    ops[index] = std::move(fused);
    removed[index] = 0;
  }
  const size_t before = ops.size();
  erase_removed(ops, removed);
  return static_cast<int>(before - ops.size());
}

}  // namespace

struct CudaPlan::Impl {
  std::unique_ptr<PlannedGraph> planned;
  DeviceBuffer arena;
  DeviceBuffer constants;
  DeviceBuffer io;
  std::vector<Convert> input_converts;
  std::vector<Convert> output_converts;
  std::vector<std::unique_ptr<CudaKernel>> kernels;
  std::vector<int32_t> kernel_source;  // Graph::ops index per kernel
};

CudaPlan::~CudaPlan() {
  // Work still in flight reads the buffers released below.
  if (stream_) cudaStreamSynchronize(stream_);
}

std::unique_ptr<CudaPlan> CudaPlan::create(std::shared_ptr<const Graph> graph, std::span<const Shape> input_shapes,
                                           const CudaPlanOptions& options) {
  if (!graph) throw Error("CudaPlan: no graph");
  const int devices = facepipe::cuda::device_count();
  if (options.device < 0 || options.device >= devices) {
    throw Error(graph->source + ": CUDA device " + std::to_string(options.device) + " requested, " +
                std::to_string(devices) + " available");
  }
  FACEPIPE_CUDA_THROW(cudaSetDevice(options.device));
  std::unique_ptr<CudaPlan> plan(new CudaPlan());
  plan->graph_ = graph;
  plan->device_ = options.device;
  plan->fp16_ = options.fp16;
  plan->impl_ = std::make_unique<Impl>();
  Impl& im = *plan->impl_;
  CudaPlanStats& stats = plan->stats_;

  // 1-2. Shared planning, then the CUDA epilogue fusions.
  GraphPlanOptions graph_options;
  graph_options.fuse_activations = options.fuse;
  graph_options.batch_override = options.batch_override;
  im.planned = std::make_unique<PlannedGraph>(graph, input_shapes, graph_options);
  PlannedGraph& pg = *im.planned;
  const Graph& g = pg.graph();
  std::unordered_map<int32_t, Act2> act2;
  if (options.fuse) {
    stats.layer_norm_fusions = fuse_layer_norms(pg);
    pg.stats().fused_ops += stats.layer_norm_fusions;
    stats.epilogue_fusions = fuse_epilogues(pg, act2);
    pg.stats().fused_ops += stats.epilogue_fusions;
  }
  // f16 storage overflows at 65504: graphs that square, divide, take roots or exponentials of
  // their activations (the blendshape MLP's layer norms over landmark coordinates in pixels) keep
  // f32 storage; fp16() reports what the plan uses.
  bool fp16 = options.fp16;
  for (const ScheduledOp& s : pg.ops()) {
    switch (s.op.type) {
      case OpType::kSquaredDifference:
      case OpType::kRsqrt:
      case OpType::kSqrt:
      case OpType::kDiv:
      case OpType::kExp:
      case OpType::kMean:
      case OpType::kSum: fp16 = false; break;
      default: break;
    }
  }
  plan->fp16_ = fp16;
  auto storage = [&](DType d) { return fp16 && d == DType::kF32 ? DType::kF16 : d; };
  auto storage_bytes = [&](int32_t id) {
    const TensorDesc& d = pg.desc(id);
    return static_cast<size_t>(d.shape.num_elements()) * dtype_size(storage(d.dtype));
  };

  // 3. Memory: the arena, the constants, the f32 staging of inputs/outputs.
  const size_t arena_bytes = pg.plan_memory(storage_bytes);
  im.arena = DeviceBuffer(arena_bytes);
  stats.arena_bytes = arena_bytes;
  stats.naive_arena_bytes = pg.stats().naive_tensor_bytes;

  std::unordered_map<int32_t, size_t> constant_offset;  // root tensor -> offset in im.constants
  size_t constant_bytes = 0;
  auto want_constant = [&](int32_t id) {
    const int32_t r = pg.root(id);
    if (!pg.value(r) || constant_offset.count(r)) return;
    constant_offset[r] = constant_bytes;
    constant_bytes += align_up(std::max<size_t>(storage_bytes(r), 1), 256);
  };
  for (const ScheduledOp& s : pg.ops())
    for (int32_t id : s.op.inputs)
      if (id >= 0) want_constant(id);
  for (int32_t id : g.outputs) want_constant(id);
  if (constant_bytes) {
    std::vector<std::byte> staging(constant_bytes);
    for (const auto& [id, offset] : constant_offset) {
      const TensorDesc& d = pg.desc(id);
      const auto* src = static_cast<const std::byte*>(pg.value(id));
      if (storage(d.dtype) != d.dtype) {  // f32 -> f16
        auto* dst = reinterpret_cast<uint16_t*>(staging.data() + offset);
        for (int64_t k = 0; k < d.shape.num_elements(); ++k) {
          float v;
          std::memcpy(&v, src + k * 4, 4);
          dst[k] = float_to_half(v);
        }
      } else {
        std::memcpy(staging.data() + offset, src, d.bytes());
      }
    }
    im.constants = DeviceBuffer(constant_bytes);
    FACEPIPE_CUDA_THROW(cudaMemcpy(im.constants.get(), staging.data(), constant_bytes, cudaMemcpyHostToDevice));
  }
  stats.constant_bytes = constant_bytes;

  auto device_view = [&](int32_t id) {
    const TensorDesc& d = pg.desc(id);
    const size_t offset = pg.arena_offset(id);
    void* data = offset != PlannedGraph::kNoOffset
                     ? static_cast<std::byte*>(im.arena.get()) + offset
                     : static_cast<std::byte*>(im.constants.get()) + constant_offset.at(pg.root(id));
    return TensorView{storage(d.dtype), d.shape, data};
  };

  // Inputs and outputs whose storage differs from the graph dtype get f32 staging.
  size_t io_bytes = 0;
  std::vector<size_t> in_offset, out_offset;
  for (int32_t id : g.inputs) {
    in_offset.push_back(io_bytes);
    if (storage(pg.desc(id).dtype) != pg.desc(id).dtype) io_bytes += align_up(std::max<size_t>(pg.desc(id).bytes(), 1), 256);
  }
  for (int32_t id : g.outputs) {
    out_offset.push_back(io_bytes);
    if (storage(pg.desc(id).dtype) != pg.desc(id).dtype) io_bytes += align_up(std::max<size_t>(pg.desc(id).bytes(), 1), 256);
  }
  im.io = DeviceBuffer(io_bytes);
  stats.io_bytes = io_bytes;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const int32_t id = g.inputs[i];
    const TensorDesc& d = pg.desc(id);
    const TensorView dev = device_view(id);
    if (dev.dtype == d.dtype) {
      plan->inputs_.push_back(dev);
      continue;
    }
    TensorView user{d.dtype, d.shape, static_cast<std::byte*>(im.io.get()) + in_offset[i]};
    plan->inputs_.push_back(user);
    im.input_converts.push_back({user.data, d.dtype, dev.data, dev.dtype, d.shape.num_elements()});
  }
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    const int32_t id = g.outputs[i];
    const TensorDesc& d = pg.desc(id);
    const TensorView dev = device_view(id);
    if (dev.dtype == d.dtype) {
      plan->outputs_.push_back(dev);
      continue;
    }
    TensorView user{d.dtype, d.shape, static_cast<std::byte*>(im.io.get()) + out_offset[i]};
    plan->outputs_.push_back(user);
    im.output_converts.push_back({dev.data, dev.dtype, user.data, d.dtype, d.shape.num_elements()});
  }

  // 4. Kernels.
  for (const ScheduledOp& s : pg.ops()) {
    const Op& op = s.op;
    std::vector<TensorView> ins(op.inputs.size()), host_ins(op.inputs.size()), outs(op.outputs.size());
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      if (op.inputs[k] < 0) continue;
      ins[k] = device_view(op.inputs[k]);
      host_ins[k] = pg.host_view(op.inputs[k]);
    }
    for (size_t k = 0; k < op.outputs.size(); ++k) outs[k] = device_view(op.outputs[k]);
    KernelArgs args{op, ins, host_ins, outs};
    if (const auto it = act2.find(s.source_index); it != act2.end()) {
      args.act2 = it->second.act;
      args.act2_alpha = it->second.alpha;
    }
    im.kernels.push_back(make_cuda_kernel(args));
    im.kernel_source.push_back(s.source_index);
  }
  stats.folded_ops = pg.stats().folded_ops;
  stats.fused_ops = pg.stats().fused_ops;
  stats.aliased_ops = pg.stats().aliased_ops;
  stats.scheduled_ops = static_cast<int>(pg.ops().size());

  // Stream and graph.
  if (options.stream) {
    plan->stream_ = options.stream;
  } else {
    plan->owned_stream_ = std::make_unique<facepipe::cuda::Stream>();
    plan->stream_ = plan->owned_stream_->get();
  }
  const bool has_work = !im.kernels.empty() || !im.input_converts.empty() || !im.output_converts.empty();
  if (options.use_graph && has_work) {
    cudaGraph_t captured = nullptr;
    FACEPIPE_CUDA_THROW(cudaStreamBeginCapture(plan->stream_, cudaStreamCaptureModeThreadLocal));
    const Status st = plan->enqueue_all();
    const cudaError_t end = cudaStreamEndCapture(plan->stream_, &captured);
    if (!st.is_ok() || end != cudaSuccess) {
      if (captured) cudaGraphDestroy(captured);
      cudaGetLastError();
      throw Error(g.source + ": capturing the CUDA graph failed at " + plan->failed_op() + ": " +
                  (st.is_ok() ? cudaGetErrorString(end) : st.message()));
    }
    cudaGraphExec_t exec = nullptr;
    const cudaError_t inst = cudaGraphInstantiate(&exec, captured, 0);
    cudaGraphDestroy(captured);
    FACEPIPE_CUDA_THROW(inst);
    plan->graph_exec_ = facepipe::cuda::GraphExec(exec);
    FACEPIPE_CUDA_THROW(cudaGraphUpload(exec, plan->stream_));
  }
  FACEPIPE_CUDA_THROW(cudaStreamSynchronize(plan->stream_));
  return plan;
}

Status CudaPlan::enqueue_all() {
  for (const Convert& c : impl_->input_converts) {
    FACEPIPE_RETURN_IF_ERROR(launch_convert(c.src, c.src_type, c.dst, c.dst_type, c.count, stream_));
  }
  for (size_t i = 0; i < impl_->kernels.size(); ++i) {
    const Status st = impl_->kernels[i]->enqueue(stream_);
    if (!st.is_ok()) {
      failed_op_ = impl_->kernel_source[i];
      return st;
    }
  }
  for (const Convert& c : impl_->output_converts) {
    FACEPIPE_RETURN_IF_ERROR(launch_convert(c.src, c.src_type, c.dst, c.dst_type, c.count, stream_));
  }
  return Status::ok();
}

Status CudaPlan::run() {
  failed_op_ = -1;
  FACEPIPE_CUDA_RETURN(cudaSetDevice(device_));
  if (graph_exec_) {
    FACEPIPE_CUDA_RETURN(cudaGraphLaunch(graph_exec_.get(), stream_));
    return Status::ok();
  }
  return enqueue_all();
}

std::vector<CudaPlan::OpTiming> CudaPlan::profile(int iterations) {
  FACEPIPE_CUDA_THROW(cudaSetDevice(device_));
  const size_t n = impl_->kernels.size();
  std::vector<facepipe::cuda::Event> events(n + 1);
  std::vector<std::vector<double>> samples(n);
  for (int it = 0; it < iterations; ++it) {
    FACEPIPE_CUDA_THROW(cudaEventRecord(events[0].get(), stream_));
    for (size_t i = 0; i < n; ++i) {
      const Status st = impl_->kernels[i]->enqueue(stream_);
      if (!st.is_ok()) throw Error("profile: " + std::string(st.message()));
      FACEPIPE_CUDA_THROW(cudaEventRecord(events[i + 1].get(), stream_));
    }
    FACEPIPE_CUDA_THROW(cudaStreamSynchronize(stream_));
    for (size_t i = 0; i < n; ++i) {
      float ms = 0;
      FACEPIPE_CUDA_THROW(cudaEventElapsedTime(&ms, events[i].get(), events[i + 1].get()));
      samples[i].push_back(ms);
    }
  }
  std::vector<OpTiming> out(n);
  for (size_t i = 0; i < n; ++i) {
    std::sort(samples[i].begin(), samples[i].end());
    const Op& op = graph_->ops[static_cast<size_t>(impl_->kernel_source[i])];
    out[i].op = op.name + " (" + std::string(op_type_name(op.type)) + ")";
    out[i].median_ms = samples[i].empty() ? 0 : samples[i][samples[i].size() / 2];
  }
  return out;
}

Status CudaPlan::synchronize() {
  FACEPIPE_CUDA_RETURN(cudaStreamSynchronize(stream_));
  return Status::ok();
}

Status CudaPlan::copy_input_from_host(int i, const void* host, size_t bytes) {
  if (i < 0 || i >= num_inputs() || bytes != input(i).bytes()) {
    return Status::error(StatusCode::kInvalidArgument, "copy_input_from_host: bad input index or size");
  }
  FACEPIPE_CUDA_RETURN(cudaMemcpyAsync(input(i).data, host, bytes, cudaMemcpyHostToDevice, stream_));
  return Status::ok();
}

Status CudaPlan::copy_output_to_host(int i, void* host, size_t bytes) {
  if (i < 0 || i >= num_outputs() || bytes != output(i).bytes()) {
    return Status::error(StatusCode::kInvalidArgument, "copy_output_to_host: bad output index or size");
  }
  FACEPIPE_CUDA_RETURN(cudaMemcpyAsync(host, output(i).data, bytes, cudaMemcpyDeviceToHost, stream_));
  FACEPIPE_CUDA_RETURN(cudaStreamSynchronize(stream_));
  return Status::ok();
}

const std::string& CudaPlan::input_name(int i) const { return graph_->input_name(i); }
const std::string& CudaPlan::output_name(int i) const { return graph_->output_name(i); }
int CudaPlan::find_input(std::string_view name) const { return graph_->find_input(name); }
int CudaPlan::find_output(std::string_view name) const { return graph_->find_output(name); }

std::string CudaPlan::failed_op() const {
  if (failed_op_ < 0) return "(graph launch)";
  const Op& op = graph_->ops[static_cast<size_t>(failed_op_)];
  return op.name + " (" + std::string(op_type_name(op.type)) + ")";
}

}  // namespace facepipe::engine::cuda
