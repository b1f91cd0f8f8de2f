// Text records of face results: the JSON objects of `facepipe analyze` (per image, per video frame)
// and OpenFace-style CSV rows. Writers append to a caller-owned std::string so that a video's
// per-frame output reuses one buffer.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "face/types.h"

namespace facepipe::face {

// {"id": I, "score": S, "presence": P, "bbox": [x1, y1, x2, y2], "landmarks": [[x, y, z] x N],
//  "blendshapes": {"_neutral": s, ...} (or null when the landmark network has no iris points),
//  "transform": [16 floats, row-major] (or null), "pose_deg": {"yaw", "pitch", "roll"} (or null),
//  "roi": {"cx", "cy", "size", "rotation_rad"}}
void append_face_json(std::string& out, const FaceResult& face);
// [face, face, ...]
void append_faces_json(std::string& out, std::span<const FaceResult> faces);

// A JSON string literal with escapes.
void append_json_string(std::string& out, std::string_view text);

// The CSV header and one row per face: frame, timestamp_ms, face_id, score, presence, bbox, pose
// angles, the transform, the ROI, x_0..x_N-1, y_0.., z_0.., then the 52 blendshape names.
// `num_landmarks` fixes the column count for the whole file.
void append_csv_header(std::string& out, int num_landmarks);
void append_csv_row(std::string& out, int64_t frame, int64_t timestamp_ms, const FaceResult& face, int num_landmarks);

}  // namespace facepipe::face
