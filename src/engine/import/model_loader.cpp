#include "engine/import/model_loader.h"

#include <filesystem>
#include <string_view>

#include "common/status.h"
#include "engine/import/import_util.h"
#include "engine/import/zip_archive.h"

namespace facepipe::engine {

namespace {
bool is_regular_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

bool looks_like_tflite(std::span<const std::byte> bytes) {
  return bytes.size() >= 8 && std::string_view(reinterpret_cast<const char*>(bytes.data()) + 4, 4) == "TFL3";
}
}  // namespace

ModelSpec parse_model_spec(const std::string& spec) {
  if (is_regular_file(spec)) return {spec, ""};
  // "bundle.task:member": the first ':' whose prefix names an existing file splits the spec, so
  // paths that contain ':' themselves still work.
  for (size_t pos = spec.find(':'); pos != std::string::npos; pos = spec.find(':', pos + 1)) {
    const std::string prefix = spec.substr(0, pos);
    if (!prefix.empty() && is_regular_file(prefix)) return {prefix, spec.substr(pos + 1)};
  }
  return {spec, ""};
}

std::vector<std::byte> read_model_bytes(const ModelSpec& spec) {
  std::vector<std::byte> bytes = import_detail::read_file_bytes(spec.path);
  if (spec.member.empty()) return bytes;
  if (!ZipArchive::looks_like_zip(bytes))
    throw Error(spec.display() + ": '" + spec.path + "' is not a zip bundle, so it has no member '" + spec.member + "'");
  const ZipArchive zip(std::move(bytes), spec.path);
  return zip.read(spec.member);
}

Graph load_graph(const std::string& spec) { return load_graph(parse_model_spec(spec)); }

Graph load_graph(const ModelSpec& spec) {
  const std::string source = spec.display();
  std::vector<std::byte> bytes = read_model_bytes(spec);
  // TFLite first: a .tflite may carry a zip of metadata appended at its end.
  if (!looks_like_tflite(bytes) && ZipArchive::looks_like_zip(bytes)) {
    const ZipArchive zip(std::move(bytes), spec.path);
    throw Error(source + ": is a model bundle; pick a member as '" + spec.path + ":<member>' (members: " +
                zip.member_list() + ")");
  }
  Graph graph = looks_like_tflite(bytes) ? import_tflite(bytes, source) : import_onnx(bytes, source);
  graph.source = source;
  graph.validate();
  return graph;
}

}  // namespace facepipe::engine
