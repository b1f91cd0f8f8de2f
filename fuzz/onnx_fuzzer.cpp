// ONNX importer: protobuf parsing, NCHW -> NHWC lowering, then Graph::validate().
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/status.h"
#include "engine/import/model_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto graph = facepipe::engine::import_onnx(std::span(reinterpret_cast<const std::byte*>(data), size), "fuzz.onnx");
    graph.validate();
    (void)graph.parameter_count();
  } catch (const facepipe::Error&) {
  }
  return 0;
}
