#include "engine/import/import_util.h"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common/status.h"
#include "engine/ir/graph.h"

static_assert(std::endian::native == std::endian::little, "the importers read little-endian files in place");

namespace facepipe::engine::import_detail {

std::vector<std::byte> read_file_bytes(const std::string& path) {
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<std::byte> bytes;
  std::byte chunk[1 << 16];
  for (;;) {
    const size_t n = std::fread(chunk, 1, sizeof chunk, file.get());
    bytes.insert(bytes.end(), chunk, chunk + n);
    if (n < sizeof chunk) break;
  }
  if (std::ferror(file.get())) throw Error(path + ": read error");
  return bytes;
}

std::optional<int64_t> checked_element_count(std::span<const int64_t> dims, int64_t limit) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > limit / d) return std::nullopt;
    n *= d;
  }
  return n;
}

void prune_unused_constants(Graph& graph) {
  const size_t count = graph.tensors.size();
  std::vector<char> used(count, 0);
  auto mark = [&](int32_t id) {
    if (id >= 0 && static_cast<size_t>(id) < count) used[static_cast<size_t>(id)] = 1;
  };
  for (const Op& op : graph.ops) {
    for (int32_t id : op.inputs) mark(id);
    for (int32_t id : op.outputs) mark(id);
  }
  for (int32_t id : graph.inputs) mark(id);
  for (int32_t id : graph.outputs) mark(id);
  for (size_t i = 0; i < count; ++i)
    if (graph.tensors[i].constant < 0) used[i] = 1;  // only constants are candidates

  std::vector<int32_t> new_id(count, -1);
  std::vector<Tensor> tensors;
  std::vector<Constant> constants;
  for (size_t i = 0; i < count; ++i) {
    if (!used[i]) continue;
    Tensor t = std::move(graph.tensors[i]);
    if (t.constant >= 0 && static_cast<size_t>(t.constant) < graph.constants.size()) {
      constants.push_back(std::move(graph.constants[static_cast<size_t>(t.constant)]));
      t.constant = static_cast<int32_t>(constants.size() - 1);
    }
    new_id[i] = static_cast<int32_t>(tensors.size());
    tensors.push_back(std::move(t));
  }
  auto remap = [&](int32_t& id) {
    if (id >= 0 && static_cast<size_t>(id) < count) id = new_id[static_cast<size_t>(id)];
  };
  for (Op& op : graph.ops) {
    for (int32_t& id : op.inputs) remap(id);
    for (int32_t& id : op.outputs) remap(id);
  }
  for (int32_t& id : graph.inputs) remap(id);
  for (int32_t& id : graph.outputs) remap(id);
  graph.tensors = std::move(tensors);
  graph.constants = std::move(constants);
}

}  // namespace facepipe::engine::import_detail
