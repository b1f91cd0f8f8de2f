// libfacepipe_shm.so: the C API over the header-only C++ reader. Exceptions never cross it.
#include "facepipe_shm.h"

#include <cstring>
#include <new>

#include "ipc/shm_reader.h"

struct fp_shm_reader {
  facepipe::ipc::ShmReader reader;
  facepipe::ipc::Frame frame;
  std::string error;
};

namespace {

using facepipe::ipc::ReadStatus;

int to_code(ReadStatus s) {
  switch (s) {
    case ReadStatus::kFrame: return FP_SHM_OK;
    case ReadStatus::kNoNewFrame: return FP_SHM_NO_NEW_FRAME;
    case ReadStatus::kWaitingForWriter: return FP_SHM_WAITING_FOR_WRITER;
    case ReadStatus::kStale: return FP_SHM_STALE;
    case ReadStatus::kIncompatible: return FP_SHM_ERR_INCOMPATIBLE;
  }
  return FP_SHM_ERR_INTERNAL;
}

void fill(const facepipe::ipc::Frame& f, fp_shm_frame* out) {
  const fp_shm_slot_header& info = f.info();
  std::memset(out, 0, sizeof *out);
  out->frame_id = info.frame_id;
  out->publish_index = info.publish_index;
  out->capture_ns = info.capture_ns;
  out->publish_ns = info.publish_ns;
  out->missed = f.missed;
  out->source_width = info.source_width;
  out->source_height = info.source_height;
  out->num_faces = info.num_faces;
  out->faces = f.faces().data();
  const auto preview = f.preview();
  if (!preview.empty()) {
    out->preview = preview.data;
    out->preview_width = static_cast<uint32_t>(preview.width);
    out->preview_height = static_cast<uint32_t>(preview.height);
    out->preview_stride = static_cast<uint32_t>(preview.stride);
    out->preview_format = preview.format;
  }
}

template <typename Read>
int read_with(fp_shm_reader* r, fp_shm_frame* frame, Read&& read) {
  if (!r || !frame) return FP_SHM_ERR_INVALID_ARGUMENT;
  try {
    const ReadStatus s = read(r->reader, r->frame);
    if (s == ReadStatus::kFrame) fill(r->frame, frame);
    if (s == ReadStatus::kIncompatible) r->error = r->reader.last_error();
    return to_code(s);
  } catch (const std::exception& e) {
    r->error = e.what();
    return FP_SHM_ERR_INTERNAL;
  }
}

}  // namespace

extern "C" {

int fp_shm_reader_open_ex(const char* instance, const char* camera, double stale_after_s, fp_shm_reader** out) {
  if (!instance || !camera || !out || !(stale_after_s > 0)) return FP_SHM_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  if (!facepipe::ipc::segment_name(instance, camera)) return FP_SHM_ERR_INVALID_ARGUMENT;
  try {
    facepipe::ipc::ReaderOptions options;
    options.stale_after_ns = static_cast<uint64_t>(stale_after_s * 1e9);
    *out = new fp_shm_reader{facepipe::ipc::ShmReader(instance, camera, options), {}, {}};
    return FP_SHM_OK;
  } catch (...) {
    return FP_SHM_ERR_INTERNAL;
  }
}

int fp_shm_reader_open(const char* instance, const char* camera, fp_shm_reader** out) {
  return fp_shm_reader_open_ex(instance, camera, 0.5, out);
}

void fp_shm_reader_close(fp_shm_reader* reader) { delete reader; }

int fp_shm_read_latest(fp_shm_reader* reader, fp_shm_frame* frame) {
  return read_with(reader, frame, [](auto& r, auto& f) { return r.read_latest(f); });
}

int fp_shm_read_next(fp_shm_reader* reader, fp_shm_frame* frame) {
  return read_with(reader, frame, [](auto& r, auto& f) { return r.read_next(f); });
}

int fp_shm_reader_state(fp_shm_reader* reader) {
  if (!reader) return FP_SHM_ERR_INVALID_ARGUMENT;
  const ReadStatus s = reader->reader.state();
  if (s == ReadStatus::kIncompatible) reader->error = reader->reader.last_error();
  return to_code(s);
}

void fp_shm_reader_counts(const fp_shm_reader* reader, uint64_t* received, uint64_t* missed) {
  if (received) *received = reader ? reader->reader.received() : 0;
  if (missed) *missed = reader ? reader->reader.missed() : 0;
}

int fp_shm_reader_info(fp_shm_reader* reader, fp_shm_info* info) {
  if (!reader || !info) return FP_SHM_ERR_INVALID_ARGUMENT;
  std::memset(info, 0, sizeof *info);
  const int state = fp_shm_reader_state(reader);
  const fp_shm_header* h = reader->reader.header();
  if (!h) return state < 0 ? state : FP_SHM_WAITING_FOR_WRITER;
  std::memcpy(info->instance, h->instance, sizeof info->instance);
  std::memcpy(info->camera, h->camera, sizeof info->camera);
  std::memcpy(info->source, h->source, sizeof info->source);
  info->instance[sizeof info->instance - 1] = info->camera[sizeof info->camera - 1] = 0;
  info->source[sizeof info->source - 1] = 0;
  info->writer_pid = h->writer_pid;
  info->camera_width = h->camera_width;
  info->camera_height = h->camera_height;
  info->max_faces = h->max_faces;
  info->slot_count = h->slot_count;
  info->preview_max_width = h->preview_max_width;
  info->preview_max_height = h->preview_max_height;
  info->preview_format = h->preview_format;
  const auto* view = reader->reader.view();
  info->fps = view->fps();
  info->heartbeat_age_s = static_cast<double>(view->heartbeat_age_ns()) * 1e-9;
  info->publish_count = view->publish_count();
  info->live = !reader->reader.stale();
  return FP_SHM_OK;
}

const char* fp_shm_last_error(const fp_shm_reader* reader) { return reader ? reader->error.c_str() : ""; }

const char* fp_shm_status_name(int status) {
  switch (status) {
    case FP_SHM_OK: return "ok";
    case FP_SHM_NO_NEW_FRAME: return "no-new-frame";
    case FP_SHM_WAITING_FOR_WRITER: return "waiting-for-writer";
    case FP_SHM_STALE: return "stale";
    case FP_SHM_ERR_INVALID_ARGUMENT: return "invalid-argument";
    case FP_SHM_ERR_INCOMPATIBLE: return "incompatible";
    case FP_SHM_ERR_INTERNAL: return "internal-error";
    default: return "unknown";
  }
}

int fp_shm_list(const char* instance, void (*visit)(const char*, const char*, void*), void* user) {
  try {
    const auto ids = facepipe::ipc::list_segments(instance ? instance : "");
    if (visit)
      for (const auto& id : ids) visit(id.instance.c_str(), id.camera.c_str(), user);
    return static_cast<int>(ids.size());
  } catch (...) {
    return FP_SHM_ERR_INTERNAL;
  }
}

uint64_t fp_shm_now_ns(void) { return facepipe::ipc::monotonic_ns(); }
uint32_t fp_shm_layout_version(void) { return FP_SHM_LAYOUT_VERSION; }

}  // extern "C"
