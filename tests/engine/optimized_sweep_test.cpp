// Every case of the shared odd-shape sweep (op_test_util.h) that make_optimized_kernel accepts
// must match the reference; the ones it declines are listed (they run the reference in plans).
#include <gtest/gtest.h>

#include <iostream>

#include "engine/optimized_kernel_harness.h"

namespace facepipe::test {
namespace {

TEST(OptimizedSweep, EveryAcceptedCaseMatchesReference) {
  int optimized = 0;
  std::string declined;
  for (const OpCase& c : sweep_cases()) {
    std::unique_ptr<engine::cpu::CpuKernel> kernel;
    ASSERT_NO_THROW(kernel = plan_default(c)) << c.label();
    if (!kernel) {
      declined += "  " + c.label() + "\n";
      continue;
    }
    ++optimized;
    EXPECT_TRUE(optimized_matches_reference(c, [](const engine::Op& op, std::span<const engine::TensorView> in,
                                                  std::span<const engine::TensorDesc> out) {
      return engine::cpu::make_optimized_kernel(op, in, out);
    }));
  }
  EXPECT_GT(optimized, 30);
  std::cout << optimized << " sweep cases optimized; reference fallback for:\n" << declined;
}

}  // namespace
}  // namespace facepipe::test
