#include "engine/import/import_util.h"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common/status.h"

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

}  // namespace facepipe::engine::import_detail
