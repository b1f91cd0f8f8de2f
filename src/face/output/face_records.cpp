#include "face/output/face_records.h"

#include <charconv>
#include <cmath>

#include "face/blendshapes/blendshape_input.h"

namespace facepipe::face {

namespace {

// Shortest text that reads back as the same float (std::to_chars), "null" for NaN/inf, which JSON
// cannot represent.
void append_number(std::string& out, float value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

void append_int(std::string& out, int64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

void append_csv_number(std::string& out, float value) {
  if (std::isfinite(value)) append_number(out, value);  // empty cell for NaN
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\u00";
          out += hex[(c >> 4) & 0xf];
          out += hex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_face_json(std::string& out, const FaceResult& f) {
  out += "{\"id\": ";
  append_int(out, f.id);
  out += ", \"score\": ";
  append_number(out, f.score);
  out += ", \"presence\": ";
  append_number(out, f.presence);
  out += ", \"bbox\": [";
  append_number(out, f.box.x1);
  out += ", ";
  append_number(out, f.box.y1);
  out += ", ";
  append_number(out, f.box.x2);
  out += ", ";
  append_number(out, f.box.y2);
  out += "], \"landmarks\": [";
  for (int i = 0; i < f.num_landmarks; ++i) {
    const Landmark& l = f.landmarks[static_cast<size_t>(i)];
    out += i ? ", [" : "[";
    append_number(out, l.x);
    out += ", ";
    append_number(out, l.y);
    out += ", ";
    append_number(out, l.z);
    out += ']';
  }
  out += "], \"blendshapes\": ";
  if (f.has_blendshapes) {
    out += '{';
    for (int i = 0; i < kNumBlendshapes; ++i) {
      if (i) out += ", ";
      append_json_string(out, kBlendshapeNames[static_cast<size_t>(i)]);
      out += ": ";
      append_number(out, f.blendshapes[static_cast<size_t>(i)]);
    }
    out += '}';
  } else {
    out += "null";
  }
  out += ", \"transform\": ";
  if (f.has_pose) {
    out += '[';
    for (int i = 0; i < 16; ++i) {
      if (i) out += ", ";
      append_number(out, f.transform[static_cast<size_t>(i)]);
    }
    out += "], \"pose_deg\": {\"yaw\": ";
    append_number(out, f.yaw);
    out += ", \"pitch\": ";
    append_number(out, f.pitch);
    out += ", \"roll\": ";
    append_number(out, f.roll);
    out += '}';
  } else {
    out += "null, \"pose_deg\": null";
  }
  out += ", \"roi\": {\"cx\": ";
  append_number(out, f.roi.cx);
  out += ", \"cy\": ";
  append_number(out, f.roi.cy);
  out += ", \"size\": ";
  append_number(out, f.roi.size);
  out += ", \"rotation_rad\": ";
  append_number(out, f.roi.rotation);
  out += "}}";
}

void append_faces_json(std::string& out, std::span<const FaceResult> faces) {
  out += '[';
  for (size_t i = 0; i < faces.size(); ++i) {
    if (i) out += ", ";
    append_face_json(out, faces[i]);
  }
  out += ']';
}

void append_csv_header(std::string& out, int num_landmarks) {
  out += "frame,timestamp_ms,face_id,score,presence,bbox_x1,bbox_y1,bbox_x2,bbox_y2,yaw_deg,pitch_deg,roll_deg";
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      out += ",T_";
      out += static_cast<char>('0' + r);
      out += static_cast<char>('0' + c);
    }
  out += ",roi_cx,roi_cy,roi_size,roi_rotation_rad";
  for (const char axis : {'x', 'y', 'z'})
    for (int i = 0; i < num_landmarks; ++i) {
      out += ',';
      out += axis;
      out += '_';
      append_int(out, i);
    }
  for (const auto name : kBlendshapeNames) {
    out += ',';
    out += name;
  }
  out += '\n';
}

void append_csv_row(std::string& out, int64_t frame, int64_t timestamp_ms, const FaceResult& f, int num_landmarks) {
  append_int(out, frame);
  out += ',';
  append_int(out, timestamp_ms);
  out += ',';
  append_int(out, f.id);
  for (const float v : {f.score, f.presence, f.box.x1, f.box.y1, f.box.x2, f.box.y2}) {
    out += ',';
    append_csv_number(out, v);
  }
  for (const float v : {f.yaw, f.pitch, f.roll}) {
    out += ',';
    if (f.has_pose) append_csv_number(out, v);
  }
  for (const float v : f.transform) {
    out += ',';
    if (f.has_pose) append_csv_number(out, v);
  }
  for (const float v : {f.roi.cx, f.roi.cy, f.roi.size, f.roi.rotation}) {
    out += ',';
    append_csv_number(out, v);
  }
  for (int axis = 0; axis < 3; ++axis)
    for (int i = 0; i < num_landmarks; ++i) {
      out += ',';
      if (i < f.num_landmarks) {
        const Landmark& l = f.landmarks[static_cast<size_t>(i)];
        append_csv_number(out, axis == 0 ? l.x : axis == 1 ? l.y : l.z);
      }
    }
  for (const float v : f.blendshapes) {
    out += ',';
    if (f.has_blendshapes) append_csv_number(out, v);
  }
  out += '\n';
}

}  // namespace facepipe::face
