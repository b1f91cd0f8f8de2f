// Optimized CPU kernels. A kernel is built once at plan time for concrete shapes (it may repack
// weights then) and run many times; run() allocates nothing.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "common/status.h"
#include "common/thread_pool.h"
#include "engine/ir/op.h"
#include "engine/ir/tensor_view.h"

namespace facepipe::engine::cpu {

class CpuKernel {
 public:
  virtual ~CpuKernel() = default;
  // Scratch memory run() needs; the planner provides it inside the arena (64-byte aligned).
  virtual size_t workspace_bytes() const { return 0; }
  // inputs/outputs as for run_reference_op; constant inputs point at the graph's constant data.
  virtual Status run(std::span<const TensorView> inputs, std::span<const TensorView> outputs, void* workspace,
                     ThreadPool& pool) = 0;
};

// Builds the optimized kernel for `op` with these concrete inputs (constant inputs have data set;
// run-time inputs have data == nullptr at this point; absent optional inputs are those with
// op.inputs[i] == -1) and outputs, or returns nullptr when this op
// or configuration has no optimized kernel (the planner then runs the reference implementation).
// May throw facepipe::Error for invalid configurations.
std::unique_ptr<CpuKernel> make_optimized_kernel(const Op& op, std::span<const TensorView> inputs,
                                                 std::span<const TensorDesc> outputs);

}  // namespace facepipe::engine::cpu
