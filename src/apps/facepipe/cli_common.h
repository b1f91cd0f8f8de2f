// Pieces shared by the subcommands of the facepipe CLI.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/ir/graph.h"
#include "engine/ir/shape.h"

namespace facepipe::cli {

// The --detector choices (face::parse_detector understands each).
inline const std::vector<std::string> kDetectorNames = {"blazeface", "blazeface-full", "retinaface"};

// Options every subcommand that loads models understands.
struct ModelOptions {
  std::string models_dir;  // --models DIR
};
void add_model_options(CLI::App& command, ModelOptions& options);

// Resolves a model spec ("FILE[:member]", FILE as a path or a bare name found by the model locator)
// and loads it. Throws facepipe::Error with a clear message.
std::shared_ptr<const engine::Graph> load_model(const std::string& spec, const ModelOptions& options);

// Parses "KEY=VALUE" (KEY non-empty). Throws facepipe::Error naming `what` on malformed text.
std::pair<std::string, std::string> split_key_value(const std::string& text, const char* what);

// Index of the graph input named `key`, or with that index; throws listing the inputs otherwise.
int find_graph_input(const engine::Graph& graph, const std::string& key);

// The bundled sample data folder (`testdata` beside the checkout: ../shared/testdata from the
// working directory, else relative to the executable); throws facepipe::Error when there is none.
std::filesystem::path sample_data_root();
// The sample video (testdata/video/talking_man_glasses_720x1280.mp4); throws when missing.
std::string sample_video();

// Subcommand registration (one function per command family).
void register_analyze_commands(CLI::App& app);   // facepipe analyze
void register_model_commands(CLI::App& app);
void register_bench_commands(CLI::App& app);
void register_list_commands(CLI::App& app);      // facepipe list
void register_view_commands(CLI::App& app);      // facepipe view
void register_ipc_demo_commands(CLI::App& app);  // facepipe ipc-demo (hidden)
void register_run_commands(CLI::App& app);       // facepipe run (the supervisor)
void register_worker_commands(CLI::App& app);    // facepipe worker (hidden: run's worker processes)

}  // namespace facepipe::cli
