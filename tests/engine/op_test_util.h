// Single-op test harness: compare any kernel with the reference ops (the oracle), in the spirit of
// ggml's test-backend-ops and ncnn's test_layer.
//
//   OpCase c("conv 3x3 s2 SAME", conv_op(...));
//   c.random_input(DType::kF32, {1, 9, 7, 3})
//    .random_input(DType::kF32, {8, 3, 3, 3}).constant()     // weights
//    .absent_input();                                        // no bias
//   EXPECT_TRUE(matches_reference(c, my_impl, 1e-5));
//
// What matches_reference checks:
//  * the implementation returns an ok Status;
//  * its outputs agree with the reference: float outputs by max |actual - expected| divided by
//    max |expected| (normalized error; NaN where the reference is finite counts as infinite), integer
//    outputs exactly;
//  * every output element was written: output buffers start filled with 0xFF bytes (NaN for f32/f16,
//    -1 for integers);
//  * nothing was written outside the outputs: 64 guard bytes before and after each output buffer
//    must be intact;
//  * the inputs were not modified.
// The reference itself runs in guarded buffers too, so the oracle is held to the same rules.
//
// sweep_cases() is a table of odd shapes (channels 1/3/13, width 1, batch 2, kernels 1/3/5,
// strides 1/2, the networks' conv/depthwise/pool/resize configurations) for sweeping a kernel.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/status.h"
#include "engine/ir/op.h"
#include "engine/ir/tensor_view.h"

namespace facepipe::test {

// Any implementation of a single op with run_reference_op's signature. A backend wraps its own
// kernel (copying to and from the device if it must) in a lambda of this type.
using OpImpl = std::function<Status(const engine::Op& op, std::span<const engine::TensorView> inputs,
                                    std::span<const engine::TensorView> outputs)>;

// A tensor buffer with kGuardBytes of a known pattern before and after its body. The body is
// 64-byte aligned, like the planner's arena.
class GuardedBuffer {
 public:
  static constexpr size_t kGuardBytes = 64;
  static constexpr unsigned char kGuardByte = 0xA5;
  static constexpr unsigned char kPoisonByte = 0xFF;

  GuardedBuffer(engine::DType dtype, const engine::Shape& shape);  // body poisoned
  engine::TensorView view() const;
  bool guards_intact() const;
  const std::byte* body() const { return storage_.data() + kGuardBytes; }
  size_t body_bytes() const { return bytes_; }

 private:
  engine::DType dtype_;
  engine::Shape shape_;
  size_t bytes_ = 0;
  AlignedBuffer storage_;
};

// One op with its input tensors (owned). op.inputs/op.outputs are renumbered 0..n-1 / n so that
// the op is self-contained; absent inputs get id -1.
class OpCase {
 public:
  OpCase(std::string label, engine::Op op, uint32_t seed = 1);

  // Inputs in the op's order. Random data is drawn from a seeded mt19937, so a case is the same on
  // every run and platform. For integer dtypes random_input draws integers in [lo, hi].
  OpCase& random_input(engine::DType dtype, const engine::Shape& shape, float lo = -1.f, float hi = 1.f);
  OpCase& input_f32(const engine::Shape& shape, std::vector<float> values);
  OpCase& input_f16(const engine::Shape& shape, const std::vector<float>& values);  // rounded to f16
  OpCase& input_i32(const engine::Shape& shape, std::vector<int32_t> values);
  OpCase& input_i64(const engine::Shape& shape, std::vector<int64_t> values);
  OpCase& absent_input();
  // Marks the last added input as a plan-time constant (weights, bias, a shape or size input).
  OpCase& constant();

  const std::string& label() const { return label_; }
  const engine::Op& op() const { return op_; }
  // Views of all inputs (absent ones: data == nullptr, rank 0).
  std::vector<engine::TensorView> inputs() const;
  // What a plan-time kernel factory (make_optimized_kernel) sees: constants keep their data,
  // run-time inputs have data == nullptr.
  std::vector<engine::TensorView> plan_time_inputs() const;
  bool is_constant(size_t input) const { return inputs_.at(input).constant; }
  // infer_output_descs on the inputs (constants' values visible). Throws facepipe::Error.
  std::vector<engine::TensorDesc> output_descs() const;

  struct Result {
    Status status;
    std::vector<GuardedBuffer> outputs;
    bool inputs_unchanged = true;
  };
  // Allocates guarded, poisoned outputs and runs `impl` on this case.
  Result run(const OpImpl& impl) const;
  Result run_reference() const;

 private:
  struct Input {
    engine::DType dtype = engine::DType::kF32;
    engine::Shape shape;
    AlignedBuffer data;
    bool present = false;
    bool constant = false;
  };
  OpCase& add(engine::DType dtype, const engine::Shape& shape, const void* bytes);
  void renumber();

  std::string label_;
  engine::Op op_;
  uint32_t seed_;
  std::vector<Input> inputs_;
};

// Runs the reference and `impl` on `c` and checks everything listed at the top of this file.
// `tolerance` bounds the normalized max abs error of float outputs.
::testing::AssertionResult matches_reference(const OpCase& c, const OpImpl& impl, double tolerance = 1e-5);

// Reads a finished output as floats (f32, f16, i32, i64 converted) for hand-checked expectations.
std::vector<float> to_floats(const GuardedBuffer& buffer);
std::vector<int64_t> to_ints(const GuardedBuffer& buffer);

// Runs the reference on `c`, expecting success, and returns output 0 as floats / integers.
// Fails the current test (ADD_FAILURE) and returns {} when the reference fails.
std::vector<float> reference_f32(const OpCase& c);
std::vector<int64_t> reference_ints(const OpCase& c);

// The odd-shape sweep table (see the top of this file); all cases, or those of one op type.
std::vector<OpCase> sweep_cases();
std::vector<OpCase> sweep_cases(engine::OpType type);

// Op builders for tests: an Op of `type` with these attributes (inputs/outputs set by OpCase).
engine::Op make_op(engine::OpType type, engine::OpAttrs attrs = {}, std::string name = {});

}  // namespace facepipe::test
