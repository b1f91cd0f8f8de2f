#include "support/test_support.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace facepipe::test {

std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("FACEPIPE_SHARED"); env && *env) return env;
  return std::filesystem::path(FACEPIPE_SOURCE_DIR) / ".." / "shared";
}

std::filesystem::path models_dir() {
  if (const char* env = std::getenv("FACEPIPE_MODELS"); env && *env) return env;
  return shared_dir() / "models";
}

std::filesystem::path reference_dir() { return shared_dir() / "reference"; }
std::filesystem::path testdata_dir() { return shared_dir() / "testdata"; }

std::vector<float> read_f32_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  const auto size = static_cast<size_t>(in.tellg());
  if (size % sizeof(float) != 0) throw std::runtime_error(path.string() + ": size is not a multiple of 4");
  std::vector<float> values(size / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(size));
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return values;
}

Deviation compare(const float* actual, const float* expected, size_t n) {
  Deviation d;
  for (size_t i = 0; i < n; ++i) {
    const double e = expected[i];
    const double a = actual[i];
    double diff = std::fabs(a - e);
    if (std::isnan(a) != std::isnan(e)) diff = INFINITY;
    d.max_abs_error = std::max(d.max_abs_error, diff);
    d.max_reference_magnitude = std::max(d.max_reference_magnitude, std::fabs(e));
  }
  return d;
}

}  // namespace facepipe::test
