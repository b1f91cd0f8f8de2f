#include "face/geometry/geometry_metadata.h"

#include <string>

#include "common/status.h"
#include "engine/import/protobuf_reader.h"

namespace facepipe::face {
namespace {

namespace pb = engine::pb;

// Field numbers of mediapipe.tasks.vision.face_geometry.proto.{GeometryPipelineMetadata, Mesh3d,
// WeightedLandmarkRef}.
constexpr uint32_t kMetaCanonicalMesh = 1;
constexpr uint32_t kMetaProcrustesBasis = 2;
constexpr uint32_t kMetaInputSource = 3;
constexpr uint32_t kMeshVertexType = 1;
constexpr uint32_t kMeshPrimitiveType = 2;
constexpr uint32_t kMeshVertexBuffer = 3;
constexpr uint32_t kMeshIndexBuffer = 4;
constexpr uint32_t kRefLandmarkId = 1;
constexpr uint32_t kRefWeight = 2;

constexpr int kVertexPtSize = 5;  // VERTEX_PT: x, y, z, u, v

[[noreturn]] void fail(std::string_view source, const std::string& what) {
  throw Error(std::string(source) + ": geometry pipeline metadata: " + what);
}

void expect_type(const pb::Field& f, pb::WireType type, std::string_view source, const char* name) {
  if (f.type != type) fail(source, std::string("field '") + name + "' has an unexpected wire type");
}

}  // namespace

GeometryPipelineMetadata parse_geometry_metadata(std::span<const std::byte> data, std::string_view source) {
  GeometryPipelineMetadata meta;
  std::vector<float> vertex_buffer;
  std::vector<int64_t> index_buffer;
  bool have_mesh = false;

  pb::Reader reader(data, std::string(source) + ": GeometryPipelineMetadata");
  pb::Field field;
  while (reader.next(field)) {
    switch (field.number) {
      case kMetaInputSource: {
        expect_type(field, pb::WireType::kVarint, source, "input_source");
        if (field.varint > 2) fail(source, "unknown input_source " + std::to_string(field.varint));
        meta.input_source = static_cast<GeometryInputSource>(field.varint);
        break;
      }
      case kMetaCanonicalMesh: {
        expect_type(field, pb::WireType::kLengthDelimited, source, "canonical_mesh");
        have_mesh = true;
        const std::string context = std::string(source) + ": Mesh3d";
        pb::Reader mesh(field.bytes, context);
        pb::Field m;
        while (mesh.next(m)) {
          switch (m.number) {
            case kMeshVertexType:
              expect_type(m, pb::WireType::kVarint, source, "vertex_type");
              if (m.varint != 0) fail(source, "vertex_type " + std::to_string(m.varint) + " is not VERTEX_PT");
              break;
            case kMeshPrimitiveType:
              expect_type(m, pb::WireType::kVarint, source, "primitive_type");
              if (m.varint != 0) fail(source, "primitive_type " + std::to_string(m.varint) + " is not TRIANGLE");
              break;
            case kMeshVertexBuffer:
              pb::append_floats(m, vertex_buffer, context);
              break;
            case kMeshIndexBuffer:
              pb::append_int64s(m, index_buffer, context);
              break;
            default:
              break;  // unknown fields are skipped, as protobuf does
          }
        }
        break;
      }
      case kMetaProcrustesBasis: {
        expect_type(field, pb::WireType::kLengthDelimited, source, "procrustes_landmark_basis");
        pb::Reader ref(field.bytes, std::string(source) + ": WeightedLandmarkRef");
        pb::Field r;
        WeightedLandmark wl;
        while (ref.next(r)) {
          if (r.number == kRefLandmarkId) {
            expect_type(r, pb::WireType::kVarint, source, "landmark_id");
            if (r.varint > UINT32_MAX) fail(source, "landmark_id out of range");
            wl.landmark_id = static_cast<uint32_t>(r.varint);
          } else if (r.number == kRefWeight) {
            expect_type(r, pb::WireType::kFixed32, source, "weight");
            wl.weight = r.as_float();
          }
        }
        meta.procrustes_basis.push_back(wl);
        break;
      }
      default:
        break;
    }
  }

  if (!have_mesh) fail(source, "no canonical_mesh");
  if (vertex_buffer.empty() || vertex_buffer.size() % kVertexPtSize != 0)
    fail(source, "vertex buffer of " + std::to_string(vertex_buffer.size()) + " floats is not a whole number of " +
                     std::to_string(kVertexPtSize) + "-float vertices");
  const size_t num_vertices = vertex_buffer.size() / kVertexPtSize;
  meta.vertices.resize(num_vertices);
  for (size_t i = 0; i < num_vertices; ++i) {
    const float* v = &vertex_buffer[i * kVertexPtSize];
    meta.vertices[i] = {v[0], v[1], v[2], v[3], v[4]};
  }

  if (index_buffer.size() % 3 != 0)
    fail(source, "index buffer of " + std::to_string(index_buffer.size()) + " entries is not whole triangles");
  meta.triangle_indices.reserve(index_buffer.size());
  for (int64_t index : index_buffer) {
    if (index < 0 || static_cast<uint64_t>(index) >= num_vertices)
      fail(source, "triangle index " + std::to_string(index) + " outside the " + std::to_string(num_vertices) +
                       "-vertex mesh");
    meta.triangle_indices.push_back(static_cast<uint32_t>(index));
  }

  if (meta.procrustes_basis.empty()) fail(source, "empty procrustes_landmark_basis");
  double total_weight = 0;
  for (const WeightedLandmark& wl : meta.procrustes_basis) {
    if (wl.landmark_id >= num_vertices)
      fail(source, "procrustes basis landmark " + std::to_string(wl.landmark_id) + " outside the " +
                       std::to_string(num_vertices) + "-vertex mesh");
    if (!(wl.weight >= 0)) fail(source, "negative or NaN weight for landmark " + std::to_string(wl.landmark_id));
    total_weight += wl.weight;
  }
  if (!(total_weight > 1e-9)) fail(source, "procrustes basis weights sum to zero");
  return meta;
}

}  // namespace facepipe::face
