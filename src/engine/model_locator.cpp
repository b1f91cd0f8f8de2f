#include "engine/model_locator.h"

#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <set>

#include "common/sha256.h"
#include "common/status.h"

namespace facepipe::engine {

namespace {

constexpr ManifestEntry kManifest[] = {
#include "model_manifest.inc"
};

std::filesystem::path executable_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

}  // namespace

std::span<const ManifestEntry> model_manifest() { return kManifest; }

ModelLocator::ModelLocator(std::string models_dir) : models_dir_(std::move(models_dir)) {}

std::filesystem::path ModelLocator::cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "facepipe" / "models";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".cache" / "facepipe" / "models";
  return {};
}

std::vector<std::filesystem::path> ModelLocator::search_dirs() const {
  std::vector<std::filesystem::path> dirs;
  if (!models_dir_.empty()) {
    dirs.emplace_back(models_dir_);
    return dirs;  // an explicit --models is the only place looked at
  }
  if (const char* env = std::getenv("FACEPIPE_MODELS"); env && *env) dirs.emplace_back(env);
  dirs.emplace_back(std::filesystem::path("..") / "shared" / "models");
  // The binary lives in <project>/<build>/bin: its project's sibling shared/ folder.
  if (const auto exe = executable_dir(); !exe.empty())
    dirs.push_back(exe.parent_path().parent_path().parent_path() / "shared" / "models");
  if (auto cache = cache_dir(); !cache.empty()) dirs.push_back(cache);
  return dirs;
}

void verify_model_checksum(const std::filesystem::path& path) {
  static std::mutex mutex;
  static std::set<std::string> verified;
  const std::string name = path.filename().string();
  for (const ManifestEntry& e : kManifest) {
    if (e.file != name) continue;
    const std::string key = std::filesystem::weakly_canonical(path).string();
    std::lock_guard lock(mutex);
    if (verified.count(key)) return;
    const std::string actual = sha256_file_hex(path);
    if (actual != e.sha256) {
      throw Error(path.string() + ": SHA-256 mismatch (expected " + std::string(e.sha256) + ", got " + actual +
                  "): the file is corrupt or a different version; fetch it again with scripts/fetch_models.sh");
    }
    verified.insert(key);
    return;
  }
}

std::filesystem::path ModelLocator::find(std::string_view file) const {
  std::string looked;
  for (const auto& dir : search_dirs()) {
    const auto candidate = dir / file;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) {
      verify_model_checksum(candidate);
      return candidate;
    }
    looked += "\n  " + candidate.string();
  }
  throw Error("model file '" + std::string(file) + "' not found; looked at:" + looked +
              "\nGive --models DIR, set FACEPIPE_MODELS, or run scripts/fetch_models.sh");
}

std::string ModelLocator::resolve_spec(const std::string& spec) const {
  std::error_code ec;
  if (std::filesystem::exists(spec, ec)) return spec;
  // "file.task:member" where file.task exists as given.
  const auto colon = spec.rfind(':');
  std::string file = spec, member;
  if (colon != std::string::npos) {
    file = spec.substr(0, colon);
    member = spec.substr(colon + 1);
  }
  std::filesystem::path path = file;
  if (std::filesystem::exists(path, ec)) {
    verify_model_checksum(path);
  } else if (path.has_parent_path()) {
    throw Error("model file '" + file + "' not found");
  } else {
    path = find(file);
  }
  return member.empty() ? path.string() : path.string() + ":" + member;
}

}  // namespace facepipe::engine
