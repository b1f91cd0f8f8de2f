#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "common/status.h"
#include "engine/import/import_util.h"
#include "engine/import/model_loader.h"
#include "import_samples.h"
#include "support/test_support.h"

namespace facepipe::engine {
namespace {

using test::Bytes;

template <typename F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

// A scratch folder under the build tree, removed with the fixture.
class ImportLoader : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(FACEPIPE_BINARY_DIR) / "import_loader_test" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const Bytes& bytes) {
    const auto path = dir_ / name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);  // data() may be null when empty
    std::fclose(f);
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(ImportLoader, ParseModelSpecSplitsOnlyAfterAnExistingFile) {
  const std::string task = write("bundle.task", test::make_zip({{"m.tflite", {1, 2, 3}, false}}));
  EXPECT_EQ(parse_model_spec(task).path, task);
  EXPECT_EQ(parse_model_spec(task).member, "");
  const ModelSpec spec = parse_model_spec(task + ":m.tflite");
  EXPECT_EQ(spec.path, task);
  EXPECT_EQ(spec.member, "m.tflite");
  EXPECT_EQ(spec.display(), task + ":m.tflite");
  // No existing prefix: the whole text is the path (so a later open reports it as missing).
  const ModelSpec missing = parse_model_spec("/nonexistent/a:b");
  EXPECT_EQ(missing.path, "/nonexistent/a:b");
  EXPECT_EQ(missing.member, "");
}

TEST_F(ImportLoader, LoadsModelsFromBundlesByContentNotName) {
  const Bytes tflite = test::samples::tflite_conv().build();
  const Bytes onnx = test::samples::onnx_conv().build();
  const std::string task = write("models.task", test::make_zip({{"a.bin", tflite, true}, {"b.bin", onnx, false}}, 2));
  const Graph a = load_graph(task + ":a.bin");
  EXPECT_EQ(a.format, "tflite");
  EXPECT_EQ(a.source, task + ":a.bin");
  const Graph b = load_graph(task + ":b.bin");
  EXPECT_EQ(b.format, "onnx");
  EXPECT_EQ(b.source, task + ":b.bin");
  const std::string plain = write("model.whatever", onnx);
  EXPECT_EQ(load_graph(plain).format, "onnx");
}

TEST_F(ImportLoader, BundleWithoutMemberListsTheMembers) {
  const std::string task = write("two.task", test::make_zip({{"x.tflite", {1}, false}, {"y.tflite", {2}, false}}));
  const std::string message = error_of([&] { load_graph(task); });
  EXPECT_NE(message.find(task), std::string::npos) << message;
  EXPECT_NE(message.find("x.tflite, y.tflite"), std::string::npos) << message;
  const std::string unknown = error_of([&] { load_graph(task + ":z.tflite"); });
  EXPECT_NE(unknown.find("z.tflite"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("x.tflite, y.tflite"), std::string::npos) << unknown;
}

TEST_F(ImportLoader, MissingFileAndMemberOfANonZip) {
  const std::string missing = (dir_ / "nope.tflite").string();
  EXPECT_NE(error_of([&] { load_graph(missing); }).find(missing), std::string::npos);
  const std::string plain = write("plain.tflite", test::samples::tflite_conv().build());
  const std::string message = error_of([&] { read_model_bytes({plain, "member"}); });
  EXPECT_NE(message.find("not a zip"), std::string::npos) << message;
}

TEST_F(ImportLoader, EmptyAndGarbageFilesThrowNamingTheFile) {
  for (const Bytes& content : {Bytes{}, Bytes{0xff, 0xff, 0xff, 0xff}, Bytes(100, 0x41)}) {
    const std::string path = write("garbage.bin", content);
    const std::string message = error_of([&] { load_graph(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
  }
}

TEST(ImportLoaderReal, TruncatedTaskBundleThrowsNamingTheFile) {
  const auto path = test::models_dir() / "face_landmarker.task";
  FACEPIPE_REQUIRE_FILE(path);
  const auto bytes = import_detail::read_file_bytes(path.string());
  const auto dir = std::filesystem::path(FACEPIPE_BINARY_DIR) / "import_loader_test";
  std::filesystem::create_directories(dir);
  const std::string cut_path = (dir / "cut.task").string();
  for (int k = 0; k < 64; ++k) {
    std::FILE* f = std::fopen(cut_path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(bytes.data(), 1, bytes.size() * static_cast<size_t>(k) / 64, f);
    std::fclose(f);
    for (const char* member : {"face_detector.tflite", "face_blendshapes.tflite"}) {
      const std::string message = error_of([&] { load_graph(cut_path + ":" + member); });
      EXPECT_NE(message.find(cut_path), std::string::npos) << "cut " << k << "/64: " << message;
    }
  }
  std::filesystem::remove(cut_path);
}

}  // namespace
}  // namespace facepipe::engine
