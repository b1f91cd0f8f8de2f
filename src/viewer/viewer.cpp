#include "viewer/viewer.h"

#include <SDL.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "common/status.h"
#include "ipc/shm_reader.h"
#include "viewer/overlay.h"

namespace facepipe::viewer {

namespace {

constexpr int kTileWidth = 960, kTileHeight = 540;

struct Camera {
  std::string name;
  ipc::ShmReader reader;
  ipc::Frame frame;
  TileStatus status;
  bool dirty = true;
  uint64_t attaches_seen = 0;
};

struct SdlDeleter {
  void operator()(SDL_Window* w) const { SDL_DestroyWindow(w); }
  void operator()(SDL_Renderer* r) const { SDL_DestroyRenderer(r); }
  void operator()(SDL_Texture* t) const { SDL_DestroyTexture(t); }
};

class Viewer {
 public:
  explicit Viewer(const ViewerOptions& o) : options_(o) {
    if (!o.mesh_obj.empty()) {
      try {
        mesh_ = load_mesh_edges(o.mesh_obj);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "facepipe view: %s: drawing points only\n", e.what());
      }
    }
    for (const std::string& c : o.cameras) add_camera(c);
    scan();
  }

  void run() {
    if (SDL_Init(SDL_INIT_VIDEO) != 0) throw Error(std::string("SDL: cannot initialise video: ") + SDL_GetError());
    struct Quit {
      ~Quit() { SDL_Quit(); }
    } quit;
    resize_canvas();
    int w = canvas_.width(), h = canvas_.height();
    const double fit = std::min({1.0, 1600.0 / w, 900.0 / h});
    window_.reset(SDL_CreateWindow(("facepipe view: " + options_.instance).c_str(), SDL_WINDOWPOS_CENTERED,
                                   SDL_WINDOWPOS_CENTERED, static_cast<int>(w * fit), static_cast<int>(h * fit),
                                   SDL_WINDOW_RESIZABLE | (options_.fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0)));
    if (!window_) throw Error(std::string("SDL: cannot open a window: ") + SDL_GetError());
    renderer_.reset(SDL_CreateRenderer(window_.get(), -1, 0));
    if (!renderer_) renderer_.reset(SDL_CreateRenderer(window_.get(), -1, SDL_RENDERER_SOFTWARE));
    if (!renderer_) throw Error(std::string("SDL: cannot create a renderer: ") + SDL_GetError());
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    std::printf("facepipe view: instance %s, %zu camera(s)\n", options_.instance.c_str(), cameras_.size());
    std::fflush(stdout);

    uint64_t last_scan = ipc::monotonic_ns(), last_tick = 0;
    while (running_) {
      SDL_Event e;
      while (SDL_PollEvent(&e)) handle(e);
      const uint64_t now = ipc::monotonic_ns();
      if (options_.cameras.empty() && now - last_scan > 1'000'000'000ull) {
        last_scan = now;
        scan();
      }
      const bool tick = now - last_tick > 200'000'000ull;  // ages and badges move without frames
      if (tick) last_tick = now;
      bool any = false;
      for (auto& cam : cameras_) any |= poll(*cam, now, tick);
      if (any || !texture_) present();
      else SDL_Delay(2);
    }
  }

 private:
  void add_camera(const std::string& name) {
    for (const auto& c : cameras_)
      if (c->name == name) return;
    ipc::ReaderOptions ro;
    ro.stale_after_ns = static_cast<uint64_t>(options_.stale_after_s * 1e9);
    auto cam = std::make_unique<Camera>(Camera{name, ipc::ShmReader(options_.instance, name, ro), {}, {}, true, 0});
    cam->status.camera = name;
    cameras_.push_back(std::move(cam));
    if (window_) resize_canvas();
  }

  void scan() {
    if (!options_.cameras.empty()) return;
    for (const auto& id : ipc::list_segments(options_.instance)) add_camera(id.camera);
  }

  bool poll(Camera& cam, uint64_t now, bool tick) {
    const ipc::ReadStatus r = cam.reader.read_latest(cam.frame);
    TileStatus& s = cam.status;
    const bool was_stale = s.stale, was_attached = s.attached;
    s.attached = cam.reader.attached();
    s.stale = s.attached && cam.reader.stale(now);
    if (cam.reader.attach_count() != cam.attaches_seen) {  // a (new) writer: its frames start over
      cam.attaches_seen = cam.reader.attach_count();
      cam.dirty = true;
    }
    s.message = r == ipc::ReadStatus::kIncompatible ? "INCOMPATIBLE SEGMENT" : "";
    if (r == ipc::ReadStatus::kFrame) {
      s.has_frame = true;
      const double latency = static_cast<double>(now - std::min(now, cam.frame.info().publish_ns)) * 1e-6;
      s.latency_ms = s.latency_ms == 0 ? latency : 0.9 * s.latency_ms + 0.1 * latency;
      cam.dirty = true;
    }
    if (const auto* view = cam.reader.view()) {
      s.fps = s.stale ? 0 : view->fps();
      s.heartbeat_age_s = static_cast<double>(view->heartbeat_age_ns(now)) * 1e-9;
    }
    const int n = static_cast<int>(cam.frame.faces().size());
    if (s.selected_face >= n) s.selected_face = 0;
    if (was_stale != s.stale || was_attached != s.attached || (tick && (s.stale || !s.attached))) cam.dirty = true;
    return cam.dirty;
  }

  void resize_canvas() {
    const int n = std::max<int>(1, static_cast<int>(cameras_.size()));
    cols_ = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
    const int rows = (n + cols_ - 1) / cols_;
    if (canvas_.width() == cols_ * kTileWidth && canvas_.height() == rows * kTileHeight) return;
    canvas_ = media::Image(cols_ * kTileWidth, rows * kTileHeight, media::PixelFormat::kBGR8);
    texture_.reset();
    for (auto& c : cameras_) c->dirty = true;
  }

  void present() {
    if (!texture_) {
      texture_.reset(SDL_CreateTexture(renderer_.get(), SDL_PIXELFORMAT_BGR24, SDL_TEXTUREACCESS_STREAMING,
                                       canvas_.width(), canvas_.height()));
      if (!texture_) throw Error(std::string("SDL: cannot create a texture: ") + SDL_GetError());
      SDL_RenderSetLogicalSize(renderer_.get(), canvas_.width(), canvas_.height());
      media::fill_rect(canvas_.view(), 0, 0, canvas_.width(), canvas_.height(), {0, 0, 0});
    }
    for (size_t i = 0; i < cameras_.size(); ++i) {
      Camera& cam = *cameras_[i];
      if (!cam.dirty) continue;
      cam.dirty = false;
      cam.status.selected_camera = cameras_.size() > 1 && static_cast<int>(i) == selected_camera_;
      const int col = static_cast<int>(i) % cols_, row = static_cast<int>(i) / cols_;
      media::ImageView tile{canvas_.pixel(col * kTileWidth, row * kTileHeight), kTileWidth, kTileHeight,
                            canvas_.stride(), canvas_.format(), nullptr, 0};
      render_tile(tile, cam.frame, cam.status, flags_, mesh_);
    }
    SDL_UpdateTexture(texture_.get(), nullptr, canvas_.data(), static_cast<int>(canvas_.stride()));
    SDL_SetRenderDrawColor(renderer_.get(), 0, 0, 0, 255);
    SDL_RenderClear(renderer_.get());
    SDL_RenderCopy(renderer_.get(), texture_.get(), nullptr, nullptr);
    SDL_RenderPresent(renderer_.get());
  }

  void handle(const SDL_Event& e) {
    if (e.type == SDL_QUIT) running_ = false;
    if (e.type == SDL_WINDOWEVENT) mark_all_dirty();
    if (e.type != SDL_KEYDOWN) return;
    switch (e.key.keysym.sym) {
      case SDLK_q:
      case SDLK_ESCAPE: running_ = false; break;
      case SDLK_m: flags_.mesh = !flags_.mesh; break;
      case SDLK_p: flags_.points = !flags_.points; break;
      case SDLK_b: flags_.boxes = !flags_.boxes; break;
      case SDLK_a: flags_.axes = !flags_.axes; break;
      case SDLK_s: flags_.blendshapes = !flags_.blendshapes; break;
      case SDLK_c:
        if (!cameras_.empty()) selected_camera_ = (selected_camera_ + 1) % static_cast<int>(cameras_.size());
        break;
      case SDLK_TAB:
        if (selected_camera_ < static_cast<int>(cameras_.size())) {
          Camera& cam = *cameras_[static_cast<size_t>(selected_camera_)];
          const int n = static_cast<int>(cam.frame.faces().size());
          cam.status.selected_face = n ? (cam.status.selected_face + 1) % n : 0;
        }
        break;
      case SDLK_f: {
        const bool full = SDL_GetWindowFlags(window_.get()) & SDL_WINDOW_FULLSCREEN_DESKTOP;
        SDL_SetWindowFullscreen(window_.get(), full ? 0 : SDL_WINDOW_FULLSCREEN_DESKTOP);
        break;
      }
      default: return;
    }
    mark_all_dirty();
  }

  void mark_all_dirty() {
    for (auto& c : cameras_) c->dirty = true;
  }

  ViewerOptions options_;
  MeshEdges mesh_;
  OverlayFlags flags_;
  std::vector<std::unique_ptr<Camera>> cameras_;
  int selected_camera_ = 0;
  int cols_ = 1;
  media::Image canvas_;
  std::unique_ptr<SDL_Window, SdlDeleter> window_;
  std::unique_ptr<SDL_Renderer, SdlDeleter> renderer_;
  std::unique_ptr<SDL_Texture, SdlDeleter> texture_;
  bool running_ = true;
};

}  // namespace

void run_viewer(const ViewerOptions& options) {
  for (const auto& c : options.cameras)
    if (!ipc::is_valid_name_part(c)) throw Error("--cameras: '" + c + "' is not a valid camera name");
  if (!ipc::is_valid_name_part(options.instance)) throw Error("--instance: '" + options.instance + "' is not valid");
  Viewer viewer(options);
  viewer.run();
}

}  // namespace facepipe::viewer
