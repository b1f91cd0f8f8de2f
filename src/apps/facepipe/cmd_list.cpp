// facepipe list [--instance I] [--prune] [--json]: the shared-memory segments that exist, with their
// camera, writer pid, state (live / stale / closed / incompatible), measured fps and heartbeat age.
// --prune removes segments whose writer is dead (heartbeat stale, or closed). WORKER is the `facepipe
// run` worker process that writes the segment (cpu, gpu0, ...), read from the writer's command line.
#include <sys/mman.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/facepipe/cli_common.h"
#include "ipc/shm_reader.h"

namespace facepipe::cli {

namespace {

struct ListOptions {
  std::string instance;
  bool prune = false;
  bool json = false;
};

// "gpu0" when `pid` is a `facepipe worker --name gpu0 ...` process, else "-".
std::string worker_of(uint64_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::stringstream text;
  text << f.rdbuf();
  std::vector<std::string> args;
  std::string arg;
  while (std::getline(text, arg, '\0')) args.push_back(arg);
  if (args.size() < 2 || args[1] != "worker") return "-";
  for (size_t i = 2; i + 1 < args.size(); ++i)
    if (args[i] == "--name") return args[i + 1];
  return "-";
}

void run_list(const ListOptions& o) {
  if (!o.instance.empty() && !ipc::is_valid_name_part(o.instance))
    throw Error("--instance: 1..48 characters of [A-Za-z0-9_-]");
  nlohmann::json rows = nlohmann::json::array();
  if (!o.json)
    std::printf("%-16s %-12s %8s %-6s %-12s %8s %10s %10s %-10s %s\n", "INSTANCE", "CAMERA", "PID", "WORKER", "STATE",
                "FPS", "HEARTBEAT", "FRAMES", "PREVIEW", "SOURCE");
  for (const auto& id : ipc::list_segments(o.instance)) {
    ipc::ShmReader reader(id.instance, id.camera);
    const ipc::ReadStatus status = reader.state();
    const fp_shm_header* h = reader.header();
    std::string state;
    switch (status) {
      case ipc::ReadStatus::kNoNewFrame: state = "live"; break;
      case ipc::ReadStatus::kStale: state = reader.view()->state() == FP_SHM_STATE_CLOSED ? "closed" : "stale"; break;
      case ipc::ReadStatus::kIncompatible: state = "incompatible"; break;
      default: state = "not-ready"; break;
    }
    nlohmann::json row = {{"instance", id.instance}, {"camera", id.camera}, {"state", state}};
    if (h) {
      const double age = static_cast<double>(reader.heartbeat_age_ns()) * 1e-9;
      row["pid"] = h->writer_pid;
      row["worker"] = worker_of(h->writer_pid);
      row["fps"] = reader.view()->fps();
      row["heartbeat_age_s"] = age;
      row["frames"] = reader.view()->publish_count();
      row["preview"] = h->preview_max_width ? std::to_string(h->preview_max_width) + "x" + std::to_string(h->preview_max_height) : "none";
      row["source"] = std::string(h->source, strnlen(h->source, sizeof h->source));
      row["max_faces"] = h->max_faces;
    }
    if (!o.json) {
      char hb[32] = "-", fps[32] = "-", pid[32] = "-", frames[32] = "-";
      if (h) {
        std::snprintf(hb, sizeof hb, "%.2fs", row["heartbeat_age_s"].get<double>());
        std::snprintf(fps, sizeof fps, "%.1f", row["fps"].get<double>());
        std::snprintf(pid, sizeof pid, "%llu", static_cast<unsigned long long>(h->writer_pid));
        std::snprintf(frames, sizeof frames, "%llu", static_cast<unsigned long long>(row["frames"].get<uint64_t>()));
      }
      std::printf("%-16s %-12s %8s %-6s %-12s %8s %10s %10s %-10s %s\n", id.instance.c_str(), id.camera.c_str(), pid,
                  h ? row["worker"].get<std::string>().c_str() : "-", state.c_str(), fps, hb, frames, h ? row["preview"].get<std::string>().c_str() : "-",
                  h ? row["source"].get<std::string>().c_str() : "");
    }
    if (o.prune && (state == "stale" || state == "closed")) {
      const bool removed = ::shm_unlink(ipc::segment_name(id.instance, id.camera)->c_str()) == 0;
      row["pruned"] = removed;
      if (!o.json && removed) std::printf("  pruned %s.%s\n", id.instance.c_str(), id.camera.c_str());
    }
    rows.push_back(row);
  }
  if (o.json) std::printf("%s\n", rows.dump(2).c_str());
}

}  // namespace

void register_list_commands(CLI::App& app) {
  auto options = std::make_shared<ListOptions>();
  CLI::App* cmd = app.add_subcommand("list", "List the shared-memory outputs (segments) on this machine");
  cmd->add_option("--instance", options->instance, "Only this instance's segments");
  cmd->add_flag("--prune", options->prune, "Remove segments whose writer is dead");
  cmd->add_flag("--json", options->json, "JSON output");
  cmd->callback([options] { run_list(*options); });
}

}  // namespace facepipe::cli
