// Vector access for the conv kernels: a 16-byte vector (conv_direct.cu, depthwise_vec.cu) is 8 f16
// or 4 f32 consecutive channels of one pixel, moved by one 128-bit load or store instead of 8 (4)
// scalar ones, and unpacked to f32 registers; the lane-group conv (conv_warp.cu) also loads 8, 4
// and 2-byte vectors along K. The caller guarantees 16-byte
// alignment (plan-time checks: channel counts multiple of kVec<T>, base pointers aligned), and the
// vector epilogue below computes exactly what apply_epilogue computes per element.
#pragma once

#include <cstdint>
#include <type_traits>

#include "engine/cuda/ops/common.cuh"

namespace facepipe::engine::cuda {

template <typename T> inline constexpr int kVec = 16 / static_cast<int>(sizeof(T));

inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// The unsigned type of `Bytes` bytes: what one load instruction moves.
template <int Bytes> struct RawOf;
template <> struct RawOf<16> { using type = uint4; };
template <> struct RawOf<8> { using type = uint2; };
template <> struct RawOf<4> { using type = uint32_t; };
template <> struct RawOf<2> { using type = uint16_t; };
template <typename T, int V> using RawVec = typename RawOf<V * static_cast<int>(sizeof(T))>::type;

// The V elements of T held in `raw` (one load's worth), as f32: f16 in pairs, f32 as they are.
template <typename T, int V = kVec<T>>
__device__ __forceinline__ void unpack_vec(const RawVec<T, V>& raw, float (&out)[V]) {
  if constexpr (std::is_same_v<T, __half> && V >= 2) {
#pragma unroll
    for (int q = 0; q < V / 2; ++q) {
      __half2 h;
      __builtin_memcpy(&h, reinterpret_cast<const unsigned char*>(&raw) + q * sizeof(h), sizeof(h));
      const float2 f = __half22float2(h);
      out[2 * q] = f.x;
      out[2 * q + 1] = f.y;
    }
  } else {
#pragma unroll
    for (int q = 0; q < V; ++q) {
      T e;
      __builtin_memcpy(&e, reinterpret_cast<const unsigned char*>(&raw) + q * sizeof(T), sizeof(T));
      out[q] = load_f32(&e, 0);
    }
  }
}

template <typename T>
__device__ __forceinline__ uint4 load_raw(const T* p) {
  return *reinterpret_cast<const uint4*>(p);
}

// V consecutive elements (16 bytes by default; the lane-group conv also loads 8/4/2 bytes) in one
// load, as f32. `p` is aligned to the load's size.
template <typename T, int V>
__device__ __forceinline__ void load_vec(const T* p, float (&out)[V]) {
  unpack_vec<T, V>(*reinterpret_cast<const RawVec<T, V>*>(p), out);
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
