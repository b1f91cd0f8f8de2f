// RetinaFace and BlazeFace post-processing on the GPU: one thread block per image does the whole
// job (threshold, keep the strongest candidates, sort, decode, NMS), so a batch is one launch and
// nothing returns to the host in between.
//
// Parity with the CPU (face/detection/retinaface.cpp, blazeface.cpp) is by construction: the float
// expressions are written with explicit __f*_rn / __fmaf_rn intrinsics in the form that GCC compiles
// the CPU code to (-O3 -march=x86-64-v3, -ffp-contract=fast: e.g. `pcx + l * v0 * pw` becomes
// fma(l * v0, pw, pcx); read from the object code), so nvcc cannot contract them differently; expf
// is evaluated in double and rounded (what glibc's expf returns, to the last bit, but for ties far
// rarer than 1 in 10^8). Candidate order is (score descending, index ascending) through 64-bit keys
// (ordered score bits << 32 | ~index), which is the CPU RetinaFace's sort exactly.
//
// Keeping the strongest max_candidates (RetinaFace's top_k) never overflows: a first pass counts
// the candidates; when there are more than max_candidates, an 8-pass radix select (8 bits of the
// 64-bit key per pass, histogram in shared memory) finds the key of the max_candidates-th strongest,
// and only keys at or above it are compacted. Keys are unique, so exactly max_candidates remain.
#include <cstdint>

#include "face/cuda/detection_record.h"
#include "face/cuda/face_post_cuda.h"

namespace facepipe::face::cuda {

namespace {

constexpr int kRetinaThreads = 512;
constexpr int kBlazeThreads = 256;
// Scratch (sort keys and flags) lives in shared memory when it fits under the default 48 KiB limit
// (minus the kernels' static shared memory), else in the workspace.
constexpr size_t kMaxDynamicShared = 40 * 1024;
constexpr int kMaxCandidatesLimit = 1 << 22;
constexpr int kRetinaLevels = 3;

using Key = unsigned long long;

size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

uint32_t next_pow2(uint32_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

__device__ __forceinline__ uint32_t device_next_pow2(uint32_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

// A key whose unsigned order is (score ascending, index descending): larger = stronger, and among
// equal scores the lower index is stronger, as in the CPU's sort. -0 counts as +0 (they compare equal).
__device__ __forceinline__ Key candidate_key(float score, uint32_t index) {
  if (score == 0.0f) score = 0.0f;
  uint32_t u = __float_as_uint(score);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return (static_cast<Key>(u) << 32) | static_cast<Key>(0xFFFFFFFFu - index);
}
__device__ __forceinline__ uint32_t key_index(Key key) { return 0xFFFFFFFFu - static_cast<uint32_t>(key & 0xFFFFFFFFull); }

// glibc's expf is (all but) correctly rounded; CUDA's expf is not (2 ulp). Double, then round.
__device__ __forceinline__ float exp_rounded(float x) { return static_cast<float>(exp(static_cast<double>(x))); }

__device__ __forceinline__ unsigned warp_sum(unsigned v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xFFFFFFFFu, v, o);
  return v;
}

// Sorts keys[0, n) ascending with one block (bitonic network over the next power of two; the
// padding is ~0, which sorts last). keys must hold device_next_pow2(n) entries.
__device__ void block_bitonic_sort(Key* keys, int n) {
  const uint32_t m = device_next_pow2(static_cast<uint32_t>(n > 0 ? n : 1));
  for (uint32_t i = static_cast<uint32_t>(n) + threadIdx.x; i < m; i += blockDim.x) keys[i] = ~0ull;
  __syncthreads();
  for (uint32_t k = 2; k <= m; k <<= 1) {
    for (uint32_t j = k >> 1; j > 0; j >>= 1) {
      for (uint32_t i = threadIdx.x; i < m; i += blockDim.x) {
        const uint32_t p = i ^ j;
        if (p > i) {
          const Key a = keys[i], b = keys[p];
          const bool ascending = (i & k) == 0;
          if (ascending ? (a > b) : (a < b)) {
            keys[i] = b;
            keys[p] = a;
          }
        }
      }
      __syncthreads();
    }
  }
}

Status launch_status(const char* what) {
  return cudaGetLastError() == cudaSuccess ? Status::ok() : Status::error(StatusCode::kDeviceError, what);
}

// Where both decoders sort and suppress, and where they write. Per image: key_capacity sort keys
// and a byte of flags per candidate, in dynamic shared memory when they fit (in_shared), else at
// keys_offset / flags_offset of the image's slice of the workspace (image_stride bytes, which also
// holds each decoder's own arrays).
struct PostScratch {
  uint32_t key_capacity;
  unsigned char* workspace;
  size_t image_stride, keys_offset, flags_offset;
  bool in_shared;
  DetectionRecord* out;
  int* counts;

  __device__ unsigned char* image_workspace(int b) const { return workspace + static_cast<size_t>(b) * image_stride; }
  __device__ Key* keys(int b, Key* dynamic_shared) const {
    return in_shared ? dynamic_shared : reinterpret_cast<Key*>(image_workspace(b) + keys_offset);
  }
  __device__ unsigned char* flags(int b, Key* dynamic_shared) const {
    return in_shared ? reinterpret_cast<unsigned char*>(dynamic_shared + key_capacity) : image_workspace(b) + flags_offset;
  }
};

// The host side of PostScratch: each decoder's layout adds its own offsets.
struct ScratchLayout {
  uint32_t key_capacity = 0;
  size_t keys_offset = 0, flags_offset = 0, image_stride = 0;
  size_t shared_bytes = 0;  // scratch size when it goes to shared memory
  size_t launch_shared_bytes() const { return shared_bytes <= kMaxDynamicShared ? shared_bytes : 0; }
};

// Lays out one image's workspace slice for `candidates` sort keys, then the decoder's own
// `own_bytes`, then `flag_bytes` of flags (each part 256-byte aligned); returns where its own part
// starts.
size_t lay_out_scratch(ScratchLayout& l, size_t candidates, size_t own_bytes, size_t flag_bytes) {
  l.key_capacity = next_pow2(static_cast<uint32_t>(candidates));
  l.keys_offset = 0;
  const size_t own_offset = align_up(l.key_capacity * sizeof(Key), 256);
  l.flags_offset = align_up(own_offset + own_bytes, 256);
  l.image_stride = align_up(l.flags_offset + flag_bytes, 256);
  l.shared_bytes = l.key_capacity * sizeof(Key) + flag_bytes;
  return own_offset;
}

PostScratch post_scratch(const ScratchLayout& l, void* workspace, Detection* detections, int* counts) {
  return PostScratch{l.key_capacity,
                     static_cast<unsigned char*>(workspace),
                     l.image_stride,
                     l.keys_offset,
                     l.flags_offset,
                     l.shared_bytes <= kMaxDynamicShared,
                     reinterpret_cast<DetectionRecord*>(detections),
                     counts};
}

// ================================ RetinaFace =====================================================

struct RetinaArgs {
  const float* loc;
  const float* conf;
  const float* landmarks;
  const float* scale_xy;
  int num_priors;
  float tensor_width, tensor_height;
  int steps[kRetinaLevels];
  int cols[kRetinaLevels];
  int level_begin[kRetinaLevels + 1];  // first prior of each level; [3] = num_priors
  float min_sizes[kRetinaLevels][2];
  float v0, v1;
  float threshold, nms_threshold;
  int max_candidates, max_detections;
  size_t boxes_offset;  // decoded boxes in the image's workspace slice
  PostScratch scratch;  // key_capacity = next_pow2(max_candidates)
};

// The CPU's prior (pcx, pcy, pw, ph), tensor-normalized, for prior index `a`.
struct Prior {
  float cx, cy, w, h;
};
__device__ Prior retina_prior(const RetinaArgs& p, int a) {
  int level = 0;
  while (level < kRetinaLevels - 1 && a >= p.level_begin[level + 1]) ++level;
  const int r = a - p.level_begin[level];
  const int cell = r / 2, size_index = r % 2;
  const int i = cell / p.cols[level], j = cell % p.cols[level];
  const float step = static_cast<float>(p.steps[level]);
  const float min_size = p.min_sizes[level][size_index];
  Prior q;
  // (j + 0.5f) * step / tw, evaluated left to right.
  q.cx = __fdiv_rn(__fmul_rn(__fadd_rn(static_cast<float>(j), 0.5f), step), p.tensor_width);
  q.cy = __fdiv_rn(__fmul_rn(__fadd_rn(static_cast<float>(i), 0.5f), step), p.tensor_height);
  q.w = __fdiv_rn(min_size, p.tensor_width);
  q.h = __fdiv_rn(min_size, p.tensor_height);
  return q;
}

// std::min / std::max as libstdc++ defines them (the NaN behaviour included).
__device__ __forceinline__ float std_min(float a, float b) { return b < a ? b : a; }
__device__ __forceinline__ float std_max(float a, float b) { return a < b ? b : a; }

__global__ void __launch_bounds__(kRetinaThreads) retinaface_post_kernel(const RetinaArgs p) {
  extern __shared__ Key dynamic_shared[];
  __shared__ unsigned int histogram[256];
  __shared__ unsigned int s_total, s_compacted, s_remaining;
  __shared__ Key s_prefix;

  const int b = blockIdx.x;
  const int tid = threadIdx.x;
  const int A = p.num_priors;
  const int K = p.max_candidates;
  const float* conf = p.conf + static_cast<int64_t>(b) * A * 2;
  const float* loc = p.loc + static_cast<int64_t>(b) * A * 4;
  const float* lms = p.landmarks + static_cast<int64_t>(b) * A * 10;
  Key* keys = p.scratch.keys(b, dynamic_shared);
  unsigned char* suppressed = p.scratch.flags(b, dynamic_shared);
  float4* boxes = reinterpret_cast<float4*>(p.scratch.image_workspace(b) + p.boxes_offset);
  const float threshold = p.threshold;

  // 1. Count the candidates (score > threshold; NaN never is).
  if (tid == 0) {
    s_total = 0;
    s_compacted = 0;
  }
  __syncthreads();
  unsigned local = 0;
  for (int a = tid; a < A; a += blockDim.x) local += conf[2 * a + 1] > threshold ? 1u : 0u;
  local = warp_sum(local);
  if ((tid & 31) == 0 && local) atomicAdd(&s_total, local);
  __syncthreads();
  const unsigned total = s_total;

  // 2. More than K: radix-select the key of the K-th strongest (keys are unique), 8 bits a pass.
  Key cut = 0;
  if (total > static_cast<unsigned>(K)) {
    Key prefix = 0, mask = 0;
    unsigned remaining = static_cast<unsigned>(K);
    for (int shift = 56; shift >= 0; shift -= 8) {
      for (int i = tid; i < 256; i += blockDim.x) histogram[i] = 0;
      __syncthreads();
      for (int a = tid; a < A; a += blockDim.x) {
        const float s = conf[2 * a + 1];
        if (!(s > threshold)) continue;
        const Key k = candidate_key(s, static_cast<uint32_t>(a));
        if ((k & mask) == prefix) atomicAdd(&histogram[(k >> shift) & 0xFF], 1u);
      }
      __syncthreads();
      if (tid == 0) {
        // The digit holding the remaining-th largest key among those matching the prefix.
        unsigned above = 0;
        int d = 255;
        for (; d > 0; --d) {
          if (above + histogram[d] >= remaining) break;
          above += histogram[d];
        }
        s_remaining = remaining - above;
        s_prefix = prefix | (static_cast<Key>(d) << shift);
      }
      __syncthreads();
      remaining = s_remaining;
      prefix = s_prefix;
      mask |= 0xFFull << shift;
      __syncthreads();  // everyone has read s_* before thread 0 may write them again
    }
    cut = prefix;
  }

  // 3. Compact the kept candidates' keys (complemented: ascending sort = strongest first).
  for (int a = tid; a < A; a += blockDim.x) {
    const float s = conf[2 * a + 1];
    if (!(s > threshold)) continue;
    const Key k = candidate_key(s, static_cast<uint32_t>(a));
    if (k < cut) continue;
    const unsigned pos = atomicAdd(&s_compacted, 1u);
    if (pos < static_cast<unsigned>(K)) keys[pos] = ~k;
  }
  __syncthreads();
  const int n = static_cast<int>(min(s_compacted, static_cast<unsigned>(K)));

  // 4. Sort, then decode the boxes of the sorted candidates (image pixels, the CPU's arithmetic).
  block_bitonic_sort(keys, n);
  const float tw = p.tensor_width, th = p.tensor_height;
  const float sx = __fmul_rn(tw, p.scale_xy[2 * b]), sy = __fmul_rn(th, p.scale_xy[2 * b + 1]);
  for (int i = tid; i < n; i += blockDim.x) {
    const int a = static_cast<int>(key_index(~keys[i]));
    const Prior q = retina_prior(p, a);
    const float* l = loc + 4 * static_cast<int64_t>(a);
    const float cx = __fmaf_rn(__fmul_rn(l[0], p.v0), q.w, q.cx);
    const float cy = __fmaf_rn(__fmul_rn(l[1], p.v0), q.h, q.cy);
    const float w = __fmul_rn(q.w, exp_rounded(__fmul_rn(l[2], p.v1)));
    const float h = __fmul_rn(q.h, exp_rounded(__fmul_rn(l[3], p.v1)));
    const float hw = __fmul_rn(w, 0.5f), hh = __fmul_rn(h, 0.5f);  // w / 2: exact
    boxes[i] = make_float4(__fmul_rn(__fsub_rn(cx, hw), sx), __fmul_rn(__fsub_rn(cy, hh), sy),
                           __fmul_rn(__fadd_rn(cx, hw), sx), __fmul_rn(__fadd_rn(cy, hh), sy));
    suppressed[i] = 0;
  }
  __syncthreads();

  // 5. Greedy NMS in score order with the reference's "+1" pixel areas; stop at max_detections.
  // suppressed[i] is only ever written for indices after the current one and each iteration that
  // writes ends with a barrier, so every thread reads the same flag and takes the same branches.
  DetectionRecord* out = p.scratch.out + static_cast<int64_t>(b) * p.max_detections;
  int kept = 0;
  for (int i = 0; i < n && kept < p.max_detections; ++i) {
    if (suppressed[i]) continue;
    const float4 c = boxes[i];
    if (tid == 0) {
      const int a = static_cast<int>(key_index(~keys[i]));
      const Prior q = retina_prior(p, a);
      const float* lm = lms + 10 * static_cast<int64_t>(a);
      DetectionRecord d;
      d.x1 = c.x;
      d.y1 = c.y;
      d.x2 = c.z;
      d.y2 = c.w;
      d.score = conf[2 * a + 1];
      for (int k = 0; k < 5; ++k) {
        d.keypoints[2 * k] = __fmul_rn(__fmaf_rn(__fmul_rn(lm[2 * k], p.v0), q.w, q.cx), sx);
        d.keypoints[2 * k + 1] = __fmul_rn(__fmaf_rn(__fmul_rn(lm[2 * k + 1], p.v0), q.h, q.cy), sy);
      }
      for (int k = 10; k < 2 * kMaxDetectionKeypoints; ++k) d.keypoints[k] = 0.0f;
      d.num_keypoints = 5;
      out[kept] = d;
    }
    ++kept;
    const float area_c = __fmul_rn(__fadd_rn(__fsub_rn(c.z, c.x), 1.0f), __fadd_rn(__fsub_rn(c.w, c.y), 1.0f));
    for (int j = i + 1 + tid; j < n; j += blockDim.x) {
      if (suppressed[j]) continue;
      const float4 o = boxes[j];
      const float w = std_max(0.0f, __fadd_rn(__fsub_rn(std_min(c.z, o.z), std_max(c.x, o.x)), 1.0f));
      const float h = std_max(0.0f, __fadd_rn(__fsub_rn(std_min(c.w, o.w), std_max(c.y, o.y)), 1.0f));
      const float inter = __fmul_rn(w, h);
      const float ow = __fadd_rn(__fsub_rn(o.z, o.x), 1.0f), oh = __fadd_rn(__fsub_rn(o.w, o.y), 1.0f);
      // area_c + area_o - inter, area_o fused into the addition as the CPU build does.
      const float denom = __fsub_rn(__fmaf_rn(ow, oh, area_c), inter);
      if (__fdiv_rn(inter, denom) > p.nms_threshold) suppressed[j] = 1;
    }
    __syncthreads();
  }
  if (tid == 0) p.scratch.counts[b] = kept;
}

struct RetinaLayout : ScratchLayout {
  size_t boxes_offset = 0;
};

bool retina_layout(const RetinaFaceDecodeParams& p, RetinaLayout& l) {
  if (p.max_candidates < 1 || p.max_candidates > kMaxCandidatesLimit) return false;
  const size_t K = static_cast<size_t>(p.max_candidates);
  l.boxes_offset = lay_out_scratch(l, K, K * sizeof(float4), K);  // a suppressed flag per candidate
  return true;
}

}  // namespace

// ---- RetinaFace host side ------------------------------------------------------------------------

RetinaFaceDecodeParams RetinaFaceDecodeParams::from(const RetinaFaceConfig& c, int tensor_width, int tensor_height,
                                                    int max_detections) {
  RetinaFaceDecodeParams p;
  p.tensor_width = tensor_width;
  p.tensor_height = tensor_height;
  p.confidence_threshold = c.confidence_threshold;
  p.nms_threshold = c.nms_threshold;
  // The CPU's top_k, capped at the default (4096 keeps the sort in shared memory; at the usual
  // threshold of 0.5 a frame has a few hundred candidates at most).
  p.max_candidates = c.top_k < p.max_candidates ? c.top_k : p.max_candidates;
  p.max_detections = max_detections;
  p.steps = c.steps;
  p.min_sizes = c.min_sizes;
  p.variances = c.variances;
  return p;
}

int RetinaFaceDecodeParams::num_priors() const {
  if (tensor_width <= 0 || tensor_height <= 0) return 0;
  int64_t n = 0;
  for (int s : steps) {
    if (s <= 0) return 0;
    n += static_cast<int64_t>((tensor_height + s - 1) / s) * ((tensor_width + s - 1) / s) * 2;
  }
  return n > (int64_t{1} << 30) ? 0 : static_cast<int>(n);
}

size_t retinaface_post_workspace_bytes(int batch, const RetinaFaceDecodeParams& p) {
  RetinaLayout l;
  if (batch < 0 || !retina_layout(p, l)) return 0;
  return l.image_stride * static_cast<size_t>(batch);
}

Status retinaface_postprocess_cuda(const float* loc, const float* conf, const float* landmarks, int batch,
                                   const RetinaFaceDecodeParams& p, const float* scale_xy_device, void* workspace,
                                   Detection* detections_device, int* counts_device, cudaStream_t stream) {
  if (batch < 0) return Status::error(StatusCode::kInvalidArgument, "retinaface_post_cuda: negative batch");
  if (batch == 0) return Status::ok();
  if (!loc || !conf || !landmarks || !scale_xy_device || !workspace || !detections_device || !counts_device)
    return Status::error(StatusCode::kInvalidArgument, "retinaface_post_cuda: null pointer");
  const int A = p.num_priors();
  if (A <= 0) return Status::error(StatusCode::kInvalidArgument, "retinaface_post_cuda: bad tensor size or steps");
  if (p.max_detections < 1) return Status::error(StatusCode::kInvalidArgument, "retinaface_post_cuda: max_detections must be positive");
  RetinaLayout l;
  if (!retina_layout(p, l))
    return Status::error(StatusCode::kInvalidArgument, "retinaface_post_cuda: max_candidates must be in [1, 2^22]");
  if (reinterpret_cast<uintptr_t>(workspace) % 16 != 0)
    return Status::error(StatusCode::kInvalidArgument, "retinaface_post_cuda: workspace must be 16-byte aligned");

  RetinaArgs a{};
  a.loc = loc;
  a.conf = conf;
  a.landmarks = landmarks;
  a.scale_xy = scale_xy_device;
  a.num_priors = A;
  a.tensor_width = static_cast<float>(p.tensor_width);
  a.tensor_height = static_cast<float>(p.tensor_height);
  int begin = 0;
  for (int k = 0; k < kRetinaLevels; ++k) {
    const int s = p.steps[static_cast<size_t>(k)];
    const int rows = (p.tensor_height + s - 1) / s, cols = (p.tensor_width + s - 1) / s;
    a.steps[k] = s;
    a.cols[k] = cols;
    a.level_begin[k] = begin;
    begin += rows * cols * 2;
    a.min_sizes[k][0] = p.min_sizes[static_cast<size_t>(k)][0];
    a.min_sizes[k][1] = p.min_sizes[static_cast<size_t>(k)][1];
  }
  a.level_begin[kRetinaLevels] = begin;
  a.v0 = p.variances[0];
  a.v1 = p.variances[1];
  a.threshold = p.confidence_threshold;
  a.nms_threshold = p.nms_threshold;
  a.max_candidates = p.max_candidates;
  a.max_detections = p.max_detections;
  a.boxes_offset = l.boxes_offset;
  a.scratch = post_scratch(l, workspace, detections_device, counts_device);
  retinaface_post_kernel<<<batch, kRetinaThreads, l.launch_shared_bytes(), stream>>>(a);
  return launch_status("retinaface_post_cuda: launch failed");
}

// ================================ BlazeFace ======================================================

namespace {

constexpr int kBlazeMaxCoords = 4 + 2 * kMaxDetectionKeypoints;
constexpr int kCandidateFloats = 5 + 2 * kMaxDetectionKeypoints;  // xmin, ymin, xmax, ymax, score, keypoints

struct BlazeArgs {
  const float* regressors;
  const float* classificators;
  const Anchor* anchors;
  const float* regions;
  int num_boxes, num_coords, num_keypoints;
  float x_scale, y_scale, w_scale, h_scale;
  float clip, min_score, iou_threshold;
  int max_detections;
  size_t candidates_offset;  // decoded candidates in the image's workspace slice
  PostScratch scratch;       // key_capacity = next_pow2(num_boxes)
};

// MediaPipe's OverlapSimilarity (IoU) as the CPU build evaluates it: a = the candidate, b = the best
// box; a's area fused into the sum of the areas.
__device__ float blaze_iou(const float* a, const float* b) {
  const bool empty_a = a[0] > a[2] || a[1] > a[3];
  const bool empty_b = b[0] > b[2] || b[1] > b[3];
  if (empty_a || empty_b || b[2] < a[0] || a[2] < b[0] || b[3] < a[1] || a[3] < b[1]) return 0.0f;
  const float ix = __fsub_rn(std_min(a[2], b[2]), std_max(a[0], b[0]));
  const float iy = __fsub_rn(std_min(a[3], b[3]), std_max(a[1], b[1]));
  const float inter = __fmul_rn(ix, iy);
  const float area_b = __fmul_rn(__fsub_rn(b[2], b[0]), __fsub_rn(b[3], b[1]));
  const float norm = __fsub_rn(__fmaf_rn(__fsub_rn(a[2], a[0]), __fsub_rn(a[3], a[1]), area_b), inter);
  return norm > 0.0f ? __fdiv_rn(inter, norm) : 0.0f;
}

// rect_to_image_transform(region, 1, 1).apply(x, y) for rotation 0 (cos 1, sin 0), in double as the
// CPU: the products of two floats are exact in double, so one rounding per coordinate, as there.
__device__ __forceinline__ void project_point(const float* region, float x, float y, double& ox, double& oy) {
  const double cx = region[0], cy = region[1], w = region[2], h = region[3];
  const double m2 = __dsub_rn(cx, __dmul_rn(0.5, w));
  const double m5 = __dsub_rn(cy, __dmul_rn(0.5, h));
  ox = __dadd_rn(__dmul_rn(w, static_cast<double>(x)), m2);
  oy = __dadd_rn(__dmul_rn(h, static_cast<double>(y)), m5);
}

__global__ void __launch_bounds__(kBlazeThreads) blazeface_post_kernel(const BlazeArgs p) {
  extern __shared__ Key dynamic_shared[];
  __shared__ unsigned int s_count, s_members;
  __shared__ int s_first;
  __shared__ float s_merged[kCandidateFloats];

  const int b = blockIdx.x;
  const int tid = threadIdx.x;
  const int N = p.num_boxes;
  const int nk = p.num_keypoints;
  const float* reg = p.regressors + static_cast<int64_t>(b) * N * p.num_coords;
  const float* cls = p.classificators + static_cast<int64_t>(b) * N;
  Key* keys = p.scratch.keys(b, dynamic_shared);
  unsigned char* alive = p.scratch.flags(b, dynamic_shared);
  unsigned char* in_cluster = alive + N;
  float* cand = reinterpret_cast<float*>(p.scratch.image_workspace(b) + p.candidates_offset);  // [N][kCandidateFloats], by anchor

  if (tid == 0) s_count = 0;
  __syncthreads();

  // 1. TensorsToDetections: sigmoid(clip(logit)) >= threshold, decode (x, y, w, h order), drop boxes
  // of negative or NaN size.
  for (int i = tid; i < N; i += blockDim.x) {
    float logit = cls[i];
    logit = logit < -p.clip ? -p.clip : logit;
    logit = logit > p.clip ? p.clip : logit;
    const float score = __fdiv_rn(1.0f, __fadd_rn(1.0f, exp_rounded(-logit)));
    if (!(score >= p.min_score)) continue;
    const Anchor an = p.anchors[i];
    const float* r = reg + static_cast<int64_t>(i) * p.num_coords;
    const float xc = __fmaf_rn(__fdiv_rn(r[0], p.x_scale), an.w, an.x_center);
    const float yc = __fmaf_rn(__fdiv_rn(r[1], p.y_scale), an.h, an.y_center);
    const float w = __fmul_rn(__fdiv_rn(r[2], p.w_scale), an.w);
    const float h = __fmul_rn(__fdiv_rn(r[3], p.h_scale), an.h);
    const float hw = __fmul_rn(w, 0.5f), hh = __fmul_rn(h, 0.5f);  // w / 2.f: exact
    const float xmin = __fsub_rn(xc, hw), ymin = __fsub_rn(yc, hh);
    const float xmax = __fadd_rn(xc, hw), ymax = __fadd_rn(yc, hh);
    const float bw = __fsub_rn(xmax, xmin), bh = __fsub_rn(ymax, ymin);
    if (bw < 0 || bh < 0 || isnan(bw) || isnan(bh)) continue;
    float* c = cand + static_cast<int64_t>(i) * kCandidateFloats;
    c[0] = xmin;
    c[1] = ymin;
    c[2] = xmax;
    c[3] = ymax;
    c[4] = score;
    for (int k = 0; k < nk; ++k) {
      c[5 + 2 * k] = __fmaf_rn(__fdiv_rn(r[4 + 2 * k], p.x_scale), an.w, an.x_center);
      c[5 + 2 * k + 1] = __fmaf_rn(__fdiv_rn(r[4 + 2 * k + 1], p.y_scale), an.h, an.y_center);
    }
    const unsigned pos = atomicAdd(&s_count, 1u);
    if (pos < static_cast<unsigned>(N)) keys[pos] = ~candidate_key(score, static_cast<uint32_t>(i));
  }
  __syncthreads();
  const int n = static_cast<int>(min(s_count, static_cast<unsigned>(N)));

  // 2. Strongest first.
  block_bitonic_sort(keys, n);
  for (int s = tid; s < n; s += blockDim.x) {
    alive[s] = 1;
    in_cluster[s] = 0;
  }
  if (tid == 0) s_first = 0;
  __syncthreads();

  // 3. Weighted NMS: the best remaining box gathers every remaining box with IoU above the
  // threshold (itself included); the cluster's score-weighted mean, with the best box's score, is
  // one detection. The sums run in sorted order, one thread per value, as the CPU loop adds them.
  const float* region = p.regions + 4 * static_cast<int64_t>(b);
  DetectionRecord* out = p.scratch.out + static_cast<int64_t>(b) * p.max_detections;
  const int values = 4 + 2 * nk;  // box corners, then keypoints
  int emitted = 0;
  while (emitted < p.max_detections) {
    if (tid == 0) {
      int f = s_first;
      while (f < n && !alive[f]) ++f;
      s_first = f;
      s_members = 0;
    }
    __syncthreads();
    const int first = s_first;
    if (first >= n) break;
    const float* best = cand + static_cast<int64_t>(key_index(~keys[first])) * kCandidateFloats;
    unsigned members = 0;
    for (int s = first + tid; s < n; s += blockDim.x) {
      bool member = false;
      if (alive[s]) {
        const float* c = cand + static_cast<int64_t>(key_index(~keys[s])) * kCandidateFloats;
        member = blaze_iou(c, best) > p.iou_threshold;
        if (member) alive[s] = 0;
      }
      in_cluster[s] = member ? 1 : 0;
      members += member ? 1u : 0u;
    }
    members = warp_sum(members);
    if ((tid & 31) == 0 && members) atomicAdd(&s_members, members);
    __syncthreads();
    const unsigned cluster_size = s_members;
    if (tid < values) {
      // Value `tid`: corner tid (xmin, ymin, xmax, ymax) or keypoint coordinate tid - 4.
      const int field = tid < 4 ? tid : tid + 1;
      float merged = best[field];
      if (cluster_size > 0) {
        float total = 0.0f, sum = 0.0f;
        for (int s = first; s < n; ++s) {
          if (!in_cluster[s]) continue;
          const float* c = cand + static_cast<int64_t>(key_index(~keys[s])) * kCandidateFloats;
          total = __fadd_rn(total, c[4]);
          sum = __fmaf_rn(c[field], c[4], sum);
        }
        merged = __fdiv_rn(sum, total);
      }
      s_merged[tid] = merged;
    }
    __syncthreads();
    if (tid == 0) {
      // DetectionProjection: corners through the letterbox region, then their bounding box.
      const float xmin = s_merged[0], ymin = s_merged[1], xmax = s_merged[2], ymax = s_merged[3];
      double xs[4], ys[4];
      project_point(region, xmin, ymin, xs[0], ys[0]);
      project_point(region, xmax, ymin, xs[1], ys[1]);
      project_point(region, xmax, ymax, xs[2], ys[2]);
      project_point(region, xmin, ymax, xs[3], ys[3]);
      double lo_x = xs[0], hi_x = xs[0], lo_y = ys[0], hi_y = ys[0];
      for (int k = 1; k < 4; ++k) {  // std::min_element / max_element: the first extreme wins
        if (xs[k] < lo_x) lo_x = xs[k];
        if (hi_x < xs[k]) hi_x = xs[k];
        if (ys[k] < lo_y) lo_y = ys[k];
        if (hi_y < ys[k]) hi_y = ys[k];
      }
      DetectionRecord d;
      d.x1 = static_cast<float>(lo_x);
      d.y1 = static_cast<float>(lo_y);
      d.x2 = static_cast<float>(hi_x);
      d.y2 = static_cast<float>(hi_y);
      d.score = best[4];
      for (int k = 0; k < 2 * kMaxDetectionKeypoints; ++k) d.keypoints[k] = 0.0f;
      for (int k = 0; k < nk; ++k) {
        double x, y;
        project_point(region, s_merged[4 + 2 * k], s_merged[4 + 2 * k + 1], x, y);
        d.keypoints[2 * k] = static_cast<float>(x);
        d.keypoints[2 * k + 1] = static_cast<float>(y);
      }
      d.num_keypoints = nk;
      out[emitted] = d;
    }
    ++emitted;
    if (cluster_size == 0) break;  // nothing merged (degenerate best box): the CPU stops here too
    __syncthreads();               // s_merged, in_cluster and s_first are rewritten next round
  }
  if (tid == 0) p.scratch.counts[b] = emitted;
}

struct BlazeLayout : ScratchLayout {
  size_t candidates_offset = 0;
};

bool blaze_layout(const BlazeFaceDecodeParams& p, BlazeLayout& l) {
  if (p.num_boxes < 1 || p.num_boxes > kMaxCandidatesLimit) return false;
  const size_t N = static_cast<size_t>(p.num_boxes);
  // alive and in_cluster flags per anchor
  l.candidates_offset = lay_out_scratch(l, N, N * kCandidateFloats * sizeof(float), 2 * N);
  return true;
}

}  // namespace

// ---- BlazeFace host side -------------------------------------------------------------------------

BlazeFaceDecodeParams BlazeFaceDecodeParams::from(const BlazeFaceConfig& c, int max_detections) {
  BlazeFaceDecodeParams p;
  p.num_boxes = c.num_boxes;
  p.num_coords = c.num_coords();
  p.num_keypoints = c.num_keypoints;
  p.x_scale = c.x_scale;
  p.y_scale = c.y_scale;
  p.w_scale = c.w_scale;
  p.h_scale = c.h_scale;
  p.score_clipping_thresh = c.score_clipping_thresh;
  p.min_score_thresh = c.min_score_thresh;
  p.min_suppression_threshold = c.min_suppression_threshold;
  p.max_detections = max_detections;
  return p;
}

size_t blazeface_post_workspace_bytes(int batch, const BlazeFaceDecodeParams& p) {
  BlazeLayout l;
  if (batch < 0 || !blaze_layout(p, l)) return 0;
  return l.image_stride * static_cast<size_t>(batch);
}

Status blazeface_postprocess_cuda(const float* regressors, const float* classificators, int batch,
                                  const BlazeFaceDecodeParams& p, const Anchor* anchors_device,
                                  const float* regions_device, void* workspace, Detection* detections_device,
                                  int* counts_device, cudaStream_t stream) {
  if (batch < 0) return Status::error(StatusCode::kInvalidArgument, "blazeface_post_cuda: negative batch");
  if (batch == 0) return Status::ok();
  if (!regressors || !classificators || !anchors_device || !regions_device || !workspace || !detections_device ||
      !counts_device)
    return Status::error(StatusCode::kInvalidArgument, "blazeface_post_cuda: null pointer");
  if (p.num_keypoints < 0 || p.num_keypoints > kMaxDetectionKeypoints || p.num_coords < 4 + 2 * p.num_keypoints ||
      p.num_coords > 1 << 16)
    return Status::error(StatusCode::kInvalidArgument, "blazeface_post_cuda: bad num_keypoints / num_coords");
  if (p.max_detections < 1)
    return Status::error(StatusCode::kInvalidArgument, "blazeface_post_cuda: max_detections must be positive");
  BlazeLayout l;
  if (!blaze_layout(p, l)) return Status::error(StatusCode::kInvalidArgument, "blazeface_post_cuda: bad num_boxes");
  if (reinterpret_cast<uintptr_t>(workspace) % 16 != 0)
    return Status::error(StatusCode::kInvalidArgument, "blazeface_post_cuda: workspace must be 16-byte aligned");
  static_assert(4 + 2 * kMaxDetectionKeypoints <= kBlazeThreads && kBlazeMaxCoords == 16);

  BlazeArgs a{};
  a.regressors = regressors;
  a.classificators = classificators;
  a.anchors = anchors_device;
  a.regions = regions_device;
  a.num_boxes = p.num_boxes;
  a.num_coords = p.num_coords;
  a.num_keypoints = p.num_keypoints;
  a.x_scale = p.x_scale;
  a.y_scale = p.y_scale;
  a.w_scale = p.w_scale;
  a.h_scale = p.h_scale;
  a.clip = p.score_clipping_thresh;
  a.min_score = p.min_score_thresh;
  a.iou_threshold = p.min_suppression_threshold;
  a.max_detections = p.max_detections;
  a.candidates_offset = l.candidates_offset;
  a.scratch = post_scratch(l, workspace, detections_device, counts_device);
  blazeface_post_kernel<<<batch, kBlazeThreads, l.launch_shared_bytes(), stream>>>(a);
  return launch_status("blazeface_post_cuda: launch failed");
}

}  // namespace facepipe::face::cuda
