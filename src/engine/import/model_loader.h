// Loading model files into the graph IR.
//
// A model spec is a path, optionally followed by ":member" to pick a file inside a .task bundle:
//   face_landmarker.task:face_blendshapes.tflite
// The format is recognized from the content (zip / flatbuffer "TFL3" / protobuf), not the name.
// Every function here throws facepipe::Error with a message naming the file (and member, op or
// tensor) on missing, truncated, corrupt or unsupported input; none of them crashes on bad bytes.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "engine/ir/graph.h"

namespace facepipe::engine {

// Splits "file.task:member" into {"file.task", "member"}; a plain path gives {path, ""}.
// A ':' only counts as a separator when the part before it names an existing file.
struct ModelSpec {
  std::string path;
  std::string member;
  std::string display() const { return member.empty() ? path : path + ":" + member; }
};
ModelSpec parse_model_spec(const std::string& spec);

// Reads the bytes of a model: the whole file, or the named member of a .task (zip) bundle.
std::vector<std::byte> read_model_bytes(const ModelSpec& spec);

// Loads any supported model into the IR (validated with Graph::validate()).
Graph load_graph(const std::string& spec);
Graph load_graph(const ModelSpec& spec);

// Format-specific importers over bytes in memory. `source` names the origin in error messages.
Graph import_tflite(std::span<const std::byte> bytes, const std::string& source);
Graph import_onnx(std::span<const std::byte> bytes, const std::string& source);

}  // namespace facepipe::engine
