#include "engine/import/model_loader.h"

#include "common/status.h"

namespace facepipe::engine {

ModelSpec parse_model_spec(const std::string& spec) { return {spec, ""}; }
std::vector<std::byte> read_model_bytes(const ModelSpec& spec) { throw Error(spec.display() + ": not implemented"); }
Graph load_graph(const std::string& spec) { return load_graph(parse_model_spec(spec)); }
Graph load_graph(const ModelSpec& spec) { throw Error(spec.display() + ": not implemented"); }
Graph import_tflite(std::span<const std::byte>, const std::string& source) { throw Error(source + ": not implemented"); }
Graph import_onnx(std::span<const std::byte>, const std::string& source) { throw Error(source + ": not implemented"); }

}  // namespace facepipe::engine
