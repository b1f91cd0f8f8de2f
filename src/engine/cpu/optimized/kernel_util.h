// Small plan-time helpers shared by the optimized kernels.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>

#include "common/aligned_buffer.h"
#include "common/status.h"
#include "engine/ir/op.h"
#include "engine/ir/tensor_view.h"

namespace facepipe::engine::cpu::opt {

inline int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

inline bool is_f32(const TensorDesc& d) { return d.dtype == DType::kF32 && d.shape.is_static(); }
inline bool is_f32(const TensorView& v) { return v.dtype == DType::kF32 && v.shape.is_static(); }

// A float buffer of `count` values (zero-padded to `padded`) copied from `values` (may be empty).
inline AlignedBuffer padded_copy(std::span<const float> values, int64_t padded) {
  AlignedBuffer buf(static_cast<size_t>(std::max<int64_t>(padded, 1)) * sizeof(float));
  std::copy(values.begin(), values.end(), buf.as<float>());
  return buf;
}

// Grain (in work items) so that each parallel chunk does at least ~`min_flops` of work.
inline int64_t grain_for(double flops_per_item, double min_flops = 2e5) {
  return std::max<int64_t>(1, static_cast<int64_t>(min_flops / std::max(1.0, flops_per_item)));
}

// Per-channel slope vector of a PReLU alpha with shape [C], [1, C], [1, 1, C], ... (only the last
// dimension may differ from 1), or an empty span.
inline std::span<const float> per_channel_values(const TensorView& t, int64_t channels) {
  if (!t.present() || t.dtype != DType::kF32 || t.shape.rank() < 1) return {};
  if (t.shape[t.shape.rank() - 1] != channels || t.num_elements() != channels) return {};
  return {t.as<const float>(), static_cast<size_t>(channels)};
}

}  // namespace facepipe::engine::cpu::opt
