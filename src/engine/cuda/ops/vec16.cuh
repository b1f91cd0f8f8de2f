// 16-byte vector access for the bandwidth-bound conv kernels (conv_direct.cu, depthwise.cu): a
// vector is 8 f16 or 4 f32 consecutive channels of one pixel, moved by one 128-bit load or store
// instead of 8 (4) scalar ones, and unpacked to f32 registers. The caller guarantees 16-byte
// alignment (plan-time checks: channel counts multiple of kVec<T>, base pointers aligned), and the
// vector epilogue below computes exactly what apply_epilogue computes per element.
#pragma once

#include <cstdint>
#include <type_traits>

#include "engine/cuda/ops/common.cuh"

namespace facepipe::engine::cuda {

template <typename T> inline constexpr int kVec = 16 / static_cast<int>(sizeof(T));

inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <typename T>
__device__ __forceinline__ void unpack_vec(const uint4 raw, float (&out)[kVec<T>]) {
  if constexpr (std::is_same_v<T, float>) {
    out[0] = __uint_as_float(raw.x);
    out[1] = __uint_as_float(raw.y);
    out[2] = __uint_as_float(raw.z);
    out[3] = __uint_as_float(raw.w);
  } else {
    const unsigned words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      __half2 h;
      static_assert(sizeof(h) == sizeof(unsigned));
      __builtin_memcpy(&h, &words[q], sizeof(h));
      const float2 f = __half22float2(h);
      out[2 * q] = f.x;
      out[2 * q + 1] = f.y;
    }
  }
}

template <typename T>
__device__ __forceinline__ uint4 load_raw(const T* p) {
  return *reinterpret_cast<const uint4*>(p);
}

template <typename T>
__device__ __forceinline__ void load_vec(const T* p, float (&out)[kVec<T>]) {
  unpack_vec<T>(load_raw(p), out);
}

// Rounds like store_f32 (round to nearest even per element).
template <typename T>
__device__ __forceinline__ void store_vec(T* p, const float (&v)[kVec<T>]) {
  uint4 raw;
  if constexpr (std::is_same_v<T, float>) {
    raw = make_uint4(__float_as_uint(v[0]), __float_as_uint(v[1]), __float_as_uint(v[2]), __float_as_uint(v[3]));
  } else {
    unsigned words[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const __half2 h = __floats2half2_rn(v[2 * q], v[2 * q + 1]);
      __builtin_memcpy(&words[q], &h, sizeof(h));
    }
    raw = make_uint4(words[0], words[1], words[2], words[3]);
  }
  *reinterpret_cast<uint4*>(p) = raw;
}

// The per-channel terms of the epilogue for the V channels c0.. of a thread, loaded once (the
// thread stores several pixels of the same channels).
template <int V> struct ChannelTerms {
  float bias[V], prelu1[V], prelu2[V];
  __device__ __forceinline__ void load(const Epilogue& e, int c0) {
#pragma unroll
    for (int j = 0; j < V; ++j) {
      bias[j] = e.bias ? e.bias[c0 + j] : 0.f;
      prelu1[j] = e.prelu1 ? e.prelu1[c0 + j] : 0.f;
      prelu2[j] = e.prelu2 ? e.prelu2[c0 + j] : 0.f;
    }
  }
};

// apply_epilogue for kVec<T> consecutive channels at flat output index i0 (16-byte aligned): the
// same operations in the same order, with the residual read as one vector.
template <typename T>
__device__ __forceinline__ void apply_epilogue_vec(const Epilogue& e, const ChannelTerms<kVec<T>>& t,
                                                   float (&v)[kVec<T>], int64_t i0) {
  constexpr int V = kVec<T>;
#pragma unroll
  for (int j = 0; j < V; ++j) {
    if (e.bias) v[j] += t.bias[j];
    v[j] = activate(v[j], e.act, e.alpha);
    if (e.prelu1 && v[j] < 0.f) v[j] *= t.prelu1[j];
  }
  if (e.residual) {
    float r[V];
    load_vec(static_cast<const T*>(e.residual) + i0, r);
#pragma unroll
    for (int j = 0; j < V; ++j) v[j] = activate(v[j] + r[j], e.act2, e.alpha2);
  }
#pragma unroll
  for (int j = 0; j < V; ++j)
    if (e.prelu2 && v[j] < 0.f) v[j] *= t.prelu2[j];
}

}  // namespace facepipe::engine::cuda
