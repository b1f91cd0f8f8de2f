// Blendshape network input: the 146-landmark subset in pixels, checked against the raw tensor the
// reference run fed to face_blendshapes.tflite, and the output names against MediaPipe's JSON.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "face/blendshapes/blendshape_input.h"
#include "support/test_support.h"

namespace facepipe::face {
namespace {

namespace fs = std::filesystem;

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

TEST(BlendshapeInput, SubsetMatchesTheReferenceMeta) {
  const fs::path meta = test::reference_dir() / "mediapipe/raw/glasses_frontal/blendshapes_face0/meta.json";
  FACEPIPE_REQUIRE_FILE(meta);
  const auto subset = read_json(meta).at("how").at("subset");
  ASSERT_EQ(subset.size(), kBlendshapeLandmarkSubset.size());
  for (size_t i = 0; i < subset.size(); ++i) EXPECT_EQ(subset[i].get<int>(), kBlendshapeLandmarkSubset[i]) << i;
}

TEST(BlendshapeInput, ReproducesTheReferenceTensor) {
  const fs::path dir = test::reference_dir() / "mediapipe";
  const fs::path bin = dir / "raw/glasses_frontal/blendshapes_face0/input_0.bin";
  FACEPIPE_REQUIRE_FILE(bin);
  const auto expected = test::read_f32_file(bin);
  ASSERT_EQ(expected.size(), static_cast<size_t>(kBlendshapeInputSize));

  const auto j = read_json(dir / "glasses_frontal.json");
  const int w = j.at("width"), h = j.at("height");
  std::vector<float> xyz;
  std::vector<Landmark> pixels;
  for (const auto& p : j.at("faceLandmarks")[0]) {
    const float x = p[0].get<float>(), y = p[1].get<float>(), z = p[2].get<float>();
    xyz.insert(xyz.end(), {x, y, z});
    pixels.push_back({x * w, y * h, z * w});
  }

  std::array<float, kBlendshapeInputSize> input{};
  ASSERT_TRUE(build_blendshape_input_normalized(xyz, w, h, input).is_ok());
  const auto d = test::compare(input.data(), expected.data(), input.size());
  std::printf("  normalized path: max |d| = %.3g px over %d values\n", d.max_abs_error, kBlendshapeInputSize);
  EXPECT_LE(d.max_abs_error, 1e-3);

  std::array<float, kBlendshapeInputSize> from_pixels{};
  ASSERT_TRUE(build_blendshape_input(pixels, from_pixels).is_ok());
  const auto d2 = test::compare(from_pixels.data(), expected.data(), from_pixels.size());
  std::printf("  pixel path:      max |d| = %.3g px\n", d2.max_abs_error);
  EXPECT_LE(d2.max_abs_error, 1e-3);
}

TEST(BlendshapeInput, RejectsShortInputs) {
  std::vector<Landmark> few(468);
  std::array<float, kBlendshapeInputSize> input{};
  EXPECT_FALSE(build_blendshape_input(few, input).is_ok());
  std::vector<Landmark> all(478);
  EXPECT_FALSE(build_blendshape_input(all, std::span(input).first(10)).is_ok());
  EXPECT_TRUE(build_blendshape_input(all, input).is_ok());
}

TEST(BlendshapeNames, MatchMediaPipeCategoryOrder) {
  const fs::path file = test::reference_dir() / "mediapipe/glasses_frontal.json";
  FACEPIPE_REQUIRE_FILE(file);
  const auto cats = read_json(file).at("faceBlendshapes")[0];
  ASSERT_EQ(cats.size(), kBlendshapeNames.size());
  for (size_t i = 0; i < cats.size(); ++i) {
    EXPECT_EQ(cats[i].at("index").get<int>(), static_cast<int>(i));
    EXPECT_EQ(cats[i].at("categoryName").get<std::string>(), kBlendshapeNames[i]) << i;
  }
  EXPECT_EQ(blendshape_index("_neutral"), 0);
  EXPECT_EQ(blendshape_index("noseSneerRight"), 51);
  EXPECT_EQ(blendshape_index("nope"), -1);
}

}  // namespace
}  // namespace facepipe::face
