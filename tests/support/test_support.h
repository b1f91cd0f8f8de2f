// Helpers shared by the test executables: where the shared assets live, reading raw tensors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace facepipe::test {

// The shared assets folder: $FACEPIPE_SHARED, else <source dir>/../shared.
std::filesystem::path shared_dir();
// Model files: $FACEPIPE_MODELS, else shared_dir()/models.
std::filesystem::path models_dir();
std::filesystem::path reference_dir();
std::filesystem::path testdata_dir();

// Reads a whole file of little-endian float32 values. Throws on I/O errors or a ragged size.
std::vector<float> read_f32_file(const std::filesystem::path& path);

// Max |a - b| over two equally long arrays, and max |b| (the scale of the reference).
struct Deviation {
  double max_abs_error = 0;
  double max_reference_magnitude = 0;
  double normalized() const { return max_reference_magnitude > 0 ? max_abs_error / max_reference_magnitude : max_abs_error; }
};
Deviation compare(const float* actual, const float* expected, size_t n);

}  // namespace facepipe::test

// Skips the current test with a visible reason when a shared asset is missing (a checkout without
// ../shared), instead of failing with an unrelated I/O error.
#define FACEPIPE_REQUIRE_FILE(path)                                                    \
  do {                                                                                 \
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing asset: " << (path);  \
  } while (0)
