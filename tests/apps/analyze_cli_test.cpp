// `facepipe analyze` as a user runs it: a real process over real files, good and bad together.
// Bad inputs get a clear message naming the file, the other inputs are still processed, and the
// exit code is non-zero at the end; unusual but valid images (grayscale, 16-bit) are converted.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
namespace test = facepipe::test;

struct ProcessResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

ProcessResult run(const std::string& command) {
  ProcessResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer;
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) r.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

class AnalyzeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("facepipe_analyze_cli_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string facepipe() const { return quote(fs::path(FACEPIPE_BINARY_DIR) / "bin" / "facepipe"); }
  fs::path dir_;
};

TEST_F(AnalyzeCli, BadInputsAreReportedAndTheRestIsProcessed) {
  const fs::path face = test::testdata_dir() / "images" / "single_frontal_large.jpg";
  const fs::path video = test::testdata_dir() / "video" / "talking_man_glasses_720x1280.mp4";
  FACEPIPE_REQUIRE_FILE(face);
  FACEPIPE_REQUIRE_FILE(video);
  FACEPIPE_REQUIRE_FILE(test::models_dir() / "face_landmarker.task");
  const fs::path in = dir_ / "in";
  // Unreadable, zero-size and not-an-image files.
  std::ofstream(in / "empty.jpg").close();
  std::ofstream(in / "notes.png") << "this is not an image\n";
  {
    std::ifstream src(face, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
    std::ofstream(in / "cut.jpg", std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  }
  // A truncated video (its index is at the end of the file, so nothing can be decoded).
  {
    std::ifstream src(video, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
    std::ofstream(in / "truncated.mp4", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  // Grayscale and 16-bit PNGs of a real face, made with the ffmpeg CLI.
  ASSERT_EQ(run("ffmpeg -loglevel error -y -i " + quote(face) + " -pix_fmt gray " + quote(in / "gray.png")).exit_code, 0);
  ASSERT_EQ(run("ffmpeg -loglevel error -y -i " + quote(face) + " -pix_fmt rgb48be " + quote(in / "deep16.png")).exit_code, 0);

  const std::vector<std::string> names = {"empty.jpg", "notes.png", "cut.jpg", "truncated.mp4", "gray.png", "deep16.png"};
  std::string command = facepipe() + " analyze --models " + quote(test::models_dir()) + " --out " + quote(dir_ / "out") +
                        " " + quote(face) + " " + quote(in / "missing.jpg");
  for (const auto& n : names) command += " " + quote(in / n);
  const ProcessResult r = run(command);
  std::printf("%s", r.output.c_str());
  EXPECT_EQ(r.exit_code, 1);
  for (const char* bad : {"missing.jpg", "empty.jpg", "notes.png", "cut.jpg", "truncated.mp4"}) {
    EXPECT_NE(r.output.find(std::string("error: ") + (in / bad).string()), std::string::npos) << bad << " not reported";
    EXPECT_FALSE(fs::exists(dir_ / "out" / (fs::path(bad).stem().string() + ".json"))) << bad;
  }
  EXPECT_NE(r.output.find("5 of 8 input(s) failed"), std::string::npos);
  // The good inputs still produced results, one face each.
  for (const char* good : {"single_frontal_large", "gray", "deep16"}) {
    const fs::path json = dir_ / "out" / (std::string(good) + ".json");
    ASSERT_TRUE(fs::exists(json)) << good;
    std::ifstream f(json);
    const auto j = nlohmann::json::parse(f);
    EXPECT_EQ(j.at("faces").size(), 1u) << good;
    EXPECT_EQ(j.at("faces")[0].at("landmarks").size(), 478u) << good;
  }
  EXPECT_NE(r.output.find("converted to 8-bit RGB"), std::string::npos);
}

TEST_F(AnalyzeCli, ImageJsonHasTheDocumentedFields) {
  const fs::path face = test::testdata_dir() / "images" / "roll30.jpg";
  FACEPIPE_REQUIRE_FILE(face);
  FACEPIPE_REQUIRE_FILE(test::models_dir() / "face_landmarker.task");
  const ProcessResult r = run(facepipe() + " analyze --models " + quote(test::models_dir()) + " --overlay --out " +
                    quote(dir_ / "out") + " " + quote(face));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(dir_ / "out" / "roll30.json");
  const auto j = nlohmann::json::parse(f);
  EXPECT_EQ(j.at("image"), "roll30.jpg");
  EXPECT_EQ(j.at("width"), 566);
  EXPECT_EQ(j.at("height"), 556);
  EXPECT_EQ(j.at("detector"), "blazeface");
  ASSERT_EQ(j.at("faces").size(), 1u);
  const auto& face0 = j.at("faces")[0];
  for (const char* key : {"id", "score", "bbox", "landmarks", "blendshapes", "transform", "pose_deg", "roi"})
    EXPECT_TRUE(face0.contains(key)) << key;
  EXPECT_EQ(face0.at("blendshapes").size(), 52u);
  EXPECT_TRUE(face0.at("blendshapes").contains("_neutral"));
  EXPECT_EQ(face0.at("transform").size(), 16u);
  // The head is rolled about 30 degrees: clockwise in the image is a negative roll.
  EXPECT_LT(face0.at("pose_deg").at("roll").get<double>(), -15.0);
  EXPECT_TRUE(fs::exists(dir_ / "out" / "roll30.overlay.png"));
}

}  // namespace
