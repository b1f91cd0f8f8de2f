#include "runtime/config.h"

#include <gtest/gtest.h>

#include <cstdio>

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

TEST(RunConfig, GpuChoiceAndSupervisorSection) {
  const RunConfig c = parse_run_config(R"(
[supervisor]
heartbeat_timeout_ms = 800
restart_backoff_max_ms = 2000
[[camera]]
id = "a"
source = "a.mp4"
[[camera]]
id = "b"
source = "b.mp4"
gpu = "cpu"
[[camera]]
id = "c"
source = "c.mp4"
gpu = 3
)",
                                       "cams.toml");
  EXPECT_EQ(c.cameras[0].gpu, kGpuAuto);  // the default
  EXPECT_EQ(c.cameras[1].gpu, kCpu);
  EXPECT_EQ(c.cameras[2].gpu, 3);
  EXPECT_EQ(c.supervisor.heartbeat_timeout_ms, 800);
  EXPECT_EQ(c.supervisor.restart_backoff_max_ms, 2000);
  EXPECT_EQ(c.supervisor.startup_timeout_ms, 30000);
  EXPECT_EQ(error_of("[[camera]]\nid = \"a\"\nsource = \"x\"\ngpu = \"fast\"\n").rfind("cams.toml:4: camera 'a': 'gpu' = 'fast' must be", 0),
            0u);
  EXPECT_EQ(error_of("[supervisor]\nheartbeat_timeout_ms = 5\n[[camera]]\nid = \"a\"\nsource = \"x\"\n"),
            "cams.toml:2: [supervisor]: 'heartbeat_timeout_ms' = 5 is out of range [100, 60000]");
}

// The supervisor hands workers their cameras as TOML: formatting and parsing again must give the
// same settings.
TEST(RunConfig, FormatParsesBackToTheSameSettings) {
  RunConfig c;
  c.instance = "studio";
  c.metrics_port = 9100;
  c.gpu.preview_width = 640;
  c.gpu.detection_confidence = 0.25f;
  c.gpu.models_dir = "/opt/m \"q\"";
  c.supervisor.heartbeat_timeout_ms = 700;
  CameraConfig a;
  a.id = "a";
  a.name = "Door, \"front\"";
  a.source = "rtsp://x/y?z=1";
  a.fps_cap = 12.5;
  a.realtime = false;
  auto copy_of_a = [&](std::string id, int gpu) {
    CameraConfig x = a;
    x.id = std::move(id);
    x.gpu = gpu;
    return x;
  };
  CameraConfig b = copy_of_a("b", 1);
  const CameraConfig d = copy_of_a("d", kCpu);
  c.cameras = {a, b, d};
  const RunConfig back = parse_run_config(format_run_config(c), "worker");
  EXPECT_EQ(back.instance, "studio");
  EXPECT_EQ(back.metrics_port, 9100);
  EXPECT_TRUE(same_settings(back.gpu, c.gpu));
  EXPECT_EQ(back.supervisor.heartbeat_timeout_ms, 700);
  ASSERT_EQ(back.cameras.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(same_settings(back.cameras[i], c.cameras[i])) << i;
  b.max_faces = 3;
  EXPECT_FALSE(same_settings(back.cameras[1], b));
}

// [gpu] batch_cameras: on by default, parsed, validated, written back, and part of the [gpu]
// settings (changing it restarts the cameras, like any [gpu] change).
TEST(RunConfig, BatchCamerasKey) {
  const std::string camera = "[[camera]]\nid = \"a\"\nsource = \"x\"\n";
  EXPECT_TRUE(parse_run_config(camera, "cams.toml").gpu.batch_cameras);
  const RunConfig off = parse_run_config("[gpu]\nbatch_cameras = false\n" + camera, "cams.toml");
  EXPECT_FALSE(off.gpu.batch_cameras);
  EXPECT_EQ(error_of("[gpu]\nbatch_cameras = 1\n" + camera), "cams.toml:2: [gpu]: 'batch_cameras' must be true or false");
  const RunConfig back = parse_run_config(format_run_config(off), "worker");
  EXPECT_FALSE(back.gpu.batch_cameras);
  EXPECT_TRUE(same_settings(back.gpu, off.gpu));
  EXPECT_FALSE(same_settings(back.gpu, GpuConfig{}));
}

}  // namespace
}  // namespace facepipe::runtime

namespace facepipe::runtime {
namespace {

TEST(ConfigOverrides, SetGpuAndTopLevelKeysAndValidateThem) {
  RunConfig base = parse_run_config("[[camera]]\nid = \"a\"\nsource = \"x.mp4\"\n", "base.toml");
  const RunConfig c = apply_overrides(base, {"gpu.max_batch_size=16", "gpu.enable_fp16=false", "metrics_port=9100",
                                             "gpu.preview_size=[640, 360]", "gpu.models_dir=\"/models\""});
  EXPECT_EQ(c.gpu.max_batch_size, 16);
  EXPECT_FALSE(c.gpu.enable_fp16);
  EXPECT_EQ(c.metrics_port, 9100);
  EXPECT_EQ(c.gpu.preview_width, 640);
  EXPECT_EQ(c.gpu.preview_height, 360);
  EXPECT_EQ(c.gpu.models_dir, "/models");
  ASSERT_EQ(c.cameras.size(), 1u);
  EXPECT_EQ(c.cameras[0].id, "a");
  // The same checks as the file: a bad value, an unknown key, a camera, a malformed override.
  for (const char* bad : {"gpu.buffer_size=3", "gpu.no_such_key=1", "camera.id=\"b\"", "gpu.max_batch_size", "gpu.models_dir=/x"}) {
    try {
      apply_overrides(base, {bad});
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      std::printf("[config] --set %s -> %s\n", bad, e.what());
      EXPECT_NE(std::string(e.what()).find("--set"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace facepipe::runtime

namespace facepipe::runtime {
namespace {

TEST(RunConfig, CaptureFormatKey) {
  const std::string camera = "[[camera]]\nid = \"a\"\nsource = \"x\"\n";
  EXPECT_EQ(parse_run_config(camera, "cams.toml").gpu.capture_format, CaptureFormat::kNV12);  // the default
  const RunConfig bgr = parse_run_config("[gpu]\ncapture_format = \"bgr\"\n" + camera, "cams.toml");
  EXPECT_EQ(bgr.gpu.capture_format, CaptureFormat::kBGR);
  EXPECT_EQ(parse_run_config("[gpu]\ncapture_format = \"nv12\"\n" + camera, "cams.toml").gpu.capture_format,
            CaptureFormat::kNV12);
  EXPECT_EQ(error_of("[gpu]\nmax_batch_size = 8\ncapture_format = \"yuyv\"\n" + camera),
            "cams.toml:3: [gpu]: 'capture_format' = 'yuyv' must be \"nv12\" or \"bgr\"");
  EXPECT_EQ(error_of("[gpu]\ncapture_format = 12\n" + camera), "cams.toml:2: [gpu]: 'capture_format' must be a string");
  // Round trip (the supervisor hands workers their config as TOML) and reload comparison.
  const RunConfig back = parse_run_config(format_run_config(bgr), "worker");
  EXPECT_EQ(back.gpu.capture_format, CaptureFormat::kBGR);
  EXPECT_TRUE(same_settings(back.gpu, bgr.gpu));
  EXPECT_FALSE(same_settings(bgr.gpu, GpuConfig{}));  // a change restarts the GPU cameras
  // --set, quoted or as a bare word; a bad value names the override.
  const RunConfig base = parse_run_config(camera, "base.toml");
  EXPECT_EQ(apply_overrides(base, {"gpu.capture_format=bgr"}).gpu.capture_format, CaptureFormat::kBGR);
  EXPECT_EQ(apply_overrides(bgr, {"gpu.capture_format=\"nv12\""}).gpu.capture_format, CaptureFormat::kNV12);
  try {
    apply_overrides(base, {"gpu.capture_format=rgb"});
    ADD_FAILURE() << "rgb was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--set gpu.capture_format=rgb"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("must be \"nv12\" or \"bgr\""), std::string::npos) << e.what();
  }
  // A bare word for an integer key is still refused by the key's own check.
  EXPECT_THROW(apply_overrides(base, {"gpu.max_batch_size=sixteen"}), Error);
}

}  // namespace
}  // namespace facepipe::runtime
