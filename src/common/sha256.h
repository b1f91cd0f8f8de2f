// SHA-256 (FIPS 180-4), used to verify model files against the manifest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace facepipe {

// Lower-case hex digest of `data`.
std::string sha256_hex(std::span<const std::byte> data);
// Lower-case hex digest of a file's contents. Throws facepipe::Error if it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace facepipe
