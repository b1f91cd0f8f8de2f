// MediaPipe Face Landmarker results (reference/mediapipe/*.json) and how a facepipe face is
// compared with them: landmarks in % of the inter-ocular distance (outer eye corners 33 and 263),
// blendshape mean absolute error, transform element error. Shared by the CPU and GPU pipeline tests.
#pragma once

#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "face/types.h"

namespace facepipe::test {

struct ReferenceFace {
  std::vector<std::array<double, 3>> landmarks;  // pixels (x, y), z on the scale of x in pixels
  std::vector<double> blendshapes;
  std::array<double, 16> transform_row_major{};
};

inline std::vector<ReferenceFace> load_reference(const nlohmann::json& j) {
  const double w = j.at("width"), h = j.at("height");
  std::vector<ReferenceFace> faces;
  const auto& lms = j.at("faceLandmarks");
  for (size_t f = 0; f < lms.size(); ++f) {
    ReferenceFace r;
    for (const auto& p : lms[f]) r.landmarks.push_back({p[0].get<double>() * w, p[1].get<double>() * h, p[2].get<double>() * w});
    for (const auto& b : j.at("faceBlendshapes")[f]) r.blendshapes.push_back(b.at("score"));
    const auto& m = j.at("facialTransformationMatrixes")[f].at("data");
    for (int row = 0; row < 4; ++row)
      for (int col = 0; col < 4; ++col) r.transform_row_major[static_cast<size_t>(row * 4 + col)] = m[static_cast<size_t>(col * 4 + row)];
    faces.push_back(std::move(r));
  }
  return faces;
}


struct FaceDeviation {
  double landmark_iod = 0;  // mean (x, y) distance / IOD
  double blendshape_mae = 0;
  double transform_max = 0;  // over every element
  int transform_worst = 0;
  double z_iod = 0;  // mean |z| difference / IOD (informative)
};

inline FaceDeviation compare(const face::FaceResult& ours, const ReferenceFace& ref) {
  FaceDeviation d;
  const auto& l = ref.landmarks;
  const double iod = std::hypot(l[33][0] - l[263][0], l[33][1] - l[263][1]);
  double sum = 0;
  for (size_t i = 0; i < l.size(); ++i)
    sum += std::hypot(ours.landmarks[i].x - l[i][0], ours.landmarks[i].y - l[i][1]);
  d.landmark_iod = sum / static_cast<double>(l.size()) / iod;
  for (size_t i = 0; i < ref.blendshapes.size(); ++i) d.blendshape_mae += std::fabs(ours.blendshapes[i] - ref.blendshapes[i]);
  d.blendshape_mae /= static_cast<double>(ref.blendshapes.size());
  for (size_t i = 0; i < 16; ++i) {
    const double e = std::fabs(ours.transform[i] - ref.transform_row_major[i]);
    if (e > d.transform_max) {
      d.transform_max = e;
      d.transform_worst = static_cast<int>(i);
    }
  }
  double zsum = 0;
  for (size_t i = 0; i < l.size(); ++i) zsum += std::fabs(ours.landmarks[i].z - l[i][2]);
  d.z_iod = zsum / static_cast<double>(l.size()) / iod;
  return d;
}

// Index of the reference face nearest to `face` (by the mean of its landmarks).
inline size_t nearest(const face::FaceResult& face, const std::vector<ReferenceFace>& refs) {
  double best = INFINITY;
  size_t best_i = 0;
  for (size_t r = 0; r < refs.size(); ++r) {
    double d = 0;
    for (size_t i = 0; i < refs[r].landmarks.size(); i += 17)
      d += std::hypot(face.landmarks[i].x - refs[r].landmarks[i][0], face.landmarks[i].y - refs[r].landmarks[i][1]);
    if (d < best) {
      best = d;
      best_i = r;
    }
  }
  return best_i;
}

// Mean (x, y) landmark distance of `face` to the first face of a MediaPipe VIDEO-mode frame
// (reference/mediapipe/video/fNNNN.json: normalized coordinates), as a fraction of its IOD.
inline double video_frame_error(const face::FaceResult& face, const nlohmann::json& frame) {
  const double w = frame.at("width"), h = frame.at("height");
  const auto& ref = frame.at("faceLandmarks")[0];
  const double iod = std::hypot((ref[33][0].get<double>() - ref[263][0].get<double>()) * w,
                                (ref[33][1].get<double>() - ref[263][1].get<double>()) * h);
  double sum = 0;
  for (size_t k = 0; k < ref.size(); ++k)
    sum += std::hypot(face.landmarks[k].x - ref[k][0].get<double>() * w, face.landmarks[k].y - ref[k][1].get<double>() * h);
  return sum / static_cast<double>(ref.size()) / iod;
}

}  // namespace facepipe::test
