// Small helpers shared by the importers (internal to src/engine/import).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace facepipe::engine::import_detail {

// Reads a whole file. Throws facepipe::Error naming `path` when it cannot be opened or read.
std::vector<std::byte> read_file_bytes(const std::string& path);

template <typename T> T load_le(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // the importers only build for little-endian hosts
  return v;
}

// Product of dims with overflow and sign checks; nullopt when a dim is negative or the product
// exceeds `limit`.
std::optional<int64_t> checked_element_count(std::span<const int64_t> dims, int64_t limit = INT64_MAX / 16);

}  // namespace facepipe::engine::import_detail

namespace facepipe::engine {
struct Graph;
namespace import_detail {
// Drops constant tensors that no op reads and no graph output names (for example an ONNX constant
// that was rewritten for the NHWC layout), renumbering tensor ids.
void prune_unused_constants(Graph& graph);
}  // namespace import_detail
}  // namespace facepipe::engine
