#include "engine/op_test_util.h"

#include <cmath>
#include <cstring>
#include <random>
#include <sstream>

#include "common/half.h"
#include "engine/cpu/reference_ops.h"
#include "engine/plan/shape_inference.h"
#include "support/test_support.h"

namespace facepipe::test {

using engine::DType;
using engine::Op;
using engine::OpType;
using engine::Shape;
using engine::TensorDesc;
using engine::TensorView;

// ---- GuardedBuffer -----------------------------------------------------------------------------

GuardedBuffer::GuardedBuffer(DType dtype, const Shape& shape)
    : dtype_(dtype), shape_(shape), bytes_(static_cast<size_t>(shape.num_elements()) * engine::dtype_size(dtype)) {
  storage_.resize(bytes_ + 2 * kGuardBytes);
  std::memset(storage_.data(), kGuardByte, kGuardBytes);
  std::memset(storage_.data() + kGuardBytes, kPoisonByte, bytes_);
  std::memset(storage_.data() + kGuardBytes + bytes_, kGuardByte, kGuardBytes);
}

TensorView GuardedBuffer::view() const {
  // const_cast: the view is what the kernel writes through; the buffer object stays the owner.
  return TensorView{dtype_, shape_, const_cast<std::byte*>(body())};
}

bool GuardedBuffer::guards_intact() const {
  const std::byte* p = storage_.data();
  for (size_t i = 0; i < kGuardBytes; ++i) {
    if (p[i] != std::byte{kGuardByte} || p[kGuardBytes + bytes_ + i] != std::byte{kGuardByte}) return false;
  }
  return true;
}

// ---- OpCase ------------------------------------------------------------------------------------

Op make_op(OpType type, engine::OpAttrs attrs, std::string name) {
  Op op;
  op.type = type;
  op.attrs = std::move(attrs);
  op.name = name.empty() ? std::string(engine::op_type_name(type)) : std::move(name);
  return op;
}

OpCase::OpCase(std::string label, Op op, uint32_t seed) : label_(std::move(label)), op_(std::move(op)), seed_(seed) {
  renumber();
}

void OpCase::renumber() {
  op_.inputs.clear();
  for (size_t i = 0; i < inputs_.size(); ++i) op_.inputs.push_back(inputs_[i].present ? static_cast<int32_t>(i) : -1);
  op_.outputs = {static_cast<int32_t>(inputs_.size())};
}

OpCase& OpCase::add(DType dtype, const Shape& shape, const void* bytes) {
  Input in;
  in.dtype = dtype;
  in.shape = shape;
  in.present = true;
  const size_t size = static_cast<size_t>(shape.num_elements()) * engine::dtype_size(dtype);
  in.data.resize(size);
  if (size > 0) std::memcpy(in.data.data(), bytes, size);
  inputs_.push_back(std::move(in));
  renumber();
  return *this;
}

OpCase& OpCase::random_input(DType dtype, const Shape& shape, float lo, float hi) {
  // mt19937's output sequence is fixed by the standard (the distributions are not), so the values
  // are built from its raw bits.
  std::mt19937 rng(seed_ * 1000003u + static_cast<uint32_t>(inputs_.size()) * 7919u);
  const auto n = static_cast<size_t>(shape.num_elements());
  auto unit = [&] { return static_cast<float>(rng() >> 8) * (1.0f / 16777216.0f); };  // [0, 1)
  switch (dtype) {
    case DType::kF32: {
      std::vector<float> v(n);
      for (float& x : v) x = lo + (hi - lo) * unit();
      return add(dtype, shape, v.data());
    }
    case DType::kF16: {
      std::vector<uint16_t> v(n);
      for (uint16_t& x : v) x = float_to_half(lo + (hi - lo) * unit());
      return add(dtype, shape, v.data());
    }
    case DType::kI32:
    case DType::kI64: {
      const auto ilo = static_cast<int64_t>(std::ceil(lo)), ihi = static_cast<int64_t>(std::floor(hi));
      std::vector<int64_t> v(n);
      for (int64_t& x : v) x = ilo + static_cast<int64_t>(rng() % static_cast<uint32_t>(ihi - ilo + 1));
      if (dtype == DType::kI64) return add(dtype, shape, v.data());
      std::vector<int32_t> v32(v.begin(), v.end());
      return add(dtype, shape, v32.data());
    }
    default: {
      std::vector<uint8_t> v(n);
      for (uint8_t& x : v) x = static_cast<uint8_t>(rng());
      return add(dtype, shape, v.data());
    }
  }
}

OpCase& OpCase::input_f32(const Shape& shape, std::vector<float> values) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), shape.num_elements()) << label_;
  values.resize(static_cast<size_t>(shape.num_elements()));
  return add(DType::kF32, shape, values.data());
}

OpCase& OpCase::input_f16(const Shape& shape, const std::vector<float>& values) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), shape.num_elements()) << label_;
  std::vector<uint16_t> h(static_cast<size_t>(shape.num_elements()));
  for (size_t i = 0; i < h.size() && i < values.size(); ++i) h[i] = float_to_half(values[i]);
  return add(DType::kF16, shape, h.data());
}

OpCase& OpCase::input_i32(const Shape& shape, std::vector<int32_t> values) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), shape.num_elements()) << label_;
  values.resize(static_cast<size_t>(shape.num_elements()));
  return add(DType::kI32, shape, values.data());
}

OpCase& OpCase::input_i64(const Shape& shape, std::vector<int64_t> values) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), shape.num_elements()) << label_;
  values.resize(static_cast<size_t>(shape.num_elements()));
  return add(DType::kI64, shape, values.data());
}

OpCase& OpCase::absent_input() {
  inputs_.push_back(Input{});
  renumber();
  return *this;
}

OpCase& OpCase::constant() {
  if (!inputs_.empty()) inputs_.back().constant = true;
  return *this;
}

std::vector<TensorView> OpCase::inputs() const {
  std::vector<TensorView> views;
  for (const Input& in : inputs_) {
    TensorView v{in.dtype, in.shape, nullptr};
    if (in.present) v.data = const_cast<std::byte*>(in.data.data());
    views.push_back(v);
  }
  return views;
}

std::vector<TensorView> OpCase::plan_time_inputs() const {
  std::vector<TensorView> views = inputs();
  for (size_t i = 0; i < views.size(); ++i)
    if (!inputs_[i].constant) views[i].data = nullptr;
  return views;
}

std::vector<TensorDesc> OpCase::output_descs() const {
  std::vector<TensorDesc> descs(op_.outputs.size());
  const std::vector<TensorView> views = inputs();
  engine::infer_output_descs("test case '" + label_ + "'", op_, views, descs);
  return descs;
}

OpCase::Result OpCase::run(const OpImpl& impl) const {
  Result r;
  for (const TensorDesc& d : output_descs()) r.outputs.emplace_back(d.dtype, d.shape);
  std::vector<TensorView> out_views;
  for (const GuardedBuffer& b : r.outputs) out_views.push_back(b.view());
  // Snapshot the inputs to prove the implementation left them alone.
  std::vector<std::vector<std::byte>> before;
  for (const Input& in : inputs_) before.emplace_back(in.data.data(), in.data.data() + in.data.size());
  const std::vector<TensorView> views = inputs();
  r.status = impl(op_, views, out_views);
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (inputs_[i].data.size() && std::memcmp(before[i].data(), inputs_[i].data.data(), before[i].size()) != 0) {
      r.inputs_unchanged = false;
    }
  }
  return r;
}

OpCase::Result OpCase::run_reference() const { return run(engine::cpu::run_reference_op); }

// ---- Comparison --------------------------------------------------------------------------------

std::vector<float> to_floats(const GuardedBuffer& b) {
  const TensorView v = b.view();
  std::vector<float> out(static_cast<size_t>(v.num_elements()));
  for (size_t i = 0; i < out.size(); ++i) {
    switch (v.dtype) {
      case DType::kF32: out[i] = v.as<const float>()[i]; break;
      case DType::kF16: out[i] = half_to_float(v.as<const uint16_t>()[i]); break;
      case DType::kI32: out[i] = static_cast<float>(v.as<const int32_t>()[i]); break;
      case DType::kI64: out[i] = static_cast<float>(v.as<const int64_t>()[i]); break;
      default: out[i] = static_cast<float>(v.as<const uint8_t>()[i]); break;
    }
  }
  return out;
}

std::vector<int64_t> to_ints(const GuardedBuffer& b) {
  const TensorView v = b.view();
  std::vector<int64_t> out(static_cast<size_t>(v.num_elements()));
  for (size_t i = 0; i < out.size(); ++i) {
    switch (v.dtype) {
      case DType::kI32: out[i] = v.as<const int32_t>()[i]; break;
      case DType::kI64: out[i] = v.as<const int64_t>()[i]; break;
      case DType::kF32: out[i] = static_cast<int64_t>(v.as<const float>()[i]); break;
      default: out[i] = v.as<const uint8_t>()[i]; break;
    }
  }
  return out;
}

namespace {

bool is_float(DType d) { return d == DType::kF32 || d == DType::kF16; }

std::string describe_index(const Shape& shape, size_t flat) {
  std::string s = "[";
  std::vector<int64_t> idx(static_cast<size_t>(shape.rank()));
  for (int d = shape.rank() - 1; d >= 0; --d) {
    idx[static_cast<size_t>(d)] = static_cast<int64_t>(flat) % shape[d];
    flat /= static_cast<size_t>(shape[d]);
  }
  for (size_t d = 0; d < idx.size(); ++d) {
    if (d) s += ',';
    s += std::to_string(idx[d]);
  }
  return s + "]";
}

}  // namespace

::testing::AssertionResult matches_reference(const OpCase& c, const OpImpl& impl, double tolerance) {
  const std::string what = "'" + c.label() + "' (" + std::string(engine::op_type_name(c.op().type)) + "): ";
  try {
    const OpCase::Result ref = c.run_reference();
    if (!ref.status) return ::testing::AssertionFailure() << what << "reference failed: " << ref.status.message();
    const OpCase::Result got = c.run(impl);
    if (!got.status) return ::testing::AssertionFailure() << what << "implementation failed: " << got.status.message();
    if (!ref.inputs_unchanged) return ::testing::AssertionFailure() << what << "the reference modified its inputs";
    if (!got.inputs_unchanged) return ::testing::AssertionFailure() << what << "the implementation modified its inputs";
    for (size_t o = 0; o < ref.outputs.size(); ++o) {
      const GuardedBuffer& e = ref.outputs[o];
      const GuardedBuffer& a = got.outputs[o];
      const Shape& shape = e.view().shape;
      if (!e.guards_intact()) return ::testing::AssertionFailure() << what << "the reference wrote out of bounds";
      if (!a.guards_intact()) {
        return ::testing::AssertionFailure() << what << "output " << o << " (" << shape.to_string()
                                             << "): written outside its buffer (guard bytes changed)";
      }
      if (is_float(e.view().dtype)) {
        const std::vector<float> ev = to_floats(e), av = to_floats(a);
        const Deviation dev = compare(av.data(), ev.data(), ev.size());
        if (!(dev.normalized() <= tolerance)) {
          size_t worst = 0;
          double worst_err = -1;
          for (size_t i = 0; i < ev.size(); ++i) {
            double err = std::fabs(static_cast<double>(av[i]) - ev[i]);
            if (std::isnan(av[i]) != std::isnan(ev[i])) err = INFINITY;
            if (err > worst_err) worst_err = err, worst = i;
          }
          return ::testing::AssertionFailure()
                 << what << "output " << o << " (" << shape.to_string() << "): normalized error "
                 << dev.normalized() << " > " << tolerance << " (max abs " << dev.max_abs_error << ", max |ref| "
                 << dev.max_reference_magnitude << "); worst at " << describe_index(shape, worst) << ": got "
                 << av[worst] << ", expected " << ev[worst]
                 << (std::isnan(av[worst]) ? " (NaN: element never written?)" : "");
        }
      } else {
        if (std::memcmp(e.body(), a.body(), e.body_bytes()) != 0) {
          const std::vector<int64_t> ev = to_ints(e), av = to_ints(a);
          size_t i = 0;
          while (i < ev.size() && ev[i] == av[i]) ++i;
          return ::testing::AssertionFailure() << what << "output " << o << " (" << shape.to_string()
                                               << "): differs at " << describe_index(shape, i) << ": got "
                                               << (i < av.size() ? av[i] : 0) << ", expected " << (i < ev.size() ? ev[i] : 0);
        }
      }
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << what << "threw: " << e.what();
  }
}

std::vector<float> reference_f32(const OpCase& c) {
  const OpCase::Result r = c.run_reference();
  if (!r.status) {
    ADD_FAILURE() << c.label() << ": reference failed: " << r.status.message();
    return {};
  }
  EXPECT_TRUE(r.outputs.at(0).guards_intact()) << c.label();
  return to_floats(r.outputs.at(0));
}

std::vector<int64_t> reference_ints(const OpCase& c) {
  const OpCase::Result r = c.run_reference();
  if (!r.status) {
    ADD_FAILURE() << c.label() << ": reference failed: " << r.status.message();
    return {};
  }
  EXPECT_TRUE(r.outputs.at(0).guards_intact()) << c.label();
  return to_ints(r.outputs.at(0));
}

}  // namespace facepipe::test
