// Face geometry: metadata parser, Procrustes solver and the facial transformation matrix against
// MediaPipe's own output on the reference images.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "common/status.h"
#include "face/geometry/face_geometry.h"
#include "face/geometry/geometry_metadata.h"
#include "face/geometry/procrustes.h"
#include "support/test_support.h"

namespace facepipe::face {
namespace {

namespace fs = std::filesystem;

std::vector<std::byte> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::vector<std::byte> bytes(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

// Stand-in until engine/import/zip_archive.h lands: walks the local file headers of a zip whose
// members are STORED (the .task bundle; it pads members for alignment, so the walk skips bytes up to
// the next header signature) and returns one member's bytes.
std::vector<std::byte> stored_zip_member(const std::vector<std::byte>& zip, std::string_view name) {
  auto u16 = [&](size_t p) { return uint32_t(uint8_t(zip[p])) | uint32_t(uint8_t(zip[p + 1])) << 8; };
  auto u32 = [&](size_t p) { return u16(p) | u16(p + 2) << 16; };
  size_t pos = 0;
  for (;;) {
    while (pos + 30 <= zip.size() && u32(pos) != 0x04034b50) ++pos;
    if (pos + 30 > zip.size()) break;
    const uint32_t flags = u16(pos + 6), method = u16(pos + 8), size = u32(pos + 18);
    const uint32_t name_len = u16(pos + 26), extra_len = u16(pos + 28);
    const size_t data = pos + 30 + name_len + extra_len;
    if ((flags & 8) || method != 0 || data + size > zip.size()) throw std::runtime_error("unsupported zip member");
    const std::string_view member(reinterpret_cast<const char*>(&zip[pos + 30]), name_len);
    if (member == name) return {zip.begin() + data, zip.begin() + data + size};
    pos = data + size;
  }
  throw std::runtime_error("zip member not found: " + std::string(name));
}

const fs::path& bundle_path() {
  static const fs::path p = test::models_dir() / "face_landmarker.task";
  return p;
}

std::vector<std::byte> metadata_bytes() {
  return stored_zip_member(read_bytes(bundle_path()), "geometry_pipeline_metadata_landmarks.binarypb");
}

TEST(GeometryMetadata, ParsesTheBundleMember) {
  FACEPIPE_REQUIRE_FILE(bundle_path());
  const auto bytes = metadata_bytes();
  const GeometryPipelineMetadata meta = parse_geometry_metadata(bytes, "face_landmarker.task");
  EXPECT_EQ(meta.input_source, GeometryInputSource::kFaceLandmarkPipeline);
  EXPECT_EQ(meta.vertices.size(), 468u);
  EXPECT_EQ(meta.triangle_indices.size() % 3, 0u);
  EXPECT_EQ(meta.triangle_indices.size(), 2694u);  // 898 triangles
  EXPECT_EQ(meta.procrustes_basis.size(), 33u);
  for (const auto& wl : meta.procrustes_basis) {
    EXPECT_LT(wl.landmark_id, 468u);
    EXPECT_GT(wl.weight, 0.f);
  }
  // Vertex 1 of the canonical mesh (nose tip region) is on the symmetry plane, in front.
  EXPECT_NEAR(meta.vertices[1].x, 0.f, 1e-4);
  EXPECT_GT(meta.vertices[1].z, 5.f);
  for (const auto& v : meta.vertices) {
    EXPECT_GE(v.u, 0.f);
    EXPECT_LE(v.u, 1.f);
  }
}

TEST(GeometryMetadata, MatchesTheCanonicalObjFile) {
  const fs::path obj = test::models_dir() / "canonical_face_model.obj";
  FACEPIPE_REQUIRE_FILE(bundle_path());
  FACEPIPE_REQUIRE_FILE(obj);
  const auto bytes = metadata_bytes();
  const GeometryPipelineMetadata meta = parse_geometry_metadata(bytes, "face_landmarker.task");
  std::ifstream in(obj);
  std::string tag;
  size_t i = 0;
  double max_dev = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("v ", 0) != 0) continue;
    std::istringstream ls(line.substr(2));
    float x, y, z;
    ls >> x >> y >> z;
    ASSERT_LT(i, meta.vertices.size());
    max_dev = std::max({max_dev, double(std::fabs(x - meta.vertices[i].x)), double(std::fabs(y - meta.vertices[i].y)),
                        double(std::fabs(z - meta.vertices[i].z))});
    ++i;
  }
  EXPECT_EQ(i, meta.vertices.size());
  EXPECT_LT(max_dev, 1e-4) << "canonical mesh differs from canonical_face_model.obj";
}

TEST(GeometryMetadata, ErrorsNameTheSource) {
  FACEPIPE_REQUIRE_FILE(bundle_path());
  auto bytes = metadata_bytes();
  try {
    parse_geometry_metadata(std::span(bytes).first(bytes.size() - 3), "bundle.task");
    FAIL() << "truncated metadata was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bundle.task"), std::string::npos) << e.what();
  }
  // An empty message has no mesh.
  try {
    parse_geometry_metadata({}, "empty.binarypb");
    FAIL() << "empty metadata was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty.binarypb"), std::string::npos) << e.what();
  }
  // A basis landmark outside the mesh: field 2 { field 1: 9999, field 2: 1.0f } appended.
  std::vector<std::byte> bad = bytes;
  const uint8_t extra[] = {0x12, 0x08, 0x08, 0x8f, 0x4e, 0x15, 0x00, 0x00, 0x80, 0x3f};
  for (uint8_t b : extra) bad.push_back(std::byte{b});
  EXPECT_THROW(parse_geometry_metadata(bad, "bad.binarypb"), Error);
}

TEST(Procrustes, RecoversAKnownSimilarity) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int trial = 0; trial < 20; ++trial) {
    // Random rotation from a random unit quaternion.
    double q[4] = {u(rng), u(rng), u(rng), u(rng)};
    const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    for (double& x : q) x /= n;
    const double a = q[0], b = q[1], c = q[2], d = q[3];
    const double r[3][3] = {{a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)},
                            {2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)},
                            {2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d}};
    const double s = 0.5 + 2 * std::fabs(u(rng));
    const double t[3] = {10 * u(rng), 10 * u(rng), 10 * u(rng)};
    std::vector<Point3d> src(30), dst(30);
    std::vector<double> w(30);
    for (int i = 0; i < 30; ++i) {
      src[i] = {5 * u(rng), 5 * u(rng), 5 * u(rng)};
      const double p[3] = {src[i].x, src[i].y, src[i].z};
      double o[3];
      for (int j = 0; j < 3; ++j) o[j] = s * (r[j][0] * p[0] + r[j][1] * p[1] + r[j][2] * p[2]) + t[j];
      dst[i] = {o[0], o[1], o[2]};
      w[i] = 0.1 + std::fabs(u(rng));
    }
    Matrix4d m;
    ASSERT_TRUE(solve_weighted_orthogonal_procrustes(src, dst, w, m).is_ok());
    for (int j = 0; j < 3; ++j) {
      for (int k = 0; k < 3; ++k) EXPECT_NEAR(m[j * 4 + k], s * r[j][k], 1e-9);
      EXPECT_NEAR(m[j * 4 + 3], t[j], 1e-9);
    }
  }
}

TEST(Procrustes, RejectsDegenerateInput) {
  std::vector<Point3d> p(5, Point3d{1, 2, 3});
  std::vector<double> w(5, 1.0);
  Matrix4d m;
  EXPECT_FALSE(solve_weighted_orthogonal_procrustes(p, p, w, m).is_ok());
  std::vector<double> zero(5, 0.0);
  EXPECT_FALSE(solve_weighted_orthogonal_procrustes(p, p, zero, m).is_ok());
}

// Every reference image with faces: the matrix from MediaPipe's own landmarks must equal
// MediaPipe's facialTransformationMatrixes (column-major there, row-major here).
TEST(FaceGeometry, MatchesMediaPipeTransformMatrices) {
  FACEPIPE_REQUIRE_FILE(bundle_path());
  const fs::path ref_dir = test::reference_dir() / "mediapipe";
  FACEPIPE_REQUIRE_FILE(ref_dir);
  const auto bytes = metadata_bytes();
  FaceGeometryEstimator estimator(parse_geometry_metadata(bytes, "face_landmarker.task"));

  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(ref_dir))
    if (e.path().extension() == ".json" && e.path().stem() != "summary") files.push_back(e.path());
  for (const auto& e : fs::directory_iterator(ref_dir / "video"))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());

  int faces_checked = 0;
  double worst = 0, worst_rotation = 0;
  std::vector<float> xyz;
  for (const fs::path& file : files) {
    std::ifstream in(file);
    const nlohmann::json j = nlohmann::json::parse(in);
    const int width = j.at("width"), height = j.at("height");
    const auto& faces = j.at("faceLandmarks");
    const auto& matrices = j.at("facialTransformationMatrixes");
    ASSERT_EQ(faces.size(), matrices.size()) << file;
    const bool is_video = file.parent_path().filename() == "video";
    double image_max = 0;
    for (size_t f = 0; f < faces.size(); ++f) {
      xyz.clear();
      for (const auto& p : faces[f]) {
        xyz.push_back(p[0].get<float>());
        xyz.push_back(p[1].get<float>());
        xyz.push_back(p[2].get<float>());
      }
      ASSERT_EQ(xyz.size(), 478u * 3);
      HeadPose pose;
      const Status st = estimator.estimate_normalized(xyz, width, height, pose);
      ASSERT_TRUE(st.is_ok()) << file << ": " << st.message();
      const auto& data = matrices[f].at("data");
      double max_dev = 0, rot_dev = 0;
      for (int r = 0; r < 4; ++r) {
        for (int c = 0; c < 4; ++c) {
          const double expected = data[c * 4 + r].get<double>();
          const double dev = std::fabs(pose.matrix[r * 4 + c] - expected);
          EXPECT_LT(dev, 1e-2) << file << " face " << f << " M[" << r << "][" << c << "]";
          max_dev = std::max(max_dev, dev);
          if (r < 3 && c < 3) rot_dev = std::max(rot_dev, dev);
        }
      }
      image_max = std::max(image_max, max_dev);
      worst = std::max(worst, max_dev);
      worst_rotation = std::max(worst_rotation, rot_dev);
      ++faces_checked;
      if (!is_video)
        std::printf("  %-34s face %zu: max |dM| = %.2e (rotation %.2e)  yaw %6.1f  pitch %6.1f  roll %6.1f  t = (%.1f, %.1f, %.1f) cm\n",
                    file.filename().c_str(), f, max_dev, rot_dev, pose.yaw_degrees, pose.pitch_degrees,
                    pose.roll_degrees, pose.matrix[3], pose.matrix[7], pose.matrix[11]);
    }
    (void)image_max;
  }
  std::printf("  %d faces (images + 90 video frames): worst max |dM| = %.2e, worst rotation element = %.2e\n",
              faces_checked, worst, worst_rotation);
  EXPECT_GT(faces_checked, 90);
}

TEST(FaceGeometry, AngleConventionsOnReferenceImages) {
  FACEPIPE_REQUIRE_FILE(bundle_path());
  const fs::path ref_dir = test::reference_dir() / "mediapipe";
  FACEPIPE_REQUIRE_FILE(ref_dir / "yaw_profile.json");
  const auto bytes = metadata_bytes();
  FaceGeometryEstimator estimator(parse_geometry_metadata(bytes, "face_landmarker.task"));
  auto pose_of = [&](const char* stem) {
    std::ifstream in(ref_dir / (std::string(stem) + ".json"));
    const nlohmann::json j = nlohmann::json::parse(in);
    std::vector<Landmark> lm;
    const int w = j.at("width"), h = j.at("height");
    for (const auto& p : j.at("faceLandmarks")[0])
      lm.push_back({p[0].get<float>() * w, p[1].get<float>() * h, p[2].get<float>() * w});
    HeadPose pose;
    EXPECT_TRUE(estimator.estimate(lm, w, h, pose).is_ok());
    return pose;
  };
  // Frontal faces: small angles.
  const HeadPose frontal = pose_of("glasses_frontal");
  EXPECT_LT(std::fabs(frontal.yaw_degrees), 15.f);
  EXPECT_LT(std::fabs(frontal.roll_degrees), 10.f);
  // The three-quarter face looks towards the image's left: positive yaw (the rotation relative to
  // the camera axis; the face also sits right of centre, which adds to the apparent yaw).
  const HeadPose yaw = pose_of("yaw_profile");
  EXPECT_GT(yaw.yaw_degrees, 10.f);
  // roll30: the image was rotated 30 degrees clockwise: negative roll of 30-40 degrees.
  const HeadPose roll = pose_of("roll30");
  EXPECT_LT(roll.roll_degrees, -25.f);
  EXPECT_GT(roll.roll_degrees, -45.f);
}

}  // namespace
}  // namespace facepipe::face
