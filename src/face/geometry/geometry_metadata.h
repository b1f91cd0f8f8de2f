// MediaPipe's face geometry metadata (`geometry_pipeline_metadata_landmarks.binarypb` in the Face
// Landmarker bundle): the canonical face mesh and the weighted landmark basis that the Procrustes
// solver fits it with. The layout follows MediaPipe's `GeometryPipelineMetadata` / `Mesh3d` protos
// (mediapipe/tasks/cc/vision/face_geometry/proto/): see docs/face_geometry.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace facepipe::face {

// Where the geometry pipeline's input landmarks come from. Values are the proto enum's.
enum class GeometryInputSource : int {
  kDefault = 0,                // treated as kFaceLandmarkPipeline
  kFaceLandmarkPipeline = 1,   // 3D landmarks with a relative z (the 468/478-point mesh)
  kFaceDetectionPipeline = 2,  // 2D detector keypoints, z = 0: z is re-derived from the canonical mesh
};

struct CanonicalMeshVertex {
  float x = 0, y = 0, z = 0;  // centimetres, right-handed (y up, the face looks towards +z)
  float u = 0, v = 0;         // texture coordinates
};

struct WeightedLandmark {
  uint32_t landmark_id = 0;
  float weight = 0;
};

struct GeometryPipelineMetadata {
  GeometryInputSource input_source = GeometryInputSource::kDefault;
  std::vector<CanonicalMeshVertex> vertices;    // vertex i = landmark i
  std::vector<uint32_t> triangle_indices;       // 3 per triangle
  std::vector<WeightedLandmark> procrustes_basis;
};

// Parses a serialized GeometryPipelineMetadata. Validates what the geometry pipeline relies on
// (vertex type VERTEX_PT, triangle primitives, a vertex buffer that is a whole number of 5-float
// vertices, triangle indices and basis landmark ids inside the mesh, non-negative weights with a
// positive sum). Throws facepipe::Error naming `source` on malformed or inconsistent data.
GeometryPipelineMetadata parse_geometry_metadata(std::span<const std::byte> data, std::string_view source);

}  // namespace facepipe::face
