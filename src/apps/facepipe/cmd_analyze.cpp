// facepipe analyze [options] --out DIR INPUT...
//   image -> DIR/<stem>.json (+ DIR/<stem>.overlay.png with --overlay)
//   video -> DIR/<stem>.jsonl and DIR/<stem>.csv (+ DIR/<stem>.overlay.mp4 with --overlay)
// Each input is processed on its own: a bad file is reported with its cause, the others still run,
// and the exit code is 1 when any input failed.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "apps/facepipe/cli_common.h"
#include "apps/facepipe/overlay.h"
#include "common/status.h"
#include "face/output/face_records.h"
#include "face/pipeline/face_pipeline.h"
#if FACEPIPE_HAVE_CUDA
#include "face/cuda/cuda_face_pipeline.h"
#endif
#include "media/image_io.h"
#include "media/kernel_view.h"
#include "media/video_reader.h"
#include "media/video_writer.h"

namespace facepipe::cli {

namespace {

namespace fs = std::filesystem;

struct AnalyzeOptions {
  ModelOptions models;
  std::string detector = "blazeface";
  int max_faces = 32;
  std::string device = "cpu";
  std::string landmarks;
  std::string detection_size = "640";
  float min_detection_confidence = 0.5f;
  float min_presence = 0.5f;
  int detection_interval = 10;
  bool no_smoothing = false;
  bool overlay = false;
  int threads = 0;
  bool fp16 = false;
  std::string out = "facepipe-out";
  std::vector<std::string> inputs;
};

bool is_image_path(const fs::path& p) {
  static const std::set<std::string> kImageExtensions = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif",
                                                          ".tiff", ".ppm", ".pgm", ".jfif"};
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return kImageExtensions.count(ext) > 0;
}

void write_text_file(const fs::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) throw Error(path.string() + ": cannot write");
}

// The bundled sample inputs: the shared test images and the talking-head clip.
std::vector<std::string> sample_inputs() {
  fs::path root;
  try {
    root = sample_data_root();
  } catch (const Error&) {
    throw Error("no input given and no sample data found (looked for ../shared/testdata); name images or videos to analyze");
  }
  std::error_code ec;
  std::vector<std::string> files;
  if (fs::is_directory(root / "images", ec))
    for (const auto& e : fs::directory_iterator(root / "images"))
      if (is_image_path(e.path())) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  const fs::path video = root / "video" / "talking_man_glasses_720x1280.mp4";
  if (fs::exists(video, ec)) files.push_back(video.string());
  return files;
}

class Analyzer {
 public:
  Analyzer(const AnalyzeOptions& o, const face::FacePipelineConfig& config)
      : options_(o), terminal_(isatty(STDERR_FILENO) != 0) {
    if (o.device == "cpu") {
      cpu_ = std::make_unique<face::FacePipeline>(config);
      return;
    }
#if FACEPIPE_HAVE_CUDA
    face::cuda::CudaFacePipelineConfig gc;
    gc.face = config;
    gc.device = device_index_;
    gc.cameras = 1;
    gc.max_width = 1280;
    gc.max_height = 1280;
    gc.max_batch = std::min(config.max_faces, 64);
    gc.fp16 = o.fp16;
    gpu_ = std::make_unique<face::cuda::CudaFacePipeline>(gc);
#endif
  }

  void analyze_image(const fs::path& input) {
    media::DecodeInfo info;
    const media::Image image = media::decode_image_file(input, &info);
    if (info.grayscale_expanded || info.depth_reduced || info.palette_expanded || info.alpha_dropped)
      std::fprintf(stderr, "facepipe: note: %s: converted to 8-bit RGB (%s)\n", input.c_str(), info.summary().c_str());
    const Status st = process_image(media::kernel_view(image));
    if (!st.is_ok()) throw Error(input.string() + ": " + st.message());
    const auto faces = this->faces();

    std::string json = "{\"image\": ";
    face::append_json_string(json, input.filename().string());
    json += ", \"width\": " + std::to_string(image.width()) + ", \"height\": " + std::to_string(image.height()) +
            ", \"detector\": ";
    face::append_json_string(json, options_.detector);
    json += ", \"faces\": ";
    face::append_faces_json(json, faces);
    json += "}\n";
    const fs::path out = fs::path(options_.out) / (input.stem().string() + ".json");
    write_text_file(out, json);
    if (options_.overlay) {
      media::Image canvas = image.clone();
      draw_face_overlay(canvas.view(), faces);
      media::write_png(fs::path(options_.out) / (input.stem().string() + ".overlay.png"), canvas.view());
    }
    std::printf("%s: %zu face(s) -> %s\n", input.c_str(), faces.size(), out.c_str());
  }

  // Returns normally when every frame was read; throws when the video could not be opened or ended
  // in an error (after writing what was decoded).
  void analyze_video(const fs::path& input) {
    media::VideoReader reader(input.string());
    const media::VideoStreamInfo& info = reader.info();
    reset_tracking(info.width, info.height);
    const std::string stem = input.stem().string();
    const fs::path jsonl_path = fs::path(options_.out) / (stem + ".jsonl");
    const fs::path csv_path = fs::path(options_.out) / (stem + ".csv");
    std::ofstream jsonl(jsonl_path, std::ios::binary), csv(csv_path, std::ios::binary);
    if (!jsonl || !csv) throw Error(input.string() + ": cannot create outputs in " + options_.out);
    std::unique_ptr<media::VideoWriter> overlay;
    if (options_.overlay) {
      media::VideoWriterOptions wo;
      wo.fps = info.fps > 0 ? info.fps : 30.0;
      overlay = std::make_unique<media::VideoWriter>(fs::path(options_.out) / (stem + ".overlay.mp4"), info.width,
                                                     info.height, wo);
    }
    std::string line, rows;
    rows.reserve(1 << 16);
    face::append_csv_header(rows, landmark_count());
    csv << rows;
    media::VideoFrame frame;
    int64_t frames = 0, face_frames = 0;
    const auto start = std::chrono::steady_clock::now();
    Status st;
    while ((st = reader.read(frame)).is_ok()) {
      const Status processed = process_frame(media::kernel_view(frame.image), frame.timestamp_ms / 1000.0);
      if (!processed.is_ok()) throw Error(input.string() + ": frame " + std::to_string(frame.index) + ": " + processed.message());
      const auto faces = this->faces();
      line.clear();
      line += "{\"frame\": " + std::to_string(frame.index) + ", \"timestamp_ms\": " + std::to_string(frame.timestamp_ms) +
              ", \"faces\": ";
      face::append_faces_json(line, faces);
      line += "}\n";
      jsonl << line;
      rows.clear();
      for (const face::FaceResult& f : faces) face::append_csv_row(rows, frame.index, frame.timestamp_ms, f, landmark_count());
      csv << rows;
      if (overlay) {
        draw_face_overlay(frame.image.view(), faces);
        const Status written = overlay->write(frame.image.view());
        if (!written.is_ok()) throw Error(input.string() + ": overlay video: " + written.message());
      }
      ++frames;
      face_frames += static_cast<int64_t>(faces.size());
      if (terminal_) progress(input, frames, info.frame_count_estimate, start);
    }
    if (terminal_) std::fprintf(stderr, "\n");
    if (overlay) overlay->close();
    jsonl.close();
    csv.close();
    if (!jsonl || !csv) throw Error(input.string() + ": error writing " + jsonl_path.string() + " or " + csv_path.string());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s: %lld frame(s), %lld face-frame(s), %.1f frames/s -> %s, %s\n", input.c_str(),
                static_cast<long long>(frames), static_cast<long long>(face_frames), frames / std::max(seconds, 1e-9),
                jsonl_path.c_str(), csv_path.c_str());
    if (!media::is_end_of_stream(st)) throw Error(input.string() + ": stopped after " + std::to_string(frames) + " frame(s): " + st.message());
    if (frames == 0) throw Error(input.string() + ": no decodable frame");
    if (info.frame_count_estimate > 0 && frames + 2 < info.frame_count_estimate)
      throw Error(input.string() + ": the stream ended early (" + std::to_string(frames) + " of " +
                  std::to_string(info.frame_count_estimate) + " frames): truncated file?");
  }

 private:
  // The CPU or the GPU pipeline behind one face.
  Status process_image(const kernels::ImageView& image) {
    if (cpu_) return cpu_->process_image(image);
#if FACEPIPE_HAVE_CUDA
    gpu_->ensure_frame_capacity(image.width, image.height);
    return gpu_->process_images({&image, 1});
#else
    return Status::error(StatusCode::kUnsupported, "no pipeline");
#endif
  }
  Status process_frame(const kernels::ImageView& image, double timestamp_s) {
    if (cpu_) return cpu_->process_frame(image, timestamp_s);
#if FACEPIPE_HAVE_CUDA
    return gpu_->process_frames({&image, 1}, {&timestamp_s, 1});
#else
    return Status::error(StatusCode::kUnsupported, "no pipeline");
#endif
  }
  std::span<const face::FaceResult> faces() const {
#if FACEPIPE_HAVE_CUDA
    if (gpu_) return gpu_->faces(0);
#endif
    return cpu_->faces();
  }
  int landmark_count() const {
#if FACEPIPE_HAVE_CUDA
    if (gpu_) return gpu_->landmark_count();
#endif
    return cpu_->landmark_count();
  }
  void reset_tracking(int width, int height) {
#if FACEPIPE_HAVE_CUDA
    if (gpu_) {
      gpu_->ensure_frame_capacity(width, height);
      gpu_->reset_tracking();
      return;
    }
#endif
    cpu_->reset_tracking();
  }

  void progress(const fs::path& input, int64_t done, int64_t total, std::chrono::steady_clock::time_point start) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double fps = done / std::max(seconds, 1e-9);
    if (total > 0) {
      const int width = 30;
      const int filled = static_cast<int>(std::min<int64_t>(width, done * width / total));
      std::fprintf(stderr, "\r%s [%.*s%*s] %lld/%lld %.1f fps", input.filename().c_str(), filled,
                   "##############################", width - filled, "", static_cast<long long>(done),
                   static_cast<long long>(total), fps);
    } else {
      std::fprintf(stderr, "\r%s %lld frames %.1f fps", input.filename().c_str(), static_cast<long long>(done), fps);
    }
    std::fflush(stderr);
  }

  const AnalyzeOptions& options_;
  std::unique_ptr<face::FacePipeline> cpu_;
#if FACEPIPE_HAVE_CUDA
  std::unique_ptr<face::cuda::CudaFacePipeline> gpu_;
  int device_index_ = 0;
#endif
  bool terminal_;
};

void run_analyze(const AnalyzeOptions& o) {
  if (o.device != "cpu" && o.device != "cuda") throw Error("unknown --device '" + o.device + "' (cpu or cuda)");
#if !FACEPIPE_HAVE_CUDA
  if (o.device == "cuda") throw Error("--device cuda: this build has no CUDA support (rebuild with the CUDA toolkit)");
#endif
  face::FacePipelineConfig config;
  config.detector = face::parse_detector(o.detector);
  config.max_faces = o.max_faces;
  config.models_dir = o.models.models_dir;
  config.landmark_model = o.landmarks;
  config.min_detection_confidence = o.min_detection_confidence;
  config.min_presence = o.min_presence;
  config.detection_interval = o.detection_interval;
  config.smoothing = !o.no_smoothing;
  config.threads = o.threads;
  if (o.detection_size == "native") {
    config.detection_size = 0;
  } else {
    try {
      config.detection_size = std::stoi(o.detection_size);
    } catch (const std::exception&) {
      throw Error("--detection-size must be a number of pixels or 'native'");
    }
    if (config.detection_size < 32) throw Error("--detection-size must be at least 32");
  }
  const std::vector<std::string> inputs = o.inputs.empty() ? sample_inputs() : o.inputs;
  fs::create_directories(o.out);
  Analyzer analyzer(o, config);
  int failed = 0;
  for (const std::string& input : inputs) {
    try {
      std::error_code ec;
      if (!fs::exists(input, ec)) throw Error(input + ": no such file");
      if (is_image_path(input)) {
        analyzer.analyze_image(input);
      } else {
        analyzer.analyze_video(input);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "facepipe: error: %s\n", e.what());
      ++failed;
    }
  }
  if (failed) throw Error(std::to_string(failed) + " of " + std::to_string(inputs.size()) + " input(s) failed");
}

}  // namespace

void register_analyze_commands(CLI::App& app) {
  auto o = std::make_shared<AnalyzeOptions>();
  CLI::App* cmd = app.add_subcommand("analyze", "Find faces in images and videos: landmarks, blendshapes, head pose");
  cmd->add_option("inputs", o->inputs, "Images or videos (none: the bundled sample data)");
  cmd->add_option("--out", o->out, "Output directory (default: facepipe-out)");
  cmd->add_option("--detector", o->detector, "blazeface (MediaPipe's), blazeface-full (distant faces) or retinaface (small, crowded faces)")
      ->check(CLI::IsMember(kDetectorNames));
  cmd->add_option("--max-faces", o->max_faces, "Most faces per image or frame (default 32; video: at most 32)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--device", o->device, "cpu or cuda (default cpu)");
  cmd->add_option("--landmarks", o->landmarks, "Landmark model FILE[:member] (default: the 478-point network of face_landmarker.task)");
  cmd->add_option("--detection-size", o->detection_size, "RetinaFace input long side in pixels, or 'native' (default 640)");
  cmd->add_option("--min-detection-confidence", o->min_detection_confidence, "Detector score threshold (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--min-presence", o->min_presence, "Face presence threshold of the landmark network (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--detection-interval", o->detection_interval, "Video: frames between detector runs while faces are missing (default 10)")
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("--no-smoothing", o->no_smoothing, "Video: no one-euro filter on the landmarks");
  cmd->add_flag("--overlay", o->overlay, "Also write the input with landmarks, boxes and ids drawn (PNG / MP4)");
  cmd->add_option("--threads", o->threads, "CPU threads (default: all cores)");
  cmd->add_flag("--fp16", o->fp16, "With --device cuda: f16 storage in the detector and landmark networks (faster, less exact)");
  add_model_options(*cmd, o->models);
  cmd->callback([o] { run_analyze(*o); });
}

}  // namespace facepipe::cli
