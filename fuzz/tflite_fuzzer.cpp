// TFLite importer: flatbuffer parsing, op mapping, fp16 folding, then Graph::validate().
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/status.h"
#include "engine/import/model_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto graph = facepipe::engine::import_tflite(std::span(reinterpret_cast<const std::byte*>(data), size), "fuzz.tflite");
    graph.validate();
    (void)graph.parameter_count();
  } catch (const facepipe::Error&) {
  }
  return 0;
}
