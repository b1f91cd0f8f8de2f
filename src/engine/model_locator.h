// Finds model files. Search order (first hit wins):
//   1. the directory given with --models DIR,
//   2. $FACEPIPE_MODELS,
//   3. ../shared/models (relative to the working directory, then to the executable's project root),
//   4. the per-user cache ${XDG_CACHE_HOME:-~/.cache}/facepipe/models, filled by
//      scripts/fetch_models.sh from the official download locations.
// Files named in the manifest (models/manifest.tsv) are checked against their SHA-256 once per
// process; a mismatch or a missing file is a facepipe::Error naming the file and where it looked.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace facepipe::engine {

struct ManifestEntry {
  std::string_view file;
  std::string_view sha256;
  std::string_view url;  // "-" when there is no public download
};
// The compiled-in manifest (generated from models/manifest.tsv).
std::span<const ManifestEntry> model_manifest();

class ModelLocator {
 public:
  // `models_dir`: the --models flag, or empty.
  explicit ModelLocator(std::string models_dir = {});

  // Directories searched, in order (only those that exist).
  std::vector<std::filesystem::path> search_dirs() const;

  // Full path of `file` (a bare file name like "face_landmarker.task"), verified against the
  // manifest when listed there. Throws facepipe::Error when not found or the checksum differs.
  std::filesystem::path find(std::string_view file) const;

  // Resolves a model spec "FILE[:member]": FILE is used as given when it exists as a path,
  // otherwise looked up by name. Returns the spec with the resolved path.
  std::string resolve_spec(const std::string& spec) const;

  // The per-user cache directory (may not exist).
  static std::filesystem::path cache_dir();

 private:
  std::string models_dir_;
};

// Verifies `path` against the manifest entry for its file name (if any). Throws on mismatch.
void verify_model_checksum(const std::filesystem::path& path);

}  // namespace facepipe::engine
