// `facepipe run` as a real process: frames in shared memory, metrics over HTTP, clean SIGTERM,
// configuration errors, and (when an ffmpeg binary is present) reconnecting to an HTTP stream.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "ipc/process_util.h"
#include "ipc/shm_reader.h"
#include "reliability/run_util.h"
#include "support/test_support.h"

namespace facepipe::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(FacepipeRun, SampleVideoPublishesTracksServesMetricsAndStopsOnSigterm) {
  FACEPIPE_REQUIRE_FILE(sample_video());
  ChildProcesses children(unique_instance("run"));
  const int port = pick_port(1);
  const fs::path log = temp_file("run.log");
  const pid_t pid = children.spawn({facepipe_binary(), "run", "--instance", children.instance(), "--models",
                                    models_dir().string(), "--metrics-port", std::to_string(port)},
                                   {}, log.string());
  ASSERT_GT(pid, 0);
  ipc::ShmReader reader(children.instance(), "cam0");
  const auto t0 = std::chrono::steady_clock::now();
  const Observed o = observe(reader, 60, 60s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_GE(o.frames_with_face, 60) << read_text(log);
  EXPECT_EQ(o.landmarks, 478u);
  ASSERT_EQ(o.ids.size(), 1u) << "the one face keeps one id";
  EXPECT_EQ(o.preview_w, 304);  // 720x1280 fitted into 960x540
  EXPECT_EQ(o.preview_h, 540);
  std::printf("[ run ] %d frames (%d with a face) in %.2f s incl. start-up\n", o.frames, o.frames_with_face, seconds);

  // Metrics: the camera's counters (served by the supervisor from the worker's status page, which
  // is refreshed every 50 ms: wait for it to catch up with what the reader saw).
  const std::string labels = "{instance=\"" + children.instance() + "\",camera=\"cam0\"}";
  EXPECT_TRUE(wait_until([&] { return metric(http_get(port, "/metrics"), "facepipe_camera_faces_total" + labels) >= 60; }, 1000ms));
  const std::string page = http_get(port, "/metrics");
  ASSERT_NE(page.find("HTTP/1.1 200 OK"), std::string::npos) << page;
  EXPECT_GE(metric(page, "facepipe_camera_frames_total" + labels), 60) << page;
  EXPECT_GE(metric(page, "facepipe_camera_faces_total" + labels), 60) << page;
  EXPECT_EQ(metric(page, "facepipe_camera_reconnects_total" + labels), 0) << page;
  EXPECT_GT(metric(page, "facepipe_camera_fps" + labels), 5) << page;
  std::printf("[ run ] metrics: fps %.1f, drops %.0f\n", metric(page, "facepipe_camera_fps" + labels),
              metric(page, "facepipe_camera_drops_total" + labels));
  EXPECT_EQ(metric(page, "facepipe_camera_source_state{instance=\"" + children.instance() +
                             "\",camera=\"cam0\",state=\"live\"}"),
            1);
  EXPECT_NE(page.find("facepipe_camera_latency_seconds_count" + labels), std::string::npos);
  EXPECT_NE(http_get(port, "/other").find("404"), std::string::npos);

  // SIGTERM: exit 0 within 2 s, nothing left in /dev/shm.
  const auto stop0 = std::chrono::steady_clock::now();
  const int status = children.kill_and_reap(pid, SIGTERM, 2000ms);
  const double stop_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - stop0).count();
  std::printf("[ run ] SIGTERM -> exit in %.0f ms\n", stop_ms);
  ASSERT_NE(status, -1) << "did not stop within 2 s\n" << read_text(log);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(log);
  EXPECT_TRUE(ipc::list_segments(children.instance()).empty());
  fs::remove(log);
}

TEST(FacepipeRun, SigintAndTimeLimitEndCleanly) {
  FACEPIPE_REQUIRE_FILE(sample_video());
  ChildProcesses children(unique_instance("runint"));
  const std::vector<std::string> base = {facepipe_binary(), "run", "--instance", children.instance(), "--models",
                                         models_dir().string()};
  const pid_t a = children.spawn(base, {}, "/dev/null");
  ipc::ShmReader reader(children.instance(), "cam0");
  ASSERT_GE(observe(reader, 5, 60s).frames, 5);
  const int status = children.kill_and_reap(a, SIGINT, 2000ms);
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(ipc::list_segments(children.instance()).empty());

  auto timed = base;
  timed.insert(timed.end(), {"--seconds", "1.5"});
  const pid_t b = children.spawn(timed, {}, "/dev/null");
  const int timed_status = children.wait_exit(b, 60s);
  EXPECT_TRUE(timed_status != -1 && WIFEXITED(timed_status) && WEXITSTATUS(timed_status) == 0);
  EXPECT_TRUE(ipc::list_segments(children.instance()).empty());
}

// Runs facepipe run with a config and returns (exit status, log).
std::pair<int, std::string> run_with_config(ChildProcesses& children, const std::string& toml) {
  const fs::path config = temp_file("cams.toml");
  std::ofstream(config) << toml;
  const fs::path log = temp_file("bad.log");
  const pid_t pid = children.spawn({facepipe_binary(), "run", "--config", config.string(), "--instance",
                                    children.instance(), "--models", models_dir().string()},
                                   {}, log.string());
  const int status = children.wait_exit(pid, 60s);
  std::string text = read_text(log);
  fs::remove(config);
  fs::remove(log);
  return {status, text};
}

TEST(FacepipeRun, BadConfigNamesTheLine) {
  ChildProcesses children(unique_instance("runbad"));
  const auto [status, log] = run_with_config(children, "[[camera]]\nid = \"cam0\"\nsource = \"x.mp4\"\nfsp = 10\n");
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);  // configuration error
  EXPECT_NE(log.find("cams.toml:4: camera 'cam0': unknown key 'fsp'"), std::string::npos) << log;
}

TEST(FacepipeRun, MissingFileNamesTheCamera) {
  ChildProcesses children(unique_instance("runmiss"));
  const auto [status, log] = run_with_config(children, "[[camera]]\nid = \"lobby\"\nsource = \"/nonexistent/clip.mp4\"\n");
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  // A configuration file that is not there.
  const fs::path missing_log = temp_file("missing.log");
  const pid_t pid = children.spawn({facepipe_binary(), "run", "--config", "/nonexistent/cams.toml", "--instance",
                                    children.instance()},
                                   {}, missing_log.string());
  const int missing_status = children.wait_exit(pid, 30s);
  EXPECT_TRUE(WIFEXITED(missing_status) && WEXITSTATUS(missing_status) == 2);
  EXPECT_NE(read_text(missing_log).find("/nonexistent/cams.toml: cannot read the configuration file"), std::string::npos)
      << read_text(missing_log);
  fs::remove(missing_log);
  EXPECT_NE(log.find("camera 'lobby'"), std::string::npos) << log;
  EXPECT_NE(log.find("/nonexistent/clip.mp4"), std::string::npos) << log;
  EXPECT_TRUE(ipc::list_segments(children.instance()).empty());
}

// Nothing can start (no model files): the worker says why for the camera, the supervisor gives up
// instead of restarting it forever, and exits with the configuration-error code.
TEST(FacepipeRun, NoCameraCanStartExitsWithCodeTwo) {
  FACEPIPE_REQUIRE_FILE(sample_video());
  ChildProcesses children(unique_instance("runnomodel"));
  const fs::path log = temp_file("nomodel.log");
  const pid_t pid = children.spawn({facepipe_binary(), "run", "--instance", children.instance(), "--models", "/nonexistent"},
                                   {}, log.string());
  const int status = children.wait_exit(pid, 30s);
  const std::string text = read_text(log);
  ASSERT_TRUE(WIFEXITED(status)) << text;
  EXPECT_EQ(WEXITSTATUS(status), 2) << text;
  EXPECT_NE(text.find("camera 'cam0': model file 'face_landmarker.task' not found"), std::string::npos) << text;
  EXPECT_NE(text.find("could not start any camera: giving up"), std::string::npos) << text;
  EXPECT_TRUE(ipc::list_segments(children.instance()).empty());
  fs::remove(log);
}

// Three cameras in one process: a file that works, a stream whose server accepts but never answers
// (blocked in I/O), and a stream whose port is closed. The dead streams are not fatal: the file
// camera publishes, the others report their state, and SIGTERM still ends everything within 2 s.
TEST(FacepipeRun, UnreachableStreamsAreNotFatalAndDoNotDelayShutdown) {
  FACEPIPE_REQUIRE_FILE(sample_video());
  ChildProcesses children(unique_instance("runmix"));
  // A listening socket that is never accepted: connect() succeeds, no byte ever comes.
  const int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(silent, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len);
  const int silent_port = ntohs(addr.sin_port);
  const int closed_port = pick_port(4), metrics_port = pick_port(5);
  const fs::path config = temp_file("mix.toml");
  std::ofstream(config) << "metrics_port = " << metrics_port << "\n"
                        << "[[camera]]\nid = \"file\"\nsource = \"" << sample_video().string() << "\"\n"
                        << "[[camera]]\nid = \"silent\"\nsource = \"http://127.0.0.1:" << silent_port << "/\"\n"
                        << "[[camera]]\nid = \"down\"\nsource = \"http://127.0.0.1:" << closed_port << "/\"\n";
  const fs::path log = temp_file("mix.log");
  const pid_t run = children.spawn({facepipe_binary(), "run", "--config", config.string(), "--instance",
                                    children.instance(), "--models", models_dir().string()},
                                   {}, log.string());
  ASSERT_GT(run, 0);
  ipc::ShmReader reader(children.instance(), "file");
  ASSERT_GE(observe(reader, 30, 60s).frames_with_face, 30) << read_text(log);
  const std::string page = http_get(metrics_port, "/metrics");
  auto state = [&](const char* camera, const char* s) {
    return metric(page, "facepipe_camera_source_state{instance=\"" + children.instance() + "\",camera=\"" + camera +
                            "\",state=\"" + s + "\"}");
  };
  EXPECT_EQ(state("file", "live"), 1) << page;
  EXPECT_EQ(state("silent", "live"), 0) << page;
  EXPECT_EQ(state("down", "live"), 0) << page;
  EXPECT_GT(metric(page, "facepipe_camera_reconnects_total{instance=\"" + children.instance() + "\",camera=\"down\"}"), 0)
      << page;
  EXPECT_EQ(ipc::list_segments(children.instance()).size(), 3u);

  const auto stop0 = std::chrono::steady_clock::now();
  const int status = children.kill_and_reap(run, SIGTERM, 2000ms);
  const double stop_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - stop0).count();
  std::printf("[ run ] 3 cameras (1 blocked in I/O): SIGTERM -> exit in %.0f ms\n", stop_ms);
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(log);
  EXPECT_TRUE(ipc::list_segments(children.instance()).empty());
  const std::string text = read_text(log);
  EXPECT_NE(text.find("camera 'down': reconnecting"), std::string::npos) << text;
  ::close(silent);
  fs::remove(config);
  fs::remove(log);
}

// An HTTP stream served by a local ffmpeg: frames flow, the server freezes (the camera reports
// stalled), dies (reconnecting), returns, and frames flow again within 2 s. A second camera (a file)
// keeps its frame rate all along.
TEST(FacepipeRun, HttpStreamReconnectsAfterTheServerReturns) {
  FACEPIPE_REQUIRE_FILE(sample_video());
  if (!fs::exists("/usr/bin/ffmpeg")) GTEST_SKIP() << "no /usr/bin/ffmpeg to serve a stream";
  ChildProcesses children(unique_instance("runnet"));
  const int stream_port = pick_port(2), metrics_port = pick_port(3);
  const std::string url = "http://127.0.0.1:" + std::to_string(stream_port);
  auto serve = [&] {
    return children.spawn({"/usr/bin/ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i",
                           sample_video().string(), "-c", "copy", "-f", "mpegts", "-listen", "1", url},
                          {}, "/dev/null");
  };
  pid_t server = serve();
  ASSERT_GT(server, 0);
  const fs::path config = temp_file("net.toml");
  std::ofstream(config) << "metrics_port = " << metrics_port << "\n[[camera]]\nid = \"net\"\nsource = \"" << url << "\"\n"
                        << "[[camera]]\nid = \"steady\"\npreview = false\nsource = \"" << sample_video().string() << "\"\n";
  const fs::path log = temp_file("net.log");
  const pid_t run = children.spawn({facepipe_binary(), "run", "--config", config.string(), "--instance",
                                    children.instance(), "--models", models_dir().string()},
                                   {}, log.string());
  ASSERT_GT(run, 0);
  ipc::ShmReader reader(children.instance(), "net");
  ASSERT_GE(observe(reader, 20, 60s).frames_with_face, 20) << read_text(log);
  ipc::ShmReader steady(children.instance(), "steady");
  ASSERT_GE(observe(steady, 5, 30s).frames, 5) << read_text(log);
  const uint64_t steady_before = steady.view()->publish_count();
  const auto outage_begin = std::chrono::steady_clock::now();

  // A frozen server keeps the connection but sends nothing: "stalled" after 2 s without frames.
  ::kill(server, SIGSTOP);
  const std::string stalled_series =
      "facepipe_camera_source_state{instance=\"" + children.instance() + "\",camera=\"net\",state=\"stalled\"}";
  EXPECT_TRUE(wait_until([&] { return metric(http_get(metrics_port, "/metrics"), stalled_series) == 1; }, 4s))
      << read_text(log);
  children.kill_and_reap(server, SIGKILL);
  const std::string labels = "{instance=\"" + children.instance() + "\",camera=\"net\"}";
  EXPECT_TRUE(wait_until([&] { return metric(http_get(metrics_port, "/metrics"), "facepipe_camera_reconnects_total" + labels) > 0; },
                         5s))
      << read_text(log);
  std::this_thread::sleep_for(1500ms);  // let the backoff grow to its cap
  ipc::Frame frame;
  while (reader.read_next(frame) == ipc::ReadStatus::kFrame) {
  }
  server = serve();
  const auto back = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return reader.read_next(frame) == ipc::ReadStatus::kFrame; }, 10s)) << read_text(log);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - back).count();
  std::printf("[ run ] stream back -> first frame published after %.0f ms\n", ms);
  EXPECT_LE(ms, 2000) << read_text(log);
  const double outage_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - outage_begin).count();
  const double steady_fps = (steady.view()->publish_count() - steady_before) / outage_s;
  std::printf("[ run ] second camera during the %.1f s outage: %.1f fps (file at 30 fps)\n", outage_s, steady_fps);
  EXPECT_GT(steady_fps, 25) << read_text(log);
  // The supervisor's numbers come from the worker's status page, refreshed every 50 ms.
  const std::string live_series =
      "facepipe_camera_source_state{instance=\"" + children.instance() + "\",camera=\"net\",state=\"live\"}";
  EXPECT_TRUE(wait_until([&] { return metric(http_get(metrics_port, "/metrics"), live_series) == 1; }, 1000ms))
      << http_get(metrics_port, "/metrics");

  const int status = children.kill_and_reap(run, SIGTERM, 2000ms);
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(log);
  EXPECT_TRUE(ipc::list_segments(children.instance()).empty());
  fs::remove(config);
  fs::remove(log);
}

}  // namespace
}  // namespace facepipe::test
