// Segment names: "/facepipe.<instance>.<camera>", each part 1..48 characters of [A-Za-z0-9_-].
// Header-only (the C++ reader is header-only and uses it).
#pragma once

#include <dirent.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/shm_layout.h"

namespace facepipe::ipc {

inline constexpr std::string_view kSegmentPrefix = "facepipe.";

inline bool is_valid_name_part(std::string_view part) {
  if (part.empty() || part.size() > FP_SHM_NAME_PART_MAX) return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// "/facepipe.<instance>.<camera>", or nullopt when a part is invalid.
inline std::optional<std::string> segment_name(std::string_view instance, std::string_view camera) {
  if (!is_valid_name_part(instance) || !is_valid_name_part(camera)) return std::nullopt;
  std::string name = "/";
  name.append(kSegmentPrefix).append(instance).append(".").append(camera);
  return name;
}

struct SegmentId {
  std::string instance;
  std::string camera;
  bool operator==(const SegmentId&) const = default;
};

// Parses "facepipe.<instance>.<camera>" (with or without the leading '/').
inline std::optional<SegmentId> parse_segment_name(std::string_view name) {
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  if (!name.starts_with(kSegmentPrefix)) return std::nullopt;
  name.remove_prefix(kSegmentPrefix.size());
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  SegmentId id{std::string(name.substr(0, dot)), std::string(name.substr(dot + 1))};
  if (!is_valid_name_part(id.instance) || !is_valid_name_part(id.camera)) return std::nullopt;
  return id;
}

// Segments that exist now (Linux: the files of /dev/shm), sorted; only `instance`'s when given.
// Existence says nothing about liveness: open them and look at the heartbeat.
inline std::vector<SegmentId> list_segments(std::string_view instance = {}) {
  std::vector<SegmentId> ids;
  DIR* dir = ::opendir("/dev/shm");
  if (!dir) return ids;
  while (const dirent* entry = ::readdir(dir)) {
    auto id = parse_segment_name(entry->d_name);
    if (id && (instance.empty() || id->instance == instance)) ids.push_back(std::move(*id));
  }
  ::closedir(dir);
  std::sort(ids.begin(), ids.end(), [](const SegmentId& a, const SegmentId& b) {
    return a.instance != b.instance ? a.instance < b.instance : a.camera < b.camera;
  });
  return ids;
}

}  // namespace facepipe::ipc
