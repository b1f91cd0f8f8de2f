// Zip reader: parse the central directory, then read (inflate, CRC-check) every member.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/status.h"
#include "engine/import/zip_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const facepipe::engine::ZipArchive zip(std::span(reinterpret_cast<const std::byte*>(data), size), "fuzz.zip");
    for (const auto& entry : zip.entries()) {
      try {
        (void)zip.read(entry);
      } catch (const facepipe::Error&) {
      }
    }
  } catch (const facepipe::Error&) {
  }
  return 0;
}
