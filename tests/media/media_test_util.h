// Helpers for the media tests: a scratch folder per test, the ffmpeg CLI for making inputs, pixel
// comparisons.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "media/image.h"

namespace facepipe::media::test {

// A fresh folder under the system temp dir, removed when the test ends.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("facepipe_media_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline bool have_ffmpeg_cli() { return std::system("ffmpeg -version >/dev/null 2>&1") == 0; }

// Runs `ffmpeg -v error -y <args>`; true on success.
inline bool run_ffmpeg(const std::string& args) {
  return std::system(("ffmpeg -nostdin -v error -y " + args + " 2>/dev/null").c_str()) == 0;
}

inline void write_bytes(const std::filesystem::path& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

// Copies the first `bytes` bytes of `from` into `to`.
inline void copy_prefix(const std::filesystem::path& from, const std::filesystem::path& to, size_t bytes) {
  std::ifstream in(from, std::ios::binary);
  std::string data(bytes, '\0');
  in.read(data.data(), static_cast<std::streamsize>(bytes));
  write_bytes(to, data.data(), static_cast<size_t>(in.gcount()));
}

struct PixelDiff {
  double mean = 0;
  int max = 0;
};
// Over all channels of two same-sized images (channel order as stored).
inline PixelDiff diff(ConstImageView a, ConstImageView b) {
  PixelDiff d;
  if (a.width != b.width || a.height != b.height) return {1e9, 255};
  double sum = 0;
  for (int y = 0; y < a.height; ++y) {
    for (int x = 0; x < a.width * 3; ++x) {
      const int v = std::abs(int(a.row(y)[x]) - int(b.row(y)[x]));
      sum += v;
      d.max = std::max(d.max, v);
    }
  }
  d.mean = sum / (3.0 * a.width * a.height);
  return d;
}

}  // namespace facepipe::media::test
