// Adapts an optimized CPU kernel (cpu_kernel.h) to the single-op harness (op_test_util.h): the
// kernel is planned from the case's plan-time view (constants only), then run on the harness's
// guarded buffers with a real thread pool and a workspace of exactly workspace_bytes().
#pragma once

#include <functional>
#include <memory>
#include <span>

#include "common/aligned_buffer.h"
#include "common/thread_pool.h"
#include "engine/cpu/cpu_kernel.h"
#include "engine/op_test_util.h"

namespace facepipe::test {

using KernelFactory = std::function<std::unique_ptr<engine::cpu::CpuKernel>(
    const engine::Op&, std::span<const engine::TensorView>, std::span<const engine::TensorDesc>)>;

inline std::unique_ptr<engine::cpu::CpuKernel> plan_kernel(const OpCase& c, const KernelFactory& factory) {
  const std::vector<engine::TensorView> inputs = c.plan_time_inputs();
  const std::vector<engine::TensorDesc> outputs = c.output_descs();
  return factory(c.op(), inputs, outputs);
}

inline std::unique_ptr<engine::cpu::CpuKernel> plan_default(const OpCase& c) {
  return plan_kernel(c, [](const engine::Op& op, std::span<const engine::TensorView> in,
                           std::span<const engine::TensorDesc> out) { return engine::cpu::make_optimized_kernel(op, in, out); });
}

// An OpImpl running `kernel` (which must outlive the returned function).
inline OpImpl kernel_impl(engine::cpu::CpuKernel& kernel, ThreadPool& pool) {
  return [&kernel, &pool](const engine::Op&, std::span<const engine::TensorView> inputs,
                          std::span<const engine::TensorView> outputs) {
    AlignedBuffer workspace(kernel.workspace_bytes());
    return kernel.run(inputs, outputs, workspace.data(), pool);
  };
}

// Plans with `factory`, then checks against the reference on 1 and 2 threads. A factory that
// declines (nullptr) is a test failure here: callers use this for configurations that must be
// optimized.
inline ::testing::AssertionResult optimized_matches_reference(const OpCase& c, const KernelFactory& factory,
                                                              double tolerance = 1e-5) {
  std::unique_ptr<engine::cpu::CpuKernel> kernel;
  try {
    kernel = plan_kernel(c, factory);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << c.label() << ": planning threw: " << e.what();
  }
  if (!kernel) return ::testing::AssertionFailure() << c.label() << ": no optimized kernel";
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    auto r = matches_reference(c, kernel_impl(*kernel, pool), tolerance);
    if (!r) return r << " (threads " << threads << ")";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace facepipe::test
