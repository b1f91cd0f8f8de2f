// Test helpers for the detection / ROI tests: a minimal PNG reader (8-bit RGB / RGBA, not
// interlaced: what shared/reference/mediapipe/decoded holds) and JSON loading.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/image_view.h"

namespace facepipe::test {

struct DecodedImage {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;  // packed rows
  kernels::ImageView view() const {
    return kernels::ImageView::packed(pixels.data(), width, height, channels, kernels::ChannelOrder::kRGB);
  }
};

inline uint32_t png_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

inline DecodedImage read_png(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  static const uint8_t kSignature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  if (file.size() < 8 || !std::equal(kSignature, kSignature + 8, file.begin()))
    throw std::runtime_error(path.string() + ": not a PNG");
  DecodedImage img;
  int color_type = -1;
  std::vector<uint8_t> idat;
  size_t pos = 8;
  while (pos + 12 <= file.size()) {
    const uint32_t len = png_be32(&file[pos]);
    const std::string type(reinterpret_cast<const char*>(&file[pos + 4]), 4);
    const uint8_t* data = &file[pos + 8];
    if (pos + 12 + len > file.size()) throw std::runtime_error(path.string() + ": truncated chunk");
    if (type == "IHDR") {
      img.width = static_cast<int>(png_be32(data));
      img.height = static_cast<int>(png_be32(data + 4));
      if (data[8] != 8 || data[12] != 0) throw std::runtime_error(path.string() + ": only 8-bit non-interlaced PNG");
      color_type = data[9];
      if (color_type == 2) img.channels = 3;
      else if (color_type == 6) img.channels = 4;
      else throw std::runtime_error(path.string() + ": only RGB / RGBA PNG");
    } else if (type == "IDAT") {
      idat.insert(idat.end(), data, data + len);
    } else if (type == "IEND") {
      break;
    }
    pos += 12 + len;
  }
  const size_t row_bytes = static_cast<size_t>(img.width) * img.channels;
  std::vector<uint8_t> raw((row_bytes + 1) * img.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, idat.data(), idat.size()) != Z_OK || raw_size != raw.size())
    throw std::runtime_error(path.string() + ": bad zlib stream");
  img.pixels.resize(row_bytes * img.height);
  const int bpp = img.channels;
  for (int y = 0; y < img.height; ++y) {
    const uint8_t filter = raw[y * (row_bytes + 1)];
    const uint8_t* src = &raw[y * (row_bytes + 1) + 1];
    uint8_t* dst = &img.pixels[y * row_bytes];
    const uint8_t* prev = y > 0 ? &img.pixels[(y - 1) * row_bytes] : nullptr;
    for (size_t i = 0; i < row_bytes; ++i) {
      const int a = i >= static_cast<size_t>(bpp) ? dst[i - bpp] : 0;
      const int b = prev ? prev[i] : 0;
      const int c = (prev && i >= static_cast<size_t>(bpp)) ? prev[i - bpp] : 0;
      int pred = 0;
      switch (filter) {
        case 0: pred = 0; break;
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 3: pred = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
          break;
        }
        default: throw std::runtime_error(path.string() + ": bad PNG filter");
      }
      dst[i] = static_cast<uint8_t>(src[i] + pred);
    }
  }
  return img;
}

inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return nlohmann::json::parse(in);
}

}  // namespace facepipe::test
