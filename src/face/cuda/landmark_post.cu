// Landmark network outputs → image pixels and presence (CPU: face/roi/roi.cpp project_landmarks,
// face_presence_score), and the blendshape network's input (face/blendshapes/blendshape_input.cpp).
// One thread per landmark; the float arithmetic is the CPU's (see detection_post.cu for how the
// contracted forms were read off the CPU build). project_landmarks' main loop is vectorized by GCC
// with fused multiply-subtract for the rotation (c*x - s*y as fma(c, x, -(s*y))), its scalar tail
// is not: the kernel follows the main loop, so the last few landmarks of a face may differ from the
// CPU by one rounding of the rotated offset (< 1e-4 px at 1080p scales).
#include <cstdint>

#include "face/blendshapes/blendshape_input.h"
#include "face/cuda/detection_record.h"
#include "face/cuda/face_post_cuda.h"

namespace facepipe::face::cuda {

namespace {

// glibc's expf / sinf / cosf are (all but) correctly rounded: double, then round.
__device__ __forceinline__ float exp_rounded(float x) { return static_cast<float>(exp(static_cast<double>(x))); }

struct ProjectArgs {
  const float* raw;
  const float* presence_logits;
  int presence_stride;
  const LandmarkCrop* crops;
  int n, count, input_size;
  Landmark* out;
  float* presence;
};

__global__ void project_landmarks_kernel(const ProjectArgs p) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const int k = blockIdx.y;
  if (k >= p.n) return;
  const LandmarkCrop crop = p.crops[k];
  if (i == 0 && p.presence_logits && p.presence) {
    // face_presence_score: 1 / (1 + exp(-logit)).
    const float logit = p.presence_logits[static_cast<int64_t>(k) * p.presence_stride];
    p.presence[k] = __fdiv_rn(1.0f, __fadd_rn(1.0f, exp_rounded(-logit)));
  }
  if (i >= p.count) return;
  const float inv = __fdiv_rn(1.0f, static_cast<float>(p.input_size));
  const double r = static_cast<double>(crop.rotation);
  const float c = static_cast<float>(cos(r)), s = static_cast<float>(sin(r));
  // z_scale_factor: width * sqrt(c * c + (s * aspect)^2), the first product fused.
  const float sa = __fmul_rn(s, crop.image_aspect);
  const float z_scale = __fmul_rn(crop.width, __fsqrt_rn(__fmaf_rn(c, c, __fmul_rn(sa, sa))));
  const float* raw = p.raw + (static_cast<int64_t>(k) * p.count + i) * 3;
  const float x = __fmaf_rn(raw[0], inv, -0.5f);
  const float y = __fmaf_rn(raw[1], inv, -0.5f);
  const float z = __fmul_rn(raw[2], inv);
  const float rx = __fmaf_rn(c, x, -__fmul_rn(s, y));
  const float ry = __fmaf_rn(s, x, __fmul_rn(c, y));
  Landmark& o = p.out[static_cast<int64_t>(k) * p.count + i];
  o.x = __fmaf_rn(rx, crop.width, crop.cx);
  o.y = __fmaf_rn(ry, crop.height, crop.cy);
  o.z = __fmul_rn(z, z_scale);
}

struct BlendshapeArgs {
  const Landmark* landmarks;
  int n;
  float* out;
  uint16_t subset[kNumBlendshapeInputLandmarks];
};

__global__ void blendshape_input_kernel(const BlendshapeArgs p) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const int k = blockIdx.y;
  if (i >= kNumBlendshapeInputLandmarks || k >= p.n) return;
  const Landmark l = p.landmarks[static_cast<int64_t>(k) * kNumLandmarks + p.subset[i]];
  float* o = p.out + (static_cast<int64_t>(k) * kNumBlendshapeInputLandmarks + i) * 2;
  o[0] = l.x;
  o[1] = l.y;
}

Status launch_status(const char* what) {
  return cudaGetLastError() == cudaSuccess ? Status::ok() : Status::error(StatusCode::kDeviceError, what);
}

constexpr int kMaxGridY = 65535;

}  // namespace

Status project_landmarks_cuda(const float* raw_xyz, const float* presence_logits, int presence_stride,
                              const LandmarkCrop* crops_device, int n, int count, int input_size,
                              Landmark* landmarks_device, float* presence_device, cudaStream_t stream) {
  if (n < 0 || count < 0) return Status::error(StatusCode::kInvalidArgument, "project_landmarks_cuda: negative size");
  if (n == 0) return Status::ok();
  if (n > kMaxGridY) return Status::error(StatusCode::kInvalidArgument, "project_landmarks_cuda: more than 65535 crops");
  if (!raw_xyz || !crops_device || (count > 0 && !landmarks_device))
    return Status::error(StatusCode::kInvalidArgument, "project_landmarks_cuda: null pointer");
  if (input_size <= 0) return Status::error(StatusCode::kInvalidArgument, "project_landmarks_cuda: input size must be positive");
  if (presence_logits && presence_device && presence_stride < 1)
    return Status::error(StatusCode::kInvalidArgument, "project_landmarks_cuda: presence stride must be positive");
  ProjectArgs a{raw_xyz, presence_logits, presence_stride, crops_device, n, count, input_size, landmarks_device,
                presence_device};
  const int threads = 128;
  const dim3 grid(static_cast<unsigned>((count > 0 ? count : 1) + threads - 1) / threads, static_cast<unsigned>(n));
  project_landmarks_kernel<<<grid, threads, 0, stream>>>(a);
  return launch_status("project_landmarks_cuda: launch failed");
}

Status build_blendshape_input_cuda(const Landmark* landmarks_device, int n, float* input_device, cudaStream_t stream) {
  if (n < 0) return Status::error(StatusCode::kInvalidArgument, "blendshape_input_cuda: negative count");
  if (n == 0) return Status::ok();
  if (n > kMaxGridY) return Status::error(StatusCode::kInvalidArgument, "blendshape_input_cuda: more than 65535 faces");
  if (!landmarks_device || !input_device)
    return Status::error(StatusCode::kInvalidArgument, "blendshape_input_cuda: null pointer");
  BlendshapeArgs a{};
  a.landmarks = landmarks_device;
  a.n = n;
  a.out = input_device;
  for (int i = 0; i < kNumBlendshapeInputLandmarks; ++i) a.subset[i] = kBlendshapeLandmarkSubset[static_cast<size_t>(i)];
  const int threads = 160;  // >= 146
  blendshape_input_kernel<<<dim3(1, static_cast<unsigned>(n)), threads, 0, stream>>>(a);
  return launch_status("blendshape_input_cuda: launch failed");
}

}  // namespace facepipe::face::cuda
