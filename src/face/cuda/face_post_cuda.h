// GPU post-processing of the face networks' outputs, batched: RetinaFace and BlazeFace decoding and
// NMS, landmark projection and face presence, the blendshape network's input. The CPU versions are
// the specification and the test oracle (face/detection/retinaface.cpp, face/detection/blazeface.cpp,
// face/roi/roi.cpp, face/blendshapes/blendshape_input.cpp); these reproduce their float arithmetic
// operation for operation (docs/face_detection.md, "On the GPU").
//
// Every function takes device pointers and an explicit stream, allocates nothing, launches
// asynchronously, never synchronizes, and returns a Status: argument errors before any launch,
// launch failures after (errors of a running kernel surface at the caller's next synchronization).
// Detections are written as face::Detection records (the same bytes the GPU writes are read on the
// host: detection_post.cu asserts the layout), landmarks as face::Landmark.
#pragma once

#include <cuda_runtime.h>

#include <array>
#include <cstddef>

#include "common/status.h"
#include "face/detection/blazeface.h"
#include "face/detection/retinaface.h"
#include "face/types.h"

namespace facepipe::face::cuda {

// ---- RetinaFace ---------------------------------------------------------------------------------

struct RetinaFaceDecodeParams {
  int tensor_width = 0, tensor_height = 0;  // network input (same for every batch item)
  float confidence_threshold = 0.5f;        // keep scores > this
  float nms_threshold = 0.4f;               // IoU ("+1" pixel areas) above which the weaker box is dropped
  // Per image: candidates above the threshold kept for NMS, strongest first (the CPU's top_k). When
  // an image has more, exactly the max_candidates strongest are kept (score descending, then prior
  // index ascending, as the CPU's sort orders them), found by a radix select on the device.
  int max_candidates = 4096;
  int max_detections = 64;  // per image after NMS (the CPU's keep_top_k)
  // From RetinaFaceConfig (Pytorch_Retinaface cfg_mnet).
  std::array<int, 3> steps{8, 16, 32};
  std::array<std::array<float, 2>, 3> min_sizes{{{16, 32}, {64, 128}, {256, 512}}};
  std::array<float, 2> variances{0.1f, 0.2f};

  // confidence_threshold, nms_threshold, steps, min_sizes and variances from `c`; max_candidates =
  // c.top_k; max_detections as given.
  static RetinaFaceDecodeParams from(const RetinaFaceConfig& c, int tensor_width, int tensor_height,
                                     int max_detections);
  // A (priors per image) for these params; 0 when the tensor size or a step is not positive.
  int num_priors() const;
};

// Bytes of device workspace for `batch` images (the caller allocates it once at start-up; it must
// be 16-byte aligned, as cudaMalloc's is). Depends on batch and max_candidates only; 0 for invalid
// arguments. The workspace holds no state between calls, but two calls in flight need two.
size_t retinaface_post_workspace_bytes(int batch, const RetinaFaceDecodeParams& p);

// loc [batch, A, 4], conf [batch, A, 2], landmarks [batch, A, 10]: the network's f32 outputs on the
// device. scale_xy_device: 2 * batch floats, per item image pixels per tensor pixel, x then y
// (RetinaFaceGeometry::scale_x, scale_y). Writes, per item b, counts_device[b] and
// detections_device[b * max_detections + i] for i < counts_device[b]: score-sorted, in image pixels,
// what RetinaFace::postprocess gives with top_k = max_candidates and keep_top_k = max_detections.
// Entries past the count are left untouched. One block per image.
Status retinaface_postprocess_cuda(const float* loc, const float* conf, const float* landmarks, int batch,
                                   const RetinaFaceDecodeParams& p, const float* scale_xy_device, void* workspace,
                                   Detection* detections_device, int* counts_device, cudaStream_t stream);

// ---- BlazeFace ----------------------------------------------------------------------------------

struct BlazeFaceDecodeParams {
  int num_boxes = 896;
  int num_coords = 16;    // 4 + 2 * num_keypoints (the regressors' row length)
  int num_keypoints = 6;  // <= kMaxDetectionKeypoints
  float x_scale = 128, y_scale = 128, w_scale = 128, h_scale = 128;
  float score_clipping_thresh = 100;
  float min_score_thresh = 0.5f;           // keep sigmoid scores >= this
  float min_suppression_threshold = 0.3f;  // weighted NMS: IoU above which boxes merge
  int max_detections = 16;                 // per image (> 0)

  static BlazeFaceDecodeParams from(const BlazeFaceConfig& c, int max_detections);
};

// Device workspace for `batch` images (16-byte aligned), from num_boxes; 0 for invalid arguments.
size_t blazeface_post_workspace_bytes(int batch, const BlazeFaceDecodeParams& p);

// anchors_device: num_boxes face::Anchor (BlazeFace::anchors(), uploaded once). regions_device: 4
// floats per item: cx, cy, width, height of the letterbox region (BlazeFace::input_region(); its
// rotation must be 0). regressors [batch, num_boxes, num_coords], classificators [batch, num_boxes, 1].
// Writes counts_device[b] and detections_device[b * max_detections + i] as BlazeFace::postprocess
// (with BlazeFaceConfig::max_detections = max_detections). One block per image. Candidates with
// exactly equal scores are taken in anchor order; the CPU's std::sort leaves their order open, so
// only then can the two differ (which box leads a cluster, or the rounding of its weighted mean).
Status blazeface_postprocess_cuda(const float* regressors, const float* classificators, int batch,
                                  const BlazeFaceDecodeParams& p, const Anchor* anchors_device,
                                  const float* regions_device, void* workspace, Detection* detections_device,
                                  int* counts_device, cudaStream_t stream);

// ---- Landmarks ----------------------------------------------------------------------------------

// A landmark crop: its RotatedRect (image pixels) and the image's width / height.
struct LandmarkCrop {
  float cx, cy, width, height, rotation;
  float image_aspect;
};

// raw_xyz [n, count * 3] (crop pixels, 0..input_size), presence_logits: n logits at
// presence_logits[k * presence_stride] (null: no presence). Writes landmarks_device[k * count + i]
// = project_landmarks(raw k, count, crop k, ..., input_size, image_aspect) and presence_device[k] =
// face_presence_score(logit k) (skipped when presence_logits or presence_device is null).
Status project_landmarks_cuda(const float* raw_xyz, const float* presence_logits, int presence_stride,
                              const LandmarkCrop* crops_device, int n, int count, int input_size,
                              Landmark* landmarks_device, float* presence_device, cudaStream_t stream);

// n faces of kNumLandmarks landmarks (face k at landmarks_device + k * kNumLandmarks) → the
// blendshape network's input [n, 146, 2] (build_blendshape_input per face).
Status build_blendshape_input_cuda(const Landmark* landmarks_device, int n, float* input_device, cudaStream_t stream);

}  // namespace facepipe::face::cuda
