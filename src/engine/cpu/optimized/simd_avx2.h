// AVX2 + FMA vector traits (8 x f32): the baseline ISA of every optimized CPU kernel.
//
// Kernels are templates over an "ISA traits" type (this one, or Avx512 in simd_avx512.h) that
// offers the same static functions, so one kernel source serves both vector widths. Only files
// compiled for the baseline ISA may include this header (see simd_avx512.h for why).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace facepipe::engine::cpu::opt {

struct Avx2 {
  using V = __m256;
  static constexpr int kLanes = 8;
  static constexpr const char* kName = "avx2";

  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float v) { return _mm256_set1_ps(v); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V bcast(const float* p) { return _mm256_broadcast_ss(p); }
  // First n lanes (0 < n <= 8); the rest read as zero and are never touched in memory.
  static __m256i lane_mask(int n) {
    alignas(32) static constexpr int32_t kTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTable + 8 - n));
  }
  static V load_partial(const float* p, int n) { return _mm256_maskload_ps(p, lane_mask(n)); }
  static void store_partial(float* p, V v, int n) { _mm256_maskstore_ps(p, lane_mask(n), v); }

  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }   // a * b + c
  static V fnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); } // c - a * b
  // x < 0 ? if_neg : if_not_neg (NaN counts as not negative).
  static V select_neg(V x, V if_neg, V if_not_neg) {
    return _mm256_blendv_ps(if_not_neg, if_neg, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
  }
  static V round_nearest(V x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // 2^n for integral-valued n in [-126, 127].
  static V pow2(V n) {
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_castsi256_ps(bits);
  }
  static V abs(V x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), x); }
  static V copysign(V magnitude, V sign_from) {
    const V sign = _mm256_set1_ps(-0.f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, magnitude), _mm256_and_ps(sign, sign_from));
  }
};

}  // namespace facepipe::engine::cpu::opt
