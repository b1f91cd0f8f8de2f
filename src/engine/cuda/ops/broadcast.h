// numpy broadcasting of two operands into an output, collapsed for the kernels: size-1 output
// dimensions are dropped and neighbouring dimensions merged wherever both operands either span or
// broadcast both, so a bias-like [N,H,W,C] + [C] becomes a 2-d walk. Host-side, plan time.
#pragma once

#include <cstdint>

#include "engine/ir/shape.h"

namespace facepipe::engine::cuda {

struct BroadcastIndex {
  int rank = 0;                 // collapsed rank (0: a single element)
  int32_t dims[8] = {};         // collapsed output dimensions
  int32_t a_strides[8] = {};    // element strides of operand a per collapsed dim (0: broadcast)
  int32_t b_strides[8] = {};
};

BroadcastIndex collapse_broadcast(const Shape& out, const Shape& a, const Shape& b);

}  // namespace facepipe::engine::cuda
