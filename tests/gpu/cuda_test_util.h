// Helpers of the GPU tests: the visible skip where no CUDA device exists (CI has nvcc, no GPU), and
// a single-op implementation (op_test_util.h's OpImpl) that plans the op as a one-op graph on the
// CUDA backend, so the op tests exercise the real planning path (constant upload, fp16 storage,
// graph capture).
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/cuda/cuda_resources.h"
#include "common/half.h"
#include "engine/cuda/cuda_plan.h"
#include "engine/op_test_util.h"
#include "engine/plan/shape_inference.h"

#define FACEPIPE_REQUIRE_CUDA()                                                                         \
  do {                                                                                                  \
    if (::facepipe::cuda::device_count() == 0)                                                          \
      GTEST_SKIP() << "no CUDA device: cudaGetDeviceCount reports none (driver or GPU missing)";         \
  } while (0)

namespace facepipe::test {

// The op of `c` as a graph: its run-time inputs become graph inputs, constant inputs constants.
inline std::shared_ptr<const engine::Graph> single_op_graph(const OpCase& c, std::vector<engine::Shape>& input_shapes) {
  using namespace facepipe::engine;
  auto g = std::make_shared<Graph>();
  g->source = "op case '" + c.label() + "'";
  g->format = "test";
  Op op = c.op();
  const std::vector<TensorView> views = c.inputs();
  for (size_t k = 0; k < views.size(); ++k) {
    if (c.op().inputs[k] < 0) continue;
    const TensorView& v = views[k];
    const std::string name = "in" + std::to_string(k);
    if (c.is_constant(k)) {
      AlignedBuffer data(v.bytes());
      if (v.bytes()) std::memcpy(data.data(), v.data, v.bytes());
      op.inputs[k] = g->add_constant(name, v.dtype, v.shape, std::move(data));
    } else {
      Tensor t;
      t.name = name;
      t.dtype = v.dtype;
      t.shape = v.shape;
      t.shape_known = true;
      op.inputs[k] = g->add_tensor(std::move(t));
      g->inputs.push_back(op.inputs[k]);
      input_shapes.push_back(v.shape);
    }
  }
  const std::vector<TensorDesc> outs = c.output_descs();
  op.outputs.clear();
  for (size_t k = 0; k < outs.size(); ++k) {
    Tensor t;
    t.name = "out" + std::to_string(k);
    t.dtype = outs[k].dtype;
    t.shape = outs[k].shape;
    t.shape_known = true;
    op.outputs.push_back(g->add_tensor(std::move(t)));
    g->outputs.push_back(op.outputs.back());
  }
  g->ops.push_back(std::move(op));
  g->validate();
  return g;
}

// An OpImpl running `c` through CudaPlan; `scheduled` receives the plan's kernel count.
inline OpImpl cuda_op_impl(const OpCase& c, const engine::cuda::CudaPlanOptions& options, int* scheduled) {
  return [&c, options, scheduled](const engine::Op&, std::span<const engine::TensorView> inputs,
                                  std::span<const engine::TensorView> outputs) -> Status {
    std::vector<engine::Shape> shapes;
    auto graph = single_op_graph(c, shapes);
    auto plan = engine::cuda::CudaPlan::create(graph, shapes, options);
    if (scheduled) *scheduled = plan->stats().scheduled_ops;
    int next = 0;
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (c.op().inputs[k] < 0 || c.is_constant(k)) continue;
      FACEPIPE_RETURN_IF_ERROR(plan->copy_input_from_host(next++, inputs[k].data, inputs[k].bytes()));
    }
    FACEPIPE_RETURN_IF_ERROR(plan->run());
    for (size_t k = 0; k < outputs.size(); ++k) {
      FACEPIPE_RETURN_IF_ERROR(plan->copy_output_to_host(static_cast<int>(k), outputs[k].data, outputs[k].bytes()));
    }
    return Status::ok();
  };
}

// Rounds every f32 input of `c` to the nearest f16 value in place, so that the reference and an
// fp16-storage backend start from the same numbers and only the backend's own rounding is measured.
inline void round_inputs_to_f16(OpCase& c) {
  for (const engine::TensorView& v : c.inputs()) {
    if (v.dtype != engine::DType::kF32 || !v.data) continue;
    float* p = v.as<float>();
    for (int64_t i = 0; i < v.num_elements(); ++i) p[i] = half_to_float(float_to_half(p[i]));
  }
}

}  // namespace facepipe::test
