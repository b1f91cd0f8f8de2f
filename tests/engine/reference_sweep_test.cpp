// The sweep table run through the reference itself: every case must plan, run, stay inside its
// buffers, write every output element and give finite numbers. Also checks that the harness catches
// the faults it promises to catch, with deliberately broken implementations.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "engine/cpu/reference_ops.h"
#include "engine/op_test_util.h"

namespace facepipe::test {
namespace {

using engine::DType;
using engine::Op;
using engine::OpType;
using engine::TensorView;

TEST(ReferenceSweep, EveryCaseRunsCleanly) {
  const std::vector<OpCase> cases = sweep_cases();
  EXPECT_GE(cases.size(), 60u);
  for (const OpCase& c : cases) {
    SCOPED_TRACE(c.label());
    const OpCase::Result r = c.run_reference();
    ASSERT_TRUE(r.status) << r.status.message();
    EXPECT_TRUE(r.inputs_unchanged);
    ASSERT_EQ(r.outputs.size(), 1u);
    EXPECT_TRUE(r.outputs[0].guards_intact());
    if (r.outputs[0].view().dtype == DType::kF32) {
      for (float v : to_floats(r.outputs[0])) ASSERT_TRUE(std::isfinite(v)) << "unwritten or non-finite output";
    }
    EXPECT_TRUE(matches_reference(c, engine::cpu::run_reference_op));
  }
}

TEST(ReferenceSweep, CoversEveryOpTheNetworksUse) {
  for (OpType t : {OpType::kConv2D, OpType::kDepthwiseConv2D, OpType::kMaxPool2D, OpType::kAvgPool2D, OpType::kResize,
                   OpType::kAdd, OpType::kPRelu, OpType::kConcat, OpType::kSlice, OpType::kPad, OpType::kSoftmax,
                   OpType::kMean, OpType::kSum, OpType::kTranspose, OpType::kGather}) {
    EXPECT_FALSE(sweep_cases(t).empty()) << engine::op_type_name(t);
  }
}

// Broken implementations: each runs the reference, then commits one fault.
Status write_past_end(const Op& op, std::span<const TensorView> in, std::span<const TensorView> out) {
  FACEPIPE_RETURN_IF_ERROR(engine::cpu::run_reference_op(op, in, out));
  static_cast<std::byte*>(out[0].data)[out[0].bytes()] = std::byte{0};  // one byte past the end
  return Status::ok();
}
Status write_before_start(const Op& op, std::span<const TensorView> in, std::span<const TensorView> out) {
  FACEPIPE_RETURN_IF_ERROR(engine::cpu::run_reference_op(op, in, out));
  static_cast<std::byte*>(out[0].data)[-1] = std::byte{0};
  return Status::ok();
}
Status skip_last_element(const Op& op, std::span<const TensorView> in, std::span<const TensorView> out) {
  FACEPIPE_RETURN_IF_ERROR(engine::cpu::run_reference_op(op, in, out));
  std::memset(static_cast<std::byte*>(out[0].data) + out[0].bytes() - 4, 0xFF, 4);  // as if never written
  return Status::ok();
}
Status perturb_one(const Op& op, std::span<const TensorView> in, std::span<const TensorView> out) {
  FACEPIPE_RETURN_IF_ERROR(engine::cpu::run_reference_op(op, in, out));
  out[0].as<float>()[3] += 1e-3f;
  return Status::ok();
}
Status clobber_input(const Op& op, std::span<const TensorView> in, std::span<const TensorView> out) {
  FACEPIPE_RETURN_IF_ERROR(engine::cpu::run_reference_op(op, in, out));
  in[0].as<float>()[0] = 42.f;
  return Status::ok();
}
Status refuse(const Op&, std::span<const TensorView>, std::span<const TensorView>) {
  return Status::error(StatusCode::kUnsupported, "not implemented");
}

TEST(OpTestUtil, CatchesBrokenImplementations) {
  const std::vector<OpCase> convs = sweep_cases(OpType::kConv2D);
  ASSERT_FALSE(convs.empty());
  const OpCase& c = convs.front();
  EXPECT_TRUE(matches_reference(c, engine::cpu::run_reference_op));
  EXPECT_FALSE(matches_reference(c, write_past_end));
  EXPECT_FALSE(matches_reference(c, write_before_start));
  EXPECT_FALSE(matches_reference(c, skip_last_element));
  EXPECT_FALSE(matches_reference(c, perturb_one, 1e-6));
  EXPECT_TRUE(matches_reference(c, perturb_one, 1e-2));  // within a loose tolerance
  EXPECT_FALSE(matches_reference(c, clobber_input));
  EXPECT_FALSE(matches_reference(c, refuse));
}

TEST(OpTestUtil, IntegerOutputsCompareExactly) {
  OpCase c("i64 add", make_op(OpType::kAdd));
  c.input_i64({3}, {1, 2, 3}).input_i64({1}, {10});
  EXPECT_EQ(reference_ints(c), (std::vector<int64_t>{11, 12, 13}));
  auto off_by_one = [](const Op& op, std::span<const TensorView> in, std::span<const TensorView> out) {
    FACEPIPE_RETURN_IF_ERROR(engine::cpu::run_reference_op(op, in, out));
    out[0].as<int64_t>()[2] += 1;
    return Status::ok();
  };
  EXPECT_FALSE(matches_reference(c, off_by_one));
}

TEST(OpTestUtil, PlanTimeInputsHideRunTimeData) {
  const std::vector<OpCase> convs = sweep_cases(OpType::kConv2D);
  const auto views = convs.front().plan_time_inputs();
  ASSERT_EQ(views.size(), 3u);
  EXPECT_EQ(views[0].data, nullptr);  // the activation input
  EXPECT_NE(views[1].data, nullptr);  // weights are constant
}

}  // namespace
}  // namespace facepipe::test
