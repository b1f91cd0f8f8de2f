// facepipe ipc-demo (hidden): publishes synthetic faces and previews through shared memory, standing
// in for `facepipe run` in tests and viewer demos. Faces are the canonical face mesh
// (canonical_face_model.obj, found like a model) turning slowly; without it, a grid of points.
//   facepipe ipc-demo --instance demo --cameras cam0,cam1 --faces 2 --fps 30 [--frames N] [--duration S]
// Face ids are 1..--faces; landmarks are in the --source-size pixel space, the preview is --preview.
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "apps/facepipe/cli_common.h"
#include "common/status.h"
#include "engine/model_locator.h"
#include "ipc/shm_atomic.h"
#include "ipc/shm_writer.h"
#include "media/draw.h"
#include "media/image.h"

namespace facepipe::cli {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }

struct DemoOptions {
  ModelOptions models;
  std::string instance = "default";
  std::vector<std::string> cameras{"cam0"};
  int faces = 2;
  double fps = 30;
  uint64_t frames = 0;     // 0: until --duration or a signal
  double duration = 0;     // seconds, 0: unlimited
  std::string preview = "960x540";
  std::string source_size = "1920x1080";
  bool no_preview = false;
  uint32_t slots = 8;
  bool quiet = false;
  bool still = false;      // faces do not move (tests compare screenshots with known positions)
};

std::pair<int, int> parse_size(const std::string& text, const char* what) {
  int w = 0, h = 0;
  char x = 0;
  std::istringstream in(text);
  if (!(in >> w >> x >> h) || (x != 'x' && x != 'X') || w <= 0 || h <= 0 || w > 16384 || h > 16384)
    throw Error(std::string(what) + ": expected WIDTHxHEIGHT, got '" + text + "'");
  return {w, h};
}

struct Vec3 {
  float x = 0, y = 0, z = 0;
};

// Mesh vertices in centimetres (x right, y up, z towards the camera), 478 of them.
std::vector<Vec3> load_face_shape(const ModelOptions& models, bool quiet) {
  std::vector<Vec3> v;
  try {
    const auto path = engine::ModelLocator(models.models_dir).find("canonical_face_model.obj");
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("v ", 0) == 0) {
        Vec3 p;
        std::istringstream(line.substr(2)) >> p.x >> p.y >> p.z;
        v.push_back(p);
      }
  } catch (const std::exception&) {
    v.clear();
  }
  if (v.size() < 468) {
    if (!quiet) std::fprintf(stderr, "ipc-demo: canonical_face_model.obj not found: publishing a point grid\n");
    v.clear();
    for (int i = 0; i < 468; ++i) {
      const float u = static_cast<float>(i % 22) / 21.f - 0.5f, w = static_cast<float>(i / 22) / 21.f - 0.5f;
      v.push_back({u * 14.f, -w * 18.f, 4.f * std::cos(u * 3.f) * std::cos(w * 3.f)});
    }
  }
  v.resize(468);
  // Iris: 5 points around each eye centre (between the eye corners 33/133 and 362/263).
  const Vec3 eyes[2] = {{(v[33].x + v[133].x) / 2, (v[33].y + v[133].y) / 2, (v[33].z + v[133].z) / 2 + 0.3f},
                        {(v[362].x + v[263].x) / 2, (v[362].y + v[263].y) / 2, (v[362].z + v[263].z) / 2 + 0.3f}};
  for (const Vec3& e : eyes) {
    v.push_back(e);
    for (int k = 0; k < 4; ++k)
      v.push_back({e.x + 0.55f * std::cos(k * 1.5708f), e.y + 0.55f * std::sin(k * 1.5708f), e.z});
  }
  return v;
}

// Face i at time t: the mesh turned by yaw, placed on a slow circle.
void make_face(const std::vector<Vec3>& shape, int index, int num_faces, double t, int src_w, int src_h,
               face::FaceResult& f) {
  const float yaw = static_cast<float>(0.5 * std::sin(t * 0.7 + index));
  const float cy_ = std::cos(yaw), sy = std::sin(yaw);
  const float scale = static_cast<float>(src_h) / 60.f;  // ~15 cm face -> a quarter of the image height
  const double angle = t * 0.3 + 6.2832 * index / std::max(1, num_faces);
  const float cx = static_cast<float>(src_w * (0.5 + 0.25 * std::cos(angle)));
  const float cyc = static_cast<float>(src_h * (0.5 + 0.2 * std::sin(angle)));
  f = face::FaceResult{};
  f.id = index + 1;
  f.score = 0.9f;
  f.presence = 0.99f;
  f.num_landmarks = face::kNumLandmarks;
  float x1 = 1e9f, y1 = 1e9f, x2 = -1e9f, y2 = -1e9f;
  for (size_t i = 0; i < face::kNumLandmarks; ++i) {
    const Vec3& p = shape[i];
    const float rx = cy_ * p.x + sy * p.z, rz = -sy * p.x + cy_ * p.z;
    auto& l = f.landmarks[i];
    l.x = cx + rx * scale;
    l.y = cyc - p.y * scale;
    l.z = -rz * scale;
    x1 = std::min(x1, l.x), y1 = std::min(y1, l.y), x2 = std::max(x2, l.x), y2 = std::max(y2, l.y);
  }
  f.box = {x1, y1, x2, y2};
  f.has_blendshapes = true;
  for (int b = 0; b < face::kNumBlendshapes; ++b)
    f.blendshapes[static_cast<size_t>(b)] = static_cast<float>(0.5 + 0.5 * std::sin(t * 2 + b * 0.4 + index));
  f.has_pose = true;
  const float m[16] = {cy_, 0, sy, 0, 0, 1, 0, 0, -sy, 0, cy_, -50, 0, 0, 0, 1};
  std::copy(m, m + 16, f.transform.begin());
  f.yaw = yaw * 57.29578f;
  f.roi = {(x1 + x2) / 2, (y1 + y2) / 2, 1.5f * std::max(x2 - x1, y2 - y1), 0};
}

// Preview: a dark blue-grey gradient (never pure green: the viewer test looks for its overlay
// colour) with a skin-coloured disc per face and the frame number.
void render_preview(media::Image& img, const std::vector<face::FaceResult>& faces, int src_w, uint64_t frame) {
  for (int y = 0; y < img.height(); ++y) {
    uint8_t* row = img.row(y);
    for (int x = 0; x < img.width(); ++x) {
      row[3 * x + 0] = static_cast<uint8_t>(40 + (x * 60) / img.width());   // B (image is BGR)
      row[3 * x + 1] = static_cast<uint8_t>(30 + (y * 40) / img.height());  // G
      row[3 * x + 2] = 30;                                                  // R
    }
  }
  const float s = static_cast<float>(img.width()) / static_cast<float>(src_w);
  for (const auto& f : faces)
    media::fill_circle(img.view(), {(f.box.x1 + f.box.x2) / 2 * s, (f.box.y1 + f.box.y2) / 2 * s},
                       0.45f * (f.box.x2 - f.box.x1) * s, {200, 160, 130});
  media::draw_text(img.view(), 8, img.height() - 20, "DEMO FRAME " + std::to_string(frame), {200, 200, 200}, 1);
}

void run_demo(const DemoOptions& o) {
  if (o.faces < 0 || o.faces > 64) throw Error("--faces must be 0..64");
  if (!(o.fps > 0 && o.fps <= 100000)) throw Error("--fps must be in (0, 100000]");
  const auto [src_w, src_h] = parse_size(o.source_size, "--source-size");
  const auto [pw, ph] = parse_size(o.preview, "--preview");
  const auto shape = load_face_shape(o.models, o.quiet);

  std::vector<ipc::ShmWriter> writers;
  for (const std::string& cam : o.cameras) {
    ipc::WriterOptions w;
    w.instance = o.instance;
    w.camera = cam;
    w.slot_count = o.slots;
    w.max_faces = static_cast<uint32_t>(std::max(o.faces, 1));
    w.preview_width = o.no_preview ? 0 : static_cast<uint32_t>(pw);
    w.preview_height = o.no_preview ? 0 : static_cast<uint32_t>(ph);
    w.preview_format = o.no_preview ? FP_SHM_PREVIEW_NONE : FP_SHM_PREVIEW_BGR8;
    w.source = "synthetic";
    w.camera_width = static_cast<uint32_t>(src_w);
    w.camera_height = static_cast<uint32_t>(src_h);
    w.nominal_fps = o.fps;
    writers.push_back(ipc::ShmWriter::create(w));
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  if (!o.quiet) {
    for (const auto& w : writers) std::printf("ipc-demo: publishing %s\n", w.name().c_str());
    std::fflush(stdout);
  }

  media::Image preview;
  if (!o.no_preview) preview = media::Image(pw, ph, media::PixelFormat::kBGR8);
  std::vector<face::FaceResult> faces(static_cast<size_t>(o.faces));
  const auto start = std::chrono::steady_clock::now();
  const auto period = std::chrono::duration<double>(1.0 / o.fps);
  for (uint64_t frame = 1; !g_stop.load(); ++frame) {
    if (o.frames && frame > o.frames) break;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (o.duration > 0 && elapsed >= o.duration) break;
    const double t = o.still ? 0.0 : elapsed;
    const uint64_t capture = ipc::monotonic_ns();
    for (size_t c = 0; c < writers.size(); ++c) {
      for (int i = 0; i < o.faces; ++i)
        make_face(shape, i, o.faces, t + static_cast<double>(c), src_w, src_h, faces[static_cast<size_t>(i)]);
      if (!o.no_preview) render_preview(preview, faces, src_w, frame);
      ipc::FrameInfo info{frame, capture, static_cast<uint32_t>(src_w), static_cast<uint32_t>(src_h)};
      const Status s = writers[c].publish(info, faces, o.no_preview ? media::ConstImageView{} : preview.view());
      if (!s) throw Error(std::string("publish: ") + s.message());
    }
    std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(period * frame));
  }
  if (!o.quiet) std::printf("ipc-demo: stopped after %llu frames\n", static_cast<unsigned long long>(writers.empty() ? 0 : writers[0].publish_count()));
}

}  // namespace

void register_ipc_demo_commands(CLI::App& app) {
  auto options = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("ipc-demo", "Publish synthetic faces through shared memory (tests, viewer demos)");
  cmd->group("");  // hidden: a stand-in for `facepipe run`
  add_model_options(*cmd, options->models);
  cmd->add_option("--instance", options->instance, "Instance name")->capture_default_str();
  cmd->add_option("--cameras", options->cameras, "Camera names")->delimiter(',')->capture_default_str();
  cmd->add_option("--faces", options->faces, "Faces per frame (ids 1..N)")->capture_default_str();
  cmd->add_option("--fps", options->fps, "Frames per second")->capture_default_str();
  cmd->add_option("--frames", options->frames, "Stop after N frames (0: no limit)");
  cmd->add_option("--duration", options->duration, "Stop after S seconds (0: no limit)");
  cmd->add_option("--preview", options->preview, "Preview size WxH")->capture_default_str();
  cmd->add_option("--source-size", options->source_size, "Pixel space of the landmarks WxH")->capture_default_str();
  cmd->add_flag("--no-preview", options->no_preview, "Publish no preview images");
  cmd->add_option("--slots", options->slots, "Ring depth")->capture_default_str();
  cmd->add_flag("--quiet", options->quiet, "No messages");
  cmd->add_flag("--still", options->still, "Faces stay where they are");
  cmd->callback([options] { run_demo(*options); });
}

}  // namespace facepipe::cli
