// A small, bounds-checked reader of zip archives (MediaPipe .task bundles are zips).
//
// Supports what model bundles use: stored (method 0) and deflated (method 8) members in a single-
// disk archive, with CRC-32 verification. Zip64, encryption, multi-disk archives and other
// compression methods are rejected with an error naming the archive (and member). Every offset and
// size read from the file is checked against the buffer before use; nothing is allocated from a
// size that the file's own bytes do not bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace facepipe::engine {

struct ZipEntry {
  std::string name;
  uint16_t flags = 0;   // general purpose bit flags (bit 0: encrypted)
  uint16_t method = 0;  // 0 stored, 8 deflated
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t local_header_offset = 0;  // absolute position in the archive's bytes
};

class ZipArchive {
 public:
  // `name` is used in error messages (usually the file path). Throws facepipe::Error when the
  // central directory is missing, truncated or uses unsupported features.
  ZipArchive(std::vector<std::byte> bytes, std::string name);
  ZipArchive(std::span<const std::byte> bytes, std::string name)
      : ZipArchive(std::vector<std::byte>(bytes.begin(), bytes.end()), std::move(name)) {}
  static ZipArchive open_file(const std::string& path);

  // True when `bytes` starts with a local file header signature ("PK\3\4") or ends with an end of
  // central directory record (archives with a prefix, such as MediaPipe's .task files).
  static bool looks_like_zip(std::span<const std::byte> bytes);

  const std::string& name() const { return name_; }
  const std::vector<ZipEntry>& entries() const { return entries_; }
  std::vector<std::string> member_names() const;
  // "a, b, c": for error messages.
  std::string member_list() const;
  const ZipEntry* find(std::string_view member) const;

  // The uncompressed bytes of a member, CRC-checked. Throws when the member is missing (the message
  // lists the members), corrupt, encrypted or uses an unsupported method.
  std::vector<std::byte> read(std::string_view member) const;
  std::vector<std::byte> read(const ZipEntry& entry) const;

 private:
  void parse_central_directory();
  [[noreturn]] void fail(const std::string& what) const;

  std::vector<std::byte> bytes_;
  std::string name_;
  std::vector<ZipEntry> entries_;
  size_t base_ = 0;  // bytes before the archive proper (see parse_central_directory)
};

}  // namespace facepipe::engine
