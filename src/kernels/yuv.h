// BT.601 limited-range YUV → full-range 8-bit RGB in 8.8 fixed point: the one formula every
// consumer of NV12/YUYV frames uses, on the GPU (kernels/cuda/pixel_fetch.cuh: convert_frame_cuda
// and the sampling kernels) and on the CPU (media's NV12 → packed conversion, the runtime's NV12
// preview), so that what the CPU shows of a frame is what the GPU sampled. The CPU gold in
// tests/gpu/kernels_convert_cuda_test.cpp is the independent spec.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define FACEPIPE_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define FACEPIPE_HOST_DEVICE inline
#endif

namespace facepipe::kernels {

struct Rgb8 {
  uint8_t r, g, b;
};

FACEPIPE_HOST_DEVICE uint8_t clamp_u8(int v) { return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v)); }

// c = Y - 16, d = U - 128, e = V - 128; R = (298c + 409e + 128) >> 8, G = (298c - 100d - 208e +
// 128) >> 8, B = (298c + 516d + 128) >> 8, each clamped (`>>` of a negative int is an arithmetic
// shift on the host compilers and in CUDA, as in the gold).
FACEPIPE_HOST_DEVICE Rgb8 yuv_to_rgb(int y, int u, int v) {
  const int c = y - 16, d = u - 128, e = v - 128;
  return Rgb8{clamp_u8((298 * c + 409 * e + 128) >> 8), clamp_u8((298 * c - 100 * d - 208 * e + 128) >> 8),
              clamp_u8((298 * c + 516 * d + 128) >> 8)};
}

}  // namespace facepipe::kernels
