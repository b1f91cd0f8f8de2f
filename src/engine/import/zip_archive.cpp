#include "engine/import/zip_archive.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "common/status.h"
#include "engine/import/import_util.h"

namespace facepipe::engine {

using import_detail::load_le;

namespace {
// Record signatures and fixed sizes of the zip format (APPNOTE.TXT, sections 4.3.7, 4.3.12, 4.3.16).
constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndOfCentralDirSignature = 0x06054b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndOfCentralDirSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kMaxCommentSize = 0xffff;
constexpr uint16_t kFlagEncrypted = 0x0001;
constexpr uint16_t kFlagStrongEncryption = 0x0040;
constexpr uint16_t kMethodStored = 0;
constexpr uint16_t kMethodDeflated = 8;
// Deflate cannot expand data by more than about 1032:1; a larger claim is corrupt, and checking it
// keeps a few forged bytes from requesting a huge allocation.
constexpr uint64_t kMaxDeflateRatio = 1032;
}  // namespace

ZipArchive::ZipArchive(std::vector<std::byte> bytes, std::string name) : bytes_(std::move(bytes)), name_(std::move(name)) {
  parse_central_directory();
}

ZipArchive ZipArchive::open_file(const std::string& path) {
  return ZipArchive(import_detail::read_file_bytes(path), path);
}

namespace {
// The end record sits at the very end, possibly followed by a comment of up to 64 KiB: scan back
// for its signature and accept the first record whose comment length reaches exactly the end.
size_t find_end_record(std::span<const std::byte> bytes) {
  const size_t size = bytes.size();
  if (size < kEndOfCentralDirSize) return SIZE_MAX;
  const std::byte* data = bytes.data();
  const size_t lowest = size - kEndOfCentralDirSize > kMaxCommentSize ? size - kEndOfCentralDirSize - kMaxCommentSize : 0;
  for (size_t pos = size - kEndOfCentralDirSize + 1; pos-- > lowest;) {
    if (load_le<uint32_t>(data + pos) != kEndOfCentralDirSignature) continue;
    if (pos + kEndOfCentralDirSize + load_le<uint16_t>(data + pos + 20) == size) return pos;
  }
  return SIZE_MAX;
}
}  // namespace

bool ZipArchive::looks_like_zip(std::span<const std::byte> bytes) {
  // MediaPipe's .task files start with two bytes before the first local header, so the end record
  // is the reliable mark; the leading signature catches truncated archives.
  if (bytes.size() >= 4 && load_le<uint32_t>(bytes.data()) == kLocalHeaderSignature) return true;
  return find_end_record(bytes) != SIZE_MAX;
}

void ZipArchive::fail(const std::string& what) const { throw Error(name_ + ": " + what); }

void ZipArchive::parse_central_directory() {
  const size_t size = bytes_.size();
  const std::byte* data = bytes_.data();
  if (size < kEndOfCentralDirSize) fail("not a zip archive or truncated (no end of central directory record)");

  const size_t eocd = find_end_record(bytes_);
  if (eocd == SIZE_MAX) fail("not a zip archive or truncated (no end of central directory record)");
  if (eocd >= kZip64LocatorSize && load_le<uint32_t>(data + eocd - kZip64LocatorSize) == kZip64LocatorSignature)
    fail("zip64 archives are not supported");

  const uint16_t disk = load_le<uint16_t>(data + eocd + 4);
  const uint16_t cd_disk = load_le<uint16_t>(data + eocd + 6);
  const uint16_t entries_on_disk = load_le<uint16_t>(data + eocd + 8);
  const uint16_t total_entries = load_le<uint16_t>(data + eocd + 10);
  const uint32_t cd_size = load_le<uint32_t>(data + eocd + 12);
  const uint32_t cd_offset = load_le<uint32_t>(data + eocd + 16);
  if (total_entries == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu)
    fail("zip64 archives are not supported");
  if (disk != 0 || cd_disk != 0 || entries_on_disk != total_entries) fail("multi-disk zip archives are not supported");
  if (uint64_t{cd_offset} + cd_size > eocd) fail("corrupt zip: central directory lies outside the archive");
  // Data prepended to an archive written with relative offsets shifts everything by the gap between
  // the directory's end and the end record (0 for the usual absolute offsets).
  base_ = eocd - (size_t{cd_offset} + cd_size);
  // Each entry needs at least 46 bytes, which bounds the count before anything is allocated.
  if (uint64_t{total_entries} * kCentralHeaderSize > cd_size) fail("corrupt zip: central directory too small for its entries");

  entries_.reserve(total_entries);
  size_t pos = base_ + cd_offset;
  const size_t cd_end = pos + cd_size;
  for (uint32_t i = 0; i < total_entries; ++i) {
    if (cd_end - pos < kCentralHeaderSize) fail("corrupt zip: truncated central directory entry " + std::to_string(i));
    const std::byte* h = data + pos;
    if (load_le<uint32_t>(h) != kCentralHeaderSignature) fail("corrupt zip: bad central directory entry " + std::to_string(i));
    ZipEntry e;
    e.flags = load_le<uint16_t>(h + 8);
    e.method = load_le<uint16_t>(h + 10);
    e.crc32 = load_le<uint32_t>(h + 16);
    e.compressed_size = load_le<uint32_t>(h + 20);
    e.uncompressed_size = load_le<uint32_t>(h + 24);
    const uint16_t name_length = load_le<uint16_t>(h + 28);
    const uint16_t extra_length = load_le<uint16_t>(h + 30);
    const uint16_t comment_length = load_le<uint16_t>(h + 32);
    e.local_header_offset = load_le<uint32_t>(h + 42);
    if (e.local_header_offset != 0xffffffffu) e.local_header_offset += base_;
    const size_t record = kCentralHeaderSize + name_length + extra_length + comment_length;
    if (cd_end - pos < record) fail("corrupt zip: truncated central directory entry " + std::to_string(i));
    e.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderSize), name_length);
    entries_.push_back(std::move(e));
    pos += record;
  }
}

std::vector<std::string> ZipArchive::member_names() const {
  std::vector<std::string> names;
  names.reserve(entries_.size());
  for (const ZipEntry& e : entries_) names.push_back(e.name);
  return names;
}

std::string ZipArchive::member_list() const {
  std::string list;
  for (const ZipEntry& e : entries_) {
    if (!list.empty()) list += ", ";
    list += e.name;
  }
  return list.empty() ? "(none)" : list;
}

const ZipEntry* ZipArchive::find(std::string_view member) const {
  for (const ZipEntry& e : entries_)
    if (e.name == member) return &e;
  return nullptr;
}

std::vector<std::byte> ZipArchive::read(std::string_view member) const {
  const ZipEntry* e = find(member);
  if (!e) fail("no member '" + std::string(member) + "' (members: " + member_list() + ")");
  return read(*e);
}

std::vector<std::byte> ZipArchive::read(const ZipEntry& e) const {
  const std::string where = name_ + ":" + e.name + ": ";
  if (e.flags & (kFlagEncrypted | kFlagStrongEncryption)) throw Error(where + "encrypted zip members are not supported");
  if (e.compressed_size == 0xffffffffu || e.uncompressed_size == 0xffffffffu || e.local_header_offset >= 0xffffffffu)
    throw Error(where + "zip64 members are not supported");
  if (e.method != kMethodStored && e.method != kMethodDeflated)
    throw Error(where + "unsupported zip compression method " + std::to_string(e.method) + " (only stored and deflate)");

  // The local header repeats name and extra field with lengths of its own; sizes and CRC come from
  // the central directory (the local copies may be zero when a data descriptor follows the data).
  const size_t size = bytes_.size();
  if (e.local_header_offset > size || size - e.local_header_offset < kLocalHeaderSize)
    throw Error(where + "corrupt zip: local header outside the archive");
  const std::byte* h = bytes_.data() + e.local_header_offset;
  if (load_le<uint32_t>(h) != kLocalHeaderSignature) throw Error(where + "corrupt zip: bad local header signature");
  const uint64_t data_offset = e.local_header_offset + kLocalHeaderSize + load_le<uint16_t>(h + 26) + load_le<uint16_t>(h + 28);
  if (data_offset > size || size - data_offset < e.compressed_size)
    throw Error(where + "corrupt zip: member data runs past the end of the archive (truncated?)");
  const std::byte* src = bytes_.data() + data_offset;

  std::vector<std::byte> out;
  if (e.method == kMethodStored) {
    if (e.compressed_size != e.uncompressed_size) throw Error(where + "corrupt zip: stored member with mismatched sizes");
    out.assign(src, src + e.compressed_size);
  } else {
    if (e.uncompressed_size > e.compressed_size * kMaxDeflateRatio + 1024)
      throw Error(where + "corrupt zip: implausible uncompressed size " + std::to_string(e.uncompressed_size));
    out.resize(e.uncompressed_size);
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw Error(where + "zlib inflateInit2 failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(src));
    zs.avail_in = static_cast<uInt>(e.compressed_size);
    // zlib rejects a null output pointer even with no room requested (an empty member).
    Bytef empty_output = 0;
    zs.next_out = out.empty() ? &empty_output : reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&zs, Z_FINISH);
    const uint64_t produced = zs.total_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || produced != e.uncompressed_size)
      throw Error(where + "corrupt zip: deflate data is damaged or its size does not match (zlib code " +
                  std::to_string(rc) + ")");
  }
  const uLong crc = ::crc32(::crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(out.data()), static_cast<uInt>(out.size()));
  if (static_cast<uint32_t>(crc) != e.crc32) throw Error(where + "corrupt zip: CRC-32 mismatch");
  return out;
}

}  // namespace facepipe::engine
