// `facepipe view` under Xvfb: screenshots (ffmpeg x11grab) must show the preview and the landmark
// points (their exact overlay colour inside the face boxes), an OFFLINE badge after kill -9 of the
// writer, and the faces again once a new writer starts; the viewer must survive all of it and exit
// cleanly on SIGTERM. Skipped when Xvfb or ffmpeg is missing. Screenshots are kept in
// <build>/test_artifacts/ for inspection.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "ipc/process_util.h"
#include "ipc/shm_reader.h"
#include "media/image_io.h"
#include "viewer/overlay.h"

namespace facepipe::viewer {
namespace {

using namespace std::chrono_literals;
using test::ChildProcesses;

constexpr int kScreenW = 1280, kScreenH = 720;

struct Shot {
  media::Image image;  // RGB
  int green_total = 0, green_in_boxes = 0;
  int background = 0;  // preview background pixels (the demo's R == 30 gradient)
  int skin = 0;        // the demo's face discs
  int badge = 0;       // OFFLINE badge red
  int origin_x = -1, origin_y = -1;  // preview's top-left on screen
};

bool near(const uint8_t* p, media::Rgb c, int tol) {
  return std::abs(p[0] - c.r) <= tol && std::abs(p[1] - c.g) <= tol && std::abs(p[2] - c.b) <= tol;
}

std::optional<Shot> screenshot(ChildProcesses& children, int display, const std::string& path,
                               const std::vector<std::array<float, 4>>& boxes_preview) {
  std::remove(path.c_str());
  const pid_t ff = children.spawn({"/usr/bin/ffmpeg", "-loglevel", "error", "-y", "-f", "x11grab", "-video_size",
                                   std::to_string(kScreenW) + "x" + std::to_string(kScreenH), "-i",
                                   ":" + std::to_string(display), "-frames:v", "1", path});
  if (ff <= 0 || children.wait_exit(ff, 30s) != 0 || !std::filesystem::exists(path)) return std::nullopt;
  Shot s;
  s.image = media::decode_image_file(path);
  const media::Image& img = s.image;
  int min_x = kScreenW, max_y = -1;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      const uint8_t* p = img.pixel(x, y);
      if (p[0] == 30 && p[1] >= 30 && p[1] <= 70 && p[2] >= 40 && p[2] <= 100) {
        ++s.background;
        min_x = std::min(min_x, x);
        max_y = std::max(max_y, y);
      }
      s.skin += near(p, {200, 160, 130}, 6);
      s.badge += near(p, {200, 30, 30}, 6);
    }
  if (s.background > 0) {
    s.origin_x = min_x;
    s.origin_y = max_y - 539;
  }
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      const uint8_t* p = img.pixel(x, y);
      if (!(p[0] == kPointColor.r && p[1] == kPointColor.g && p[2] == kPointColor.b)) continue;
      ++s.green_total;
      for (const auto& b : boxes_preview) {
        const float px = static_cast<float>(x - s.origin_x), py = static_cast<float>(y - s.origin_y);
        if (px >= b[0] - 4 && px <= b[2] + 4 && py >= b[1] - 4 && py <= b[3] + 4) {
          ++s.green_in_boxes;
          break;
        }
      }
    }
  return s;
}

TEST(ViewerXvfb, ShowsPreviewAndLandmarksAndSurvivesWriterRestart) {
  if (!std::filesystem::exists("/usr/bin/Xvfb") || !std::filesystem::exists("/usr/bin/ffmpeg"))
    GTEST_SKIP() << "Xvfb or ffmpeg not installed (scripts/setup.sh installs them)";
  ChildProcesses children(test::unique_instance("view"));
  const std::string artifacts = std::string(FACEPIPE_BINARY_DIR) + "/test_artifacts";
  std::filesystem::create_directories(artifacts);

  // A free display number.
  int display = 100 + ::getpid() % 400;
  while (std::filesystem::exists("/tmp/.X11-unix/X" + std::to_string(display)) ||
         std::filesystem::exists("/tmp/.X" + std::to_string(display) + "-lock"))
    ++display;
  const pid_t xvfb = children.spawn({"/usr/bin/Xvfb", ":" + std::to_string(display), "-screen", "0",
                                     std::to_string(kScreenW) + "x" + std::to_string(kScreenH) + "x24", "-nolisten",
                                     "tcp"},
                                    {}, artifacts + "/xvfb.log");
  ASSERT_GT(xvfb, 0);
  ASSERT_TRUE(test::wait_until([&] { return std::filesystem::exists("/tmp/.X11-unix/X" + std::to_string(display)); }, 10s))
      << "Xvfb did not start";

  auto start_demo = [&] {
    return children.spawn({test::facepipe_binary(), "ipc-demo", "--quiet", "--still", "--instance", children.instance(),
                           "--cameras", "cam0", "--faces", "2", "--fps", "30", "--preview", "960x540",
                           "--source-size", "1920x1080"});
  };
  pid_t demo = start_demo();
  ASSERT_GT(demo, 0);
  ipc::ShmReader reader(children.instance(), "cam0");
  ipc::Frame frame;
  ASSERT_TRUE(test::wait_until([&] { return reader.read_latest(frame) == ipc::ReadStatus::kFrame; }, 10s));
  std::vector<std::array<float, 4>> boxes;  // in preview pixels (the faces do not move: --still)
  for (const auto& f : frame.faces()) boxes.push_back({f.box[0] / 2, f.box[1] / 2, f.box[2] / 2, f.box[3] / 2});
  ASSERT_EQ(boxes.size(), 2u);

  // LSAN_OPTIONS: in sanitizer builds, SDL's X11, D-Bus and GL driver libraries leave allocations
  // behind at exit that are theirs, not ours (seen: libdbus, libgomp, unloaded driver modules); they
  // would turn the viewer's clean exit into LeakSanitizer's exit code. No effect in normal builds.
  const pid_t viewer = children.spawn({test::facepipe_binary(), "view", "--instance", children.instance(), "--cameras", "cam0"},
                                      {"DISPLAY=:" + std::to_string(display), "SDL_VIDEODRIVER=x11", "LSAN_OPTIONS=detect_leaks=0"},
                                      artifacts + "/viewer.log");
  ASSERT_GT(viewer, 0);

  // 1. Preview and landmarks.
  std::optional<Shot> shot;
  ASSERT_TRUE(test::wait_until([&] {
    shot = screenshot(children, display, artifacts + "/viewer_live.png", boxes);
    return shot && shot->green_total > 300 && shot->background > 100000;
  }, 20s)) << "no preview with landmarks on screen (see " << artifacts << ")";
  std::printf("live: preview at (%d,%d), %d background px, %d skin px, %d landmark px (%d inside the boxes)\n",
              shot->origin_x, shot->origin_y, shot->background, shot->skin, shot->green_total, shot->green_in_boxes);
  EXPECT_GT(shot->skin, 1000);
  EXPECT_GE(shot->green_in_boxes, shot->green_total * 95 / 100);
  EXPECT_EQ(shot->badge, 0);
  ASSERT_TRUE(ChildProcesses::alive(viewer));

  // 2. kill -9 of the writer: OFFLINE badge, viewer alive.
  children.kill_and_reap(demo, SIGKILL);
  ASSERT_TRUE(test::wait_until([&] {
    shot = screenshot(children, display, artifacts + "/viewer_offline.png", boxes);
    return shot && shot->badge > 1000;
  }, 10s)) << "no OFFLINE badge";
  EXPECT_TRUE(ChildProcesses::alive(viewer));

  // 3. A new writer: the viewer reconnects by itself.
  demo = start_demo();
  ASSERT_GT(demo, 0);
  ASSERT_TRUE(test::wait_until([&] {
    shot = screenshot(children, display, artifacts + "/viewer_restarted.png", boxes);
    return shot && shot->badge == 0 && shot->green_total > 300;
  }, 20s)) << "viewer did not show the new writer's faces";
  EXPECT_GE(shot->green_in_boxes, shot->green_total * 95 / 100);
  EXPECT_TRUE(ChildProcesses::alive(viewer));

  // 4. Clean exit on SIGTERM.
  const int status = children.kill_and_reap(viewer, SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "viewer status " << status;
  children.kill_and_reap(demo, SIGTERM);
  children.kill_and_reap(xvfb, SIGTERM);
}

}  // namespace
}  // namespace facepipe::viewer
