// Conv-as-GEMM tiles for AVX2 + FMA (the baseline).
#include <cstdint>

#include "engine/cpu/optimized/conv_gemm.h"
#include "engine/cpu/optimized/simd_avx2.h"
#include "engine/cpu/optimized/vec_math.h"

namespace facepipe::engine::cpu::opt {
namespace {
#include "engine/cpu/optimized/conv_gemm_impl.h"
}  // namespace

// 16 ymm registers: 6x2 (12 accumulators + 2 weight vectors + 1 broadcast) is the classic shape;
// layers with at most 8 output channels use 12x1 so that no lanes are wasted.
ConvTileConfig conv_tile_config_avx2(int64_t out_c) {
  if (out_c <= 8) return {12, 1, Avx2::kLanes, &conv_run_tiles<Avx2, 12, 1>};
  return {6, 2, Avx2::kLanes, &conv_run_tiles<Avx2, 6, 2>};
}

}  // namespace facepipe::engine::cpu::opt
