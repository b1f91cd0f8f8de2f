// Configuration of `facepipe run` (docs/runtime.md): a TOML file with global settings, a [gpu]
// section (the engine settings of the original design; the CPU path uses the ones that apply to it)
// and one [[camera]] table per camera.
//
// Loading is start-up code: every problem (syntax, unknown key, wrong type, value out of range,
// duplicate camera id) throws facepipe::Error whose message starts with "FILE:LINE: ".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace facepipe::runtime {

inline constexpr int kCpu = -1;      // `gpu = -1` or `gpu = "cpu"`
inline constexpr int kGpuAuto = -2;  // `gpu = "auto"` (the default)

// How the cameras of a GPU worker that runs the CUDA pipeline capture video (files, streams,
// devices): kNV12 hands the decoder's 4:2:0 planes to the GPU, which samples them directly (no CPU
// colour conversion, half the upload bytes); kBGR converts every frame to packed BGR on the CPU
// first (the old path; a fallback). CPU pipelines always capture BGR. docs/runtime.md.
enum class CaptureFormat : uint8_t { kNV12, kBGR };
const char* capture_format_name(CaptureFormat format);  // "nv12" / "bgr" (the config values)

struct GpuConfig {
  int max_batch_size = 8;           // ROIs per landmark batch (GPU workers)
  bool batch_cameras = true;        // a CUDA GPU worker runs its cameras through one batched pipeline
  int buffer_size = 32;             // frame ring slots per camera (power of two)
  bool enable_fp16 = true;
  int64_t memory_pool_size_mb = 1024;
  int detection_size = 640;         // RetinaFace input long side
  int roi_size = 256;               // landmark network input
  int preview_width = 960, preview_height = 540;
  float detection_confidence = 0.5f;
  std::string models_dir;           // empty: the model locator's default search
  std::string landmark_model;       // empty: face_landmarker.task's v2 network
  CaptureFormat capture_format = CaptureFormat::kNV12;  // `capture_format = "nv12" | "bgr"`
};

struct CameraConfig {
  std::string id;        // segment name part: 1..48 of [A-Za-z0-9_-]
  std::string name;      // display name (defaults to id)
  std::string source;    // file, folder of images, URL, or /dev/videoN
  int gpu = kGpuAuto;    // device index, kCpu, or kGpuAuto (camera index % number of GPUs; CPU when none)
  std::string detector = "blazeface";
  int max_faces = 4;
  double fps_cap = 0;    // 0: no cap
  bool preview = true;
  bool loop = true;      // files and image folders start again at the end
  bool realtime = true;  // files paced to their frame rate; false: as fast as the pipeline goes
  int line = 0;          // where the table starts in the file (for messages)
};

// How the supervisor watches its worker processes (docs/runtime.md, "Supervisor").
struct SupervisorConfig {
  int heartbeat_timeout_ms = 500;  // main loop or a frame in flight older than this: the worker is stuck
  int startup_timeout_ms = 30000;  // loading models / opening cameras may take this long
  int stop_timeout_ms = 1500;      // SIGTERM → SIGKILL on shutdown
  int restart_backoff_max_ms = 8000;  // cap of the crash-loop backoff
};

struct RunConfig {
  std::string instance = "default";
  int metrics_port = 0;  // 0: no metrics endpoint
  GpuConfig gpu;
  SupervisorConfig supervisor;
  std::vector<CameraConfig> cameras;
  std::string origin = "<defaults>";  // file name, for messages
};

// Parses TOML text; `origin` names it in messages (a file path).
RunConfig parse_run_config(std::string_view toml_text, const std::string& origin);
// Reads and parses a file (throws when unreadable).
RunConfig load_run_config(const std::string& path);

// TOML text that parse_run_config reads back into an equal configuration (the supervisor hands
// each worker its share of the cameras this way).
std::string format_run_config(const RunConfig& config);

// Command-line overrides, each "section.key=value" or "key=value" with a TOML value
// (`--set gpu.max_batch_size=16 --set gpu.enable_fp16=false --set gpu.preview_size=[640,360]`):
// applied to `config` and validated exactly as the file is. Cameras are not settable this way.
// A bare word ([A-Za-z][A-Za-z0-9_-]*, not true/false) is taken as a string, so
// `--set gpu.capture_format=bgr` needs no shell-proof quotes. Throws facepipe::Error naming the override.
RunConfig apply_overrides(const RunConfig& config, const std::vector<std::string>& overrides);

// Equal settings (the position in the file does not count): a reload leaves such a camera alone.
bool same_settings(const CameraConfig& a, const CameraConfig& b);
bool same_settings(const GpuConfig& a, const GpuConfig& b);

}  // namespace facepipe::runtime
