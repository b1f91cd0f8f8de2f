// Conv-as-GEMM tiles for AVX-512F, chosen at plan time when the CPU has it (isa.h). Everything
// compiled for AVX-512 lives in the anonymous namespace below the target pragma (see
// simd_avx512.h for why); only the config function is exported.
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "engine/cpu/optimized/conv_gemm.h"
#include "engine/ir/op.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#else
#pragma GCC push_options
// GCC 12 reports its own _mm512_undefined_* helpers as uninitialized; a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx512f")
#endif

namespace facepipe::engine::cpu::opt {
namespace {
#include "engine/cpu/optimized/simd_avx512.h"
}  // namespace
}  // namespace facepipe::engine::cpu::opt

#include "engine/cpu/optimized/vec_math.h"

namespace facepipe::engine::cpu::opt {
namespace {
#include "engine/cpu/optimized/conv_gemm_impl.h"
}  // namespace
}  // namespace facepipe::engine::cpu::opt

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace facepipe::engine::cpu::opt {

// 32 zmm registers. Wide layers: 6 pixels x 4 vectors (24 accumulators, 64 channels); 32
// channels: 12x2; 16 or fewer: 12x1 (8-channel layers are better served by AVX2, see the planner).
ConvTileConfig conv_tile_config_avx512(int64_t out_c) {
  if (out_c <= 16) return {12, 1, Avx512::kLanes, &conv_run_tiles<Avx512, 12, 1>};
  if (out_c <= 32) return {12, 2, Avx512::kLanes, &conv_run_tiles<Avx512, 12, 2>};
  if (out_c <= 48) return {8, 3, Avx512::kLanes, &conv_run_tiles<Avx512, 8, 3>};
  return {6, 4, Avx512::kLanes, &conv_run_tiles<Avx512, 6, 4>};
}

}  // namespace facepipe::engine::cpu::opt
