#include "runtime/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "common/status.h"
#include "face/pipeline/face_pipeline.h"
#include "ipc/segment_name.h"

namespace facepipe::runtime {
namespace {

class Parser {
 public:
  explicit Parser(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const toml::source_region& where, const std::string& what) const {
    throw Error(origin_ + ":" + std::to_string(where.begin.line) + ": " + what);
  }

  // Rejects keys outside `allowed`, naming the line of the first unknown one.
  void check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed, const std::string& where) {
    for (auto&& [key, node] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(key.source().begin.line ? key.source() : node.source(),
           where + "unknown key '" + std::string(key.str()) + "' (known: " + list + ")");
    }
  }

  int64_t integer(const toml::table& t, std::string_view key, int64_t fallback, int64_t lo, int64_t hi,
                  const std::string& where) {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    const auto* v = n->as_integer();
    if (!v) fail(n->source(), where + "'" + std::string(key) + "' must be an integer");
    const int64_t x = v->get();
    if (x < lo || x > hi)
      fail(n->source(), where + "'" + std::string(key) + "' = " + std::to_string(x) + " is out of range [" +
                            std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return x;
  }
  double number(const toml::table& t, std::string_view key, double fallback, double lo, double hi,
                const std::string& where) {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    double x = 0;
    if (const auto* f = n->as_floating_point()) {
      x = f->get();
    } else if (const auto* i = n->as_integer()) {
      x = static_cast<double>(i->get());
    } else {
      fail(n->source(), where + "'" + std::string(key) + "' must be a number");
    }
    if (!(x >= lo && x <= hi)) {
      std::ostringstream s;
      s << where << "'" << key << "' = " << x << " is out of range [" << lo << ", " << hi << "]";
      fail(n->source(), s.str());
    }
    return x;
  }
  bool boolean(const toml::table& t, std::string_view key, bool fallback, const std::string& where) {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    const auto* v = n->as_boolean();
    if (!v) fail(n->source(), where + "'" + std::string(key) + "' must be true or false");
    return v->get();
  }
  std::string string(const toml::table& t, std::string_view key, const std::string& fallback, const std::string& where) {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    const auto* v = n->as_string();
    if (!v) fail(n->source(), where + "'" + std::string(key) + "' must be a string");
    return v->get();
  }
  const toml::node* node(const toml::table& t, std::string_view key) { return t.get(key); }

 private:
  std::string origin_;
};

bool valid_name_part(const std::string& s) { return ipc::is_valid_name_part(s); }

}  // namespace

const char* capture_format_name(CaptureFormat format) {
  switch (format) {
    case CaptureFormat::kNV12: return "nv12";
    case CaptureFormat::kBGR: return "bgr";
  }
  return "?";
}

namespace {

void parse_gpu(Parser& p, const toml::table& t, GpuConfig& g) {
  const std::string w = "[gpu]: ";
  p.check_keys(t,
               {"max_batch_size", "buffer_size", "enable_fp16", "memory_pool_size", "detection_size", "roi_size",
                "preview_size", "detection_confidence", "models_dir", "landmark_model", "batch_cameras",
                "capture_format"},
               w);
  g.max_batch_size = static_cast<int>(p.integer(t, "max_batch_size", g.max_batch_size, 1, 64, w));
  g.buffer_size = static_cast<int>(p.integer(t, "buffer_size", g.buffer_size, 2, 1024, w));
  if ((g.buffer_size & (g.buffer_size - 1)) != 0)
    p.fail(t.get("buffer_size")->source(), w + "'buffer_size' = " + std::to_string(g.buffer_size) + " must be a power of two");
  g.enable_fp16 = p.boolean(t, "enable_fp16", g.enable_fp16, w);
  g.batch_cameras = p.boolean(t, "batch_cameras", g.batch_cameras, w);
  g.memory_pool_size_mb = p.integer(t, "memory_pool_size", g.memory_pool_size_mb, 0, 1 << 20, w);
  g.detection_size = static_cast<int>(p.integer(t, "detection_size", g.detection_size, 0, 4096, w));
  g.roi_size = static_cast<int>(p.integer(t, "roi_size", g.roi_size, 64, 1024, w));
  g.detection_confidence = static_cast<float>(p.number(t, "detection_confidence", g.detection_confidence, 0.0, 1.0, w));
  g.models_dir = p.string(t, "models_dir", g.models_dir, w);
  g.landmark_model = p.string(t, "landmark_model", g.landmark_model, w);
  if (const toml::node* n = p.node(t, "capture_format")) {
    const std::string v = p.string(t, "capture_format", "", w);
    if (v == "nv12") g.capture_format = CaptureFormat::kNV12;
    else if (v == "bgr") g.capture_format = CaptureFormat::kBGR;
    else p.fail(n->source(), w + "'capture_format' = '" + v + "' must be \"nv12\" or \"bgr\"");
  }
  if (const toml::node* n = p.node(t, "preview_size")) {
    const auto* a = n->as_array();
    if (!a || a->size() != 2 || !(*a)[0].is_integer() || !(*a)[1].is_integer())
      p.fail(n->source(), w + "'preview_size' must be [width, height]");
    const int64_t pw = (*a)[0].as_integer()->get(), ph = (*a)[1].as_integer()->get();
    if (pw < 16 || ph < 16 || pw > 3840 || ph > 2160)
      p.fail(n->source(), w + "'preview_size' must lie between [16, 16] and [3840, 2160]");
    g.preview_width = static_cast<int>(pw);
    g.preview_height = static_cast<int>(ph);
  }
}

void parse_supervisor(Parser& p, const toml::table& t, SupervisorConfig& s) {
  const std::string w = "[supervisor]: ";
  p.check_keys(t, {"heartbeat_timeout_ms", "startup_timeout_ms", "stop_timeout_ms", "restart_backoff_max_ms"}, w);
  s.heartbeat_timeout_ms = static_cast<int>(p.integer(t, "heartbeat_timeout_ms", s.heartbeat_timeout_ms, 100, 60000, w));
  s.startup_timeout_ms = static_cast<int>(p.integer(t, "startup_timeout_ms", s.startup_timeout_ms, 1000, 600000, w));
  s.stop_timeout_ms = static_cast<int>(p.integer(t, "stop_timeout_ms", s.stop_timeout_ms, 100, 60000, w));
  s.restart_backoff_max_ms =
      static_cast<int>(p.integer(t, "restart_backoff_max_ms", s.restart_backoff_max_ms, 100, 600000, w));
}

CameraConfig parse_camera(Parser& p, const toml::table& t, size_t index) {
  CameraConfig c;
  c.line = static_cast<int>(t.source().begin.line);
  std::string w = "camera #" + std::to_string(index) + ": ";
  const toml::node* id = t.get("id");
  if (!id) p.fail(t.source(), w + "missing 'id'");
  c.id = p.string(t, "id", "", w);
  if (!valid_name_part(c.id))
    p.fail(id->source(), w + "'id' = '" + c.id + "' must be 1.." + std::to_string(FP_SHM_NAME_PART_MAX) +
                             " characters of [A-Za-z0-9_-]");
  w = "camera '" + c.id + "': ";
  p.check_keys(t, {"id", "name", "source", "gpu", "detector", "max_faces", "fps", "preview", "loop", "realtime"}, w);
  c.name = p.string(t, "name", c.id, w);
  if (!t.get("source")) p.fail(t.source(), w + "missing 'source'");
  c.source = p.string(t, "source", "", w);
  if (c.source.empty()) p.fail(t.get("source")->source(), w + "'source' is empty");
  if (const toml::node* g = t.get("gpu"); g && g->is_string()) {
    const std::string v = g->as_string()->get();
    if (v == "auto") c.gpu = kGpuAuto;
    else if (v == "cpu") c.gpu = kCpu;
    else p.fail(g->source(), w + "'gpu' = '" + v + "' must be \"auto\", \"cpu\" or a device index 0..63 (-1: CPU)");
  } else {
    c.gpu = static_cast<int>(p.integer(t, "gpu", c.gpu, -1, 63, w));
  }
  c.detector = p.string(t, "detector", c.detector, w);
  try {
    (void)face::parse_detector(c.detector);
  } catch (const Error& e) {
    p.fail(t.get("detector")->source(), w + e.what());
  }
  c.max_faces = static_cast<int>(p.integer(t, "max_faces", c.max_faces, 1, 10, w));
  c.fps_cap = p.number(t, "fps", c.fps_cap, 0.0, 1000.0, w);
  c.preview = p.boolean(t, "preview", c.preview, w);
  c.loop = p.boolean(t, "loop", c.loop, w);
  c.realtime = p.boolean(t, "realtime", c.realtime, w);
  return c;
}

}  // namespace

RunConfig parse_run_config(std::string_view toml_text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    throw Error(origin + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  Parser p(origin);
  RunConfig config;
  config.origin = origin;
  p.check_keys(root, {"instance", "metrics_port", "gpu", "supervisor", "camera"}, "");
  config.instance = p.string(root, "instance", config.instance, "");
  if (!valid_name_part(config.instance))
    p.fail(root.get("instance")->source(), "'instance' = '" + config.instance + "' must be 1.." +
                                               std::to_string(FP_SHM_NAME_PART_MAX) + " characters of [A-Za-z0-9_-]");
  config.metrics_port = static_cast<int>(p.integer(root, "metrics_port", 0, 0, 65535, ""));
  if (const toml::node* g = root.get("gpu")) {
    if (!g->is_table()) p.fail(g->source(), "'gpu' must be a table ([gpu])");
    parse_gpu(p, *g->as_table(), config.gpu);
  }
  if (const toml::node* sv = root.get("supervisor")) {
    if (!sv->is_table()) p.fail(sv->source(), "'supervisor' must be a table ([supervisor])");
    parse_supervisor(p, *sv->as_table(), config.supervisor);
  }
  if (const toml::node* cams = root.get("camera")) {
    const auto* array = cams->as_array();
    if (!array || !array->is_array_of_tables()) p.fail(cams->source(), "'camera' must be [[camera]] tables");
    std::set<std::string> ids;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::table& t = *(*array)[i].as_table();
      CameraConfig c = parse_camera(p, t, i);
      if (!ids.insert(c.id).second) p.fail(t.source(), "camera '" + c.id + "': duplicate id");
      config.cameras.push_back(std::move(c));
    }
  }
  if (config.cameras.empty()) throw Error(origin + ": no [[camera]] entries");
  return config;
}

RunConfig load_run_config(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(path + ": cannot read the configuration file");
  std::ostringstream text;
  text << file.rdbuf();
  return parse_run_config(text.str(), path);
}

std::string format_run_config(const RunConfig& config) {
  toml::table root;
  root.insert("instance", config.instance);
  root.insert("metrics_port", config.metrics_port);
  const GpuConfig& g = config.gpu;
  root.insert("gpu", toml::table{{"max_batch_size", g.max_batch_size},
                                 {"buffer_size", g.buffer_size},
                                 {"enable_fp16", g.enable_fp16},
                                 {"memory_pool_size", g.memory_pool_size_mb},
                                 {"detection_size", g.detection_size},
                                 {"roi_size", g.roi_size},
                                 {"preview_size", toml::array{g.preview_width, g.preview_height}},
                                 {"detection_confidence", static_cast<double>(g.detection_confidence)},
                                 {"models_dir", g.models_dir},
                                 {"landmark_model", g.landmark_model},
                                 {"batch_cameras", g.batch_cameras},
                                 {"capture_format", capture_format_name(g.capture_format)}});
  const SupervisorConfig& s = config.supervisor;
  root.insert("supervisor", toml::table{{"heartbeat_timeout_ms", s.heartbeat_timeout_ms},
                                        {"startup_timeout_ms", s.startup_timeout_ms},
                                        {"stop_timeout_ms", s.stop_timeout_ms},
                                        {"restart_backoff_max_ms", s.restart_backoff_max_ms}});
  toml::array cameras;
  for (const CameraConfig& c : config.cameras) {
    toml::table t{{"id", c.id},           {"name", c.name},           {"source", c.source},
                  {"detector", c.detector}, {"max_faces", c.max_faces}, {"fps", c.fps_cap},
                  {"preview", c.preview},   {"loop", c.loop},           {"realtime", c.realtime}};
    if (c.gpu == kGpuAuto) t.insert("gpu", "auto");
    else t.insert("gpu", c.gpu);
    cameras.push_back(std::move(t));
  }
  root.insert("camera", std::move(cameras));
  std::ostringstream out;
  out << root << '\n';
  return out.str();
}

bool same_settings(const CameraConfig& a, const CameraConfig& b) {
  return a.id == b.id && a.name == b.name && a.source == b.source && a.gpu == b.gpu && a.detector == b.detector &&
         a.max_faces == b.max_faces && a.fps_cap == b.fps_cap && a.preview == b.preview && a.loop == b.loop &&
         a.realtime == b.realtime;
}

bool same_settings(const GpuConfig& a, const GpuConfig& b) {
  return a.max_batch_size == b.max_batch_size && a.buffer_size == b.buffer_size && a.enable_fp16 == b.enable_fp16 &&
         a.memory_pool_size_mb == b.memory_pool_size_mb && a.detection_size == b.detection_size &&
         a.roi_size == b.roi_size && a.preview_width == b.preview_width && a.preview_height == b.preview_height &&
         a.detection_confidence == b.detection_confidence && a.models_dir == b.models_dir &&
         a.landmark_model == b.landmark_model && a.batch_cameras == b.batch_cameras &&
         a.capture_format == b.capture_format;
}

RunConfig apply_overrides(const RunConfig& config, const std::vector<std::string>& overrides) {
  if (overrides.empty()) return config;
  // Round trip through TOML: the overridden text goes through the same parser and checks as a file.
  toml::table root;
  try {
    root = toml::parse(format_run_config(config));
  } catch (const toml::parse_error& e) {
    throw Error(std::string("internal: configuration does not round-trip: ") + e.what());
  }
  std::string origin = "--set";
  for (const std::string& o : overrides) {
    const auto eq = o.find('=');
    const std::string path = o.substr(0, eq);
    if (eq == std::string::npos || path.empty())
      throw Error("--set '" + o + "': expected section.key=value (e.g. gpu.max_batch_size=16)");
    const auto dot = path.find('.');
    const std::string section = dot == std::string::npos ? "" : path.substr(0, dot);
    const std::string key = dot == std::string::npos ? path : path.substr(dot + 1);
    if (section == "camera" || key == "camera" || key.empty() || key.find('.') != std::string::npos)
      throw Error("--set '" + o + "': only top-level, [gpu] and [supervisor] settings can be set (cameras live in the file)");
    toml::table value_table;
    std::string value = o.substr(eq + 1);
    // A bare word is taken as a string (`--set gpu.capture_format=bgr`): shells eat the quotes TOML
    // wants, and a word is never a number, boolean or array. Anything else still needs them.
    const bool bare_word = !value.empty() && std::isalpha(static_cast<unsigned char>(value[0])) &&
                           std::all_of(value.begin(), value.end(), [](unsigned char ch) {
                             return std::isalnum(ch) || ch == '_' || ch == '-';
                           }) &&
                           value != "true" && value != "false" && value != "inf" && value != "nan";
    if (bare_word) value = "\"" + value + "\"";
    try {
      value_table = toml::parse("v = " + value);
    } catch (const toml::parse_error& e) {
      throw Error("--set '" + o + "': not a TOML value (" + std::string(e.description()) +
                  "; strings need quotes, e.g. gpu.models_dir=\"/models\")");
    }
    toml::table* target = &root;
    if (!section.empty()) {
      if (!root.contains(section)) root.insert(section, toml::table{});
      target = root[section].as_table();
      if (!target) throw Error("--set '" + o + "': '" + section + "' is not a section");
    }
    target->insert_or_assign(key, *value_table.get("v"));
    origin += " " + o;
  }
  std::ostringstream text;
  text << root;
  RunConfig out = parse_run_config(text.str(), origin);
  out.origin = config.origin + " (" + origin + ")";
  return out;
}

}  // namespace facepipe::runtime
