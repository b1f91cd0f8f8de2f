#include "runtime/config.h"

#include <gtest/gtest.h>

#include "common/status.h"

namespace facepipe::runtime {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_run_config(text, "cams.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(RunConfig, ParsesGlobalGpuAndCameras) {
  const RunConfig c = parse_run_config(R"(
instance = "studio"
metrics_port = 9400
[gpu]
max_batch_size = 16
buffer_size = 64
enable_fp16 = false
memory_pool_size = 2048
detection_size = 320
roi_size = 256
preview_size = [640, 360]
detection_confidence = 0.6
models_dir = "/opt/models"

[[camera]]
id = "door"
name = "Front door"
source = "rtsp://10.0.0.5/stream"
gpu = 0
detector = "retinaface"
max_faces = 2
fps = 15
preview = false

[[camera]]
id = "desk"
source = "/dev/video0"
)",
                                       "cams.toml");
  EXPECT_EQ(c.instance, "studio");
  EXPECT_EQ(c.metrics_port, 9400);
  EXPECT_EQ(c.gpu.max_batch_size, 16);
  EXPECT_EQ(c.gpu.buffer_size, 64);
  EXPECT_FALSE(c.gpu.enable_fp16);
  EXPECT_EQ(c.gpu.memory_pool_size_mb, 2048);
  EXPECT_EQ(c.gpu.detection_size, 320);
  EXPECT_EQ(c.gpu.preview_width, 640);
  EXPECT_EQ(c.gpu.preview_height, 360);
  EXPECT_FLOAT_EQ(c.gpu.detection_confidence, 0.6f);
  EXPECT_EQ(c.gpu.models_dir, "/opt/models");
  ASSERT_EQ(c.cameras.size(), 2u);
  EXPECT_EQ(c.cameras[0].id, "door");
  EXPECT_EQ(c.cameras[0].name, "Front door");
  EXPECT_EQ(c.cameras[0].detector, "retinaface");
  EXPECT_EQ(c.cameras[0].max_faces, 2);
  EXPECT_DOUBLE_EQ(c.cameras[0].fps_cap, 15);
  EXPECT_FALSE(c.cameras[0].preview);
  EXPECT_EQ(c.cameras[0].line, 15);
  EXPECT_EQ(c.cameras[1].name, "desk");  // defaults to the id
  EXPECT_EQ(c.cameras[1].detector, "blazeface");
  EXPECT_TRUE(c.cameras[1].preview);
}

TEST(RunConfig, ErrorsNameFileAndLine) {
  EXPECT_EQ(error_of("[[camera]]\nid = \"a\"\nsource = \"x.mp4\"\nfsp = 3\n"),
            "cams.toml:4: camera 'a': unknown key 'fsp' (known: id, name, source, gpu, detector, max_faces, fps, "
            "preview, loop, realtime)");
  EXPECT_EQ(error_of("[[camera]]\nid = \"a\"\nsource = \"x.mp4\"\nmax_faces = 0\n"),
            "cams.toml:4: camera 'a': 'max_faces' = 0 is out of range [1, 10]");
  EXPECT_EQ(error_of("[[camera]]\nid = \"a\"\nsource = \"x.mp4\"\ndetector = \"yolo\"\n").rfind("cams.toml:4: camera 'a': ", 0), 0u);
  EXPECT_EQ(error_of("[[camera]]\nid = \"a b\"\nsource = \"x\"\n").rfind("cams.toml:2: camera #0: 'id' = 'a b'", 0), 0u);
  EXPECT_EQ(error_of("[[camera]]\nid = \"a\"\n"), "cams.toml:1: camera 'a': missing 'source'");
  EXPECT_EQ(error_of("[[camera]]\nid = \"a\"\nsource = \"x\"\n[[camera]]\nid = \"a\"\nsource = \"y\"\n"),
            "cams.toml:4: camera 'a': duplicate id");
  EXPECT_EQ(error_of("[gpu]\nbuffer_size = 24\n[[camera]]\nid = \"a\"\nsource = \"x\"\n"),
            "cams.toml:2: [gpu]: 'buffer_size' = 24 must be a power of two");
  EXPECT_EQ(error_of("[gpu]\nenable_fp16 = \"yes\"\n[[camera]]\nid = \"a\"\nsource = \"x\"\n"),
            "cams.toml:2: [gpu]: 'enable_fp16' must be true or false");
  EXPECT_EQ(error_of("colour = 3\n").rfind("cams.toml:1: unknown key 'colour'", 0), 0u);
  EXPECT_EQ(error_of("instance = \"x\"\n"), "cams.toml: no [[camera]] entries");
  // Syntax errors keep toml++'s description and position.
  EXPECT_EQ(error_of("instance = \"x\"\n\n[[camera]\n").rfind("cams.toml:3: ", 0), 0u);
}

}  // namespace
}  // namespace facepipe::runtime
