// A model planned for one CUDA device at concrete input shapes: the GPU twin of cpu::CpuPlan.
//
// Planning (throws facepipe::Error) does, once:
//   1. the backend-independent steps shared with the CPU (engine/plan/planned_graph.h): shape
//      inference, constant folding, activation fusion, views,
//   2. CUDA rewrites: a PRelu with per-channel constant alpha and a residual Add (with its fused
//      activation) that follow a Conv2D/DepthwiseConv2D move into the conv's epilogue,
//   3. memory: one device arena for every run-time tensor (PlannedGraph::plan_memory over the
//      storage sizes), one device buffer with every weight and folded value converted to the
//      storage type and uploaded once, f32 staging for the inputs and outputs with fp16 storage;
//      the kernels' own small parameter tables,
//   4. kernels for every scheduled op (engine/cuda/ops), then, with use_graph, one capture of the
//      whole run into a CUDA graph, instantiated and uploaded.
// run() then is one cudaGraphLaunch (or the kernel launches) on the plan's stream: no cudaMalloc,
// no cudaFree, no host allocation. It is asynchronous; synchronize() or the copy helpers wait.
//
// The runtime API's primary context of options.device is used (one context per device).
#pragma once

#include <cuda_runtime.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/cuda/cuda_resources.h"
#include "common/status.h"
#include "engine/ir/graph.h"
#include "engine/ir/tensor_view.h"

namespace facepipe::engine::cuda {

struct CudaPlanOptions {
  int device = 0;
  // Store activations and weights as f16 (math and accumulation stay f32). The plan's inputs and
  // outputs stay f32: the plan converts them on the device. Graphs whose arithmetic overflows f16
  // (SquaredDifference, Rsqrt, Sqrt, Div, Exp, Mean, Sum on activations) keep f32 storage:
  // CudaPlan::fp16() says what was used.
  bool fp16 = false;
  // The stream every run is enqueued on; nullptr: the plan creates and owns one (non-blocking).
  cudaStream_t stream = nullptr;
  bool use_graph = true;  // capture the run into a CUDA graph at plan time
  bool fuse = true;       // activation fusion and the CUDA epilogue fusions
  // Plan a model declared with batch 1 at the batch N of input_shapes when the graph provably
  // keeps items apart (GraphPlanOptions::batch_override, engine/plan/rebatch.h).
  bool batch_override = false;
};

struct CudaPlanStats {
  size_t arena_bytes = 0;        // run-time tensors after reuse
  size_t naive_arena_bytes = 0;  // one buffer per tensor
  size_t constant_bytes = 0;     // uploaded weights and folded values
  size_t io_bytes = 0;           // f32 staging of inputs/outputs (fp16 storage only)
  int folded_ops = 0;
  int scheduled_ops = 0;         // kernels (ops) per run
  int fused_ops = 0;             // ops removed by fusion (activations, PRelu, residual adds)
  int aliased_ops = 0;
  int epilogue_fusions = 0;      // of fused_ops, the CUDA epilogue fusions
  int layer_norm_fusions = 0;    // of fused_ops, ops removed by fusing layer norms (9 per norm)
};

class CudaPlan {
 public:
  static std::unique_ptr<CudaPlan> create(std::shared_ptr<const Graph> graph, std::span<const Shape> input_shapes,
                                          const CudaPlanOptions& options = {});
  ~CudaPlan();
  CudaPlan(const CudaPlan&) = delete;
  CudaPlan& operator=(const CudaPlan&) = delete;

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  // Device memory in the graph's dtypes: write inputs before run(), read outputs after it.
  const TensorView& input(int i) const { return inputs_.at(static_cast<size_t>(i)); }
  const TensorView& output(int i) const { return outputs_.at(static_cast<size_t>(i)); }
  const std::string& input_name(int i) const;
  const std::string& output_name(int i) const;
  int find_input(std::string_view name) const;
  int find_output(std::string_view name) const;

  // Enqueues one inference on stream(). On a launch failure failed_op() names the op.
  Status run();
  Status synchronize();
  // Host convenience: asynchronous copy of `bytes` (== input(i).bytes()) into input i on stream();
  // copy of output i to the host, waiting for the stream. Pinned host memory makes both faster.
  Status copy_input_from_host(int i, const void* host, size_t bytes);
  Status copy_output_to_host(int i, void* host, size_t bytes);

  // Diagnostics (allocates; not for the frame path): the median time of each kernel over
  // `iterations` runs launched one by one with events between them, in schedule order.
  struct OpTiming {
    std::string op;  // "name (Type)"
    double median_ms = 0;
  };
  std::vector<OpTiming> profile(int iterations);

  cudaStream_t stream() const { return stream_; }
  int device() const { return device_; }
  bool fp16() const { return fp16_; }  // f16 storage in use (see CudaPlanOptions::fp16)
  bool uses_graph() const { return static_cast<bool>(graph_exec_); }
  std::string failed_op() const;
  const CudaPlanStats& stats() const { return stats_; }
  const Graph& graph() const { return *graph_; }

  struct Impl;

 private:
  CudaPlan() = default;
  Status enqueue_all();

  std::shared_ptr<const Graph> graph_;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<facepipe::cuda::Stream> owned_stream_;
  cudaStream_t stream_ = nullptr;
  facepipe::cuda::GraphExec graph_exec_;
  std::vector<TensorView> inputs_;
  std::vector<TensorView> outputs_;
  CudaPlanStats stats_;
  int device_ = 0;
  bool fp16_ = false;
  int failed_op_ = -1;
};

}  // namespace facepipe::engine::cuda
