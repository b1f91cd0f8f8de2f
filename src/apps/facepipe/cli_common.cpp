#include "apps/facepipe/cli_common.h"

#include <charconv>

#include "common/status.h"
#include "engine/import/model_loader.h"
#include "engine/model_locator.h"

namespace facepipe::cli {

void add_model_options(CLI::App& command, ModelOptions& options) {
  command.add_option("--models", options.models_dir,
                     "Directory with the model files (default: $FACEPIPE_MODELS, ../shared/models, the user cache)");
}

std::shared_ptr<const engine::Graph> load_model(const std::string& spec, const ModelOptions& options) {
  const engine::ModelLocator locator(options.models_dir);
  return std::make_shared<const engine::Graph>(engine::load_graph(locator.resolve_spec(spec)));
}

std::pair<std::string, std::string> split_key_value(const std::string& text, const char* what) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) throw Error(std::string("bad ") + what + " '" + text + "': expected KEY=VALUE");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

int find_graph_input(const engine::Graph& graph, const std::string& key) {
  for (size_t i = 0; i < graph.inputs.size(); ++i)
    if (graph.tensor(graph.inputs[i]).name == key) return static_cast<int>(i);
  int index = -1;
  const auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
  if (ec == std::errc() && ptr == key.data() + key.size() && index >= 0 && index < static_cast<int>(graph.inputs.size()))
    return index;
  std::string names;
  for (size_t i = 0; i < graph.inputs.size(); ++i)
    names += (i ? ", " : "") + std::to_string(i) + ":" + graph.tensor(graph.inputs[i]).name;
  throw Error(graph.source + ": no input '" + key + "' (inputs: " + names + ")");
}

std::filesystem::path sample_data_root() {
  namespace fs = std::filesystem;
  std::vector<fs::path> roots = {fs::path("..") / "shared" / "testdata"};
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // <checkout>/build/bin/facepipe: shared/ inside the checkout, or beside it (worktrees).
    const fs::path checkout = exe.parent_path().parent_path().parent_path();
    roots.push_back(checkout / "shared" / "testdata");
    roots.push_back(checkout.parent_path() / "shared" / "testdata");
  }
  for (const fs::path& root : roots)
    if (fs::is_directory(root / "images", ec) || fs::is_directory(root / "video", ec)) return root;
  throw Error("no sample data found (looked for ../shared/testdata from here and beside the checkout)");
}

std::string sample_video() {
  const auto video = sample_data_root() / "video" / "talking_man_glasses_720x1280.mp4";
  std::error_code ec;
  if (!std::filesystem::exists(video, ec)) throw Error(video.string() + ": sample video missing");
  return video.string();
}

}  // namespace facepipe::cli
