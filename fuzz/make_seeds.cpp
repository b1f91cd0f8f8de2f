// Writes the fuzzers' seed corpus (tiny synthetic files) into <dir>/{zip,tflite,onnx}/.
#include <cstdio>
#include <filesystem>
#include <string>

#include "import_samples.h"

namespace {
void write(const std::filesystem::path& path, const facepipe::test::Bytes& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::fclose(f);
  std::printf("%s: %zu bytes\n", path.c_str(), bytes.size());
}
}  // namespace

int main(int argc, char** argv) {
  using namespace facepipe::test;
  const std::filesystem::path dir = argc > 1 ? argv[1] : "fuzz/corpus";
  const Bytes conv = samples::tflite_conv().build();
  const Bytes misc = samples::tflite_misc().build();
  write(dir / "tflite/conv_fp16.tflite", conv);
  write(dir / "tflite/misc_ops.tflite", misc);
  write(dir / "onnx/conv.onnx", samples::onnx_conv().build());
  write(dir / "onnx/dynamic.onnx", samples::onnx_dynamic().build());
  const Bytes text(reinterpret_cast<const uint8_t*>("hello, zip\n"), reinterpret_cast<const uint8_t*>("hello, zip\n") + 11);
  write(dir / "zip/stored.zip", make_zip({{"a.txt", text, false}, {"model.tflite", conv, false}}));
  write(dir / "zip/deflated.zip", make_zip({{"misc.tflite", misc, true}, {"b.txt", text, true}}));
  write(dir / "zip/prefixed.zip", make_zip({{"a.txt", text, true}}, 2));
  write(dir / "zip/empty.zip", make_zip({}));
  return 0;
}
