#include "ipc/shm_writer.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "ipc/segment_name.h"
#include "ipc/shm_atomic.h"

namespace facepipe::ipc {

namespace {

constexpr uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

std::string errno_text(const char* call) { return std::string(call) + ": " + std::strerror(errno); }

uint64_t realtime_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t random_session() {
  std::random_device rd;
  uint64_t v = 0;
  while (v == 0) v = (uint64_t{rd()} << 32) ^ rd() ^ monotonic_ns();
  return v;
}

void copy_name(char (&dst)[64], const std::string& s) {
  std::memset(dst, 0, sizeof dst);
  std::memcpy(dst, s.data(), std::min(s.size(), sizeof dst - 1));
}

// Why an existing segment may be taken over, or nullopt when a live writer owns it.
std::optional<std::string> takeover_reason(const std::string& name, uint64_t stale_ns, pid_t* owner) {
  const int fd = ::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return std::string("vanished");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return std::string("unreadable");
  }
  const auto age_s = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() -
                     (static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec * 1e-9);
  if (st.st_size < static_cast<off_t>(sizeof(fp_shm_header))) {
    ::close(fd);
    if (age_s > 2.0) return std::string("never initialised");
    return std::nullopt;  // another writer is creating it right now
  }
  void* base = ::mmap(nullptr, sizeof(fp_shm_header), PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) return std::string("unmappable");
  const auto* h = static_cast<const fp_shm_header*>(base);
  std::optional<std::string> reason;
  const uint64_t magic = load_word(h->magic);
  if (magic == 0) {
    if (age_s > 2.0) reason = "never initialised";
  } else if (magic != FP_SHM_MAGIC) {
    reason = "not a facepipe segment";
  } else if (h->layout_version != FP_SHM_LAYOUT_VERSION) {
    // Another facepipe version's writer: its liveness fields may live elsewhere, so never clobber it.
    *owner = 0;
  } else {
    const uint64_t hb = load_word(h->heartbeat_ns, std::memory_order_relaxed);
    const uint64_t now = monotonic_ns();
    *owner = static_cast<pid_t>(h->writer_pid);
    if (load_word(h->state, std::memory_order_relaxed) == FP_SHM_STATE_CLOSED) reason = "closed";
    else if (::kill(static_cast<pid_t>(h->writer_pid), 0) != 0 && errno == ESRCH) reason = "writer process gone";
    else if (now > hb && now - hb > stale_ns) reason = "heartbeat stale";
  }
  ::munmap(base, sizeof(fp_shm_header));
  return reason;
}

}  // namespace

struct ShmWriter::Impl {
  std::string name;
  uint8_t* base = nullptr;
  size_t size = 0;
  fp_shm_header* header = nullptr;
  uint64_t count = 0;  // publishes so far (only this thread writes publish_count)
  uint64_t faces_dropped = 0;
  uint64_t last_publish_ns = 0;
  double fps = 0;
  bool closed = false;
  std::vector<uint64_t> row_buffer;  // one preview row, for RGB<->BGR conversion and odd tails

  std::thread heartbeat_thread;
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;

  ~Impl() {
    close();
    if (base) ::munmap(base, size);
  }

  void stop_heartbeat() {
    if (!heartbeat_thread.joinable()) return;
    {
      std::lock_guard lock(mutex);
      stop = true;
    }
    wake.notify_all();
    heartbeat_thread.join();
  }

  void close() {
    stop_heartbeat();
    if (closed || !header) return;
    closed = true;
    store_word(header->state, FP_SHM_STATE_CLOSED);
    ::shm_unlink(name.c_str());
  }

  void heartbeat_loop(uint32_t period_ms) {
    std::unique_lock lock(mutex);
    while (!stop) {
      store_word(header->heartbeat_ns, monotonic_ns(), std::memory_order_relaxed);
      wake.wait_for(lock, std::chrono::milliseconds(period_ms));
    }
  }

  uint8_t* slot_for(uint64_t n) const {
    return base + header->slots_offset + ((n - 1) % header->slot_count) * uint64_t{header->slot_size};
  }
};

ShmWriter::ShmWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ShmWriter::ShmWriter(ShmWriter&&) noexcept = default;
ShmWriter& ShmWriter::operator=(ShmWriter&&) noexcept = default;
ShmWriter::~ShmWriter() = default;

ShmWriter ShmWriter::create(const WriterOptions& o) {
  auto name = segment_name(o.instance, o.camera);
  if (!name)
    throw Error("shared memory: invalid instance '" + o.instance + "' or camera '" + o.camera + "' (1.." +
                std::to_string(FP_SHM_NAME_PART_MAX) + " characters of [A-Za-z0-9_-])");
  if (o.slot_count < 2 || o.slot_count > 1024) throw Error("shared memory: slot_count must be 2..1024");
  if (o.max_faces > 64) throw Error("shared memory: max_faces must be at most 64");
  const bool has_preview = o.preview_format != FP_SHM_PREVIEW_NONE && o.preview_width > 0 && o.preview_height > 0;
  if (has_preview && (o.preview_width > 8192 || o.preview_height > 8192))
    throw Error("shared memory: preview larger than 8192x8192");
  if (o.preview_format > FP_SHM_PREVIEW_RGB8) throw Error("shared memory: unknown preview format");

  const uint64_t faces_offset = sizeof(fp_shm_slot_header);
  const uint64_t faces_end = faces_offset + uint64_t{o.max_faces} * sizeof(fp_shm_face);
  const uint64_t stride = has_preview ? align_up(uint64_t{o.preview_width} * 3, 8) : 0;
  const uint64_t preview_capacity = stride * (has_preview ? o.preview_height : 0);
  const uint64_t preview_offset = align_up(faces_end, 64);
  const uint64_t slot_size = align_up(preview_offset + preview_capacity, 64);
  const uint64_t slots_offset = sizeof(fp_shm_header);
  const uint64_t segment_size = slots_offset + uint64_t{o.slot_count} * slot_size;
  if (slot_size > UINT32_MAX) throw Error("shared memory: slot too large");

  auto impl = std::make_unique<Impl>();
  impl->name = *name;
  int fd = -1;
  for (int attempt = 0; attempt < 2 && fd < 0; ++attempt) {
    fd = ::shm_open(name->c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) break;
    if (errno != EEXIST) throw Error("shared memory " + *name + ": " + errno_text("shm_open"));
    pid_t owner = 0;
    auto reason = takeover_reason(*name, o.takeover_stale_ns, &owner);
    if (!reason)
      throw Error("shared memory " + *name + " is in use by a live writer (pid " + std::to_string(owner) +
                  "); pick another --instance or stop that process");
    ::shm_unlink(name->c_str());
  }
  if (fd < 0) throw Error("shared memory " + *name + ": another writer created it at the same time");
  auto fail = [&](const char* call) {
    const std::string text = errno_text(call);
    ::close(fd);
    ::shm_unlink(name->c_str());
    throw Error("shared memory " + *name + ": " + text);
  };
  if (::fchmod(fd, 0600) != 0) fail("fchmod");
  if (::ftruncate(fd, static_cast<off_t>(segment_size)) != 0) fail("ftruncate");
  void* base = ::mmap(nullptr, segment_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) fail("mmap");
  ::close(fd);
  impl->base = static_cast<uint8_t*>(base);
  impl->size = segment_size;
  impl->header = static_cast<fp_shm_header*>(base);

  // The file is zero-filled: every slot's seq is 0 (empty). Fill the static part, then the magic.
  fp_shm_header& h = *impl->header;
  h.layout_version = FP_SHM_LAYOUT_VERSION;
  h.header_size = sizeof(fp_shm_header);
  h.segment_size = segment_size;
  h.slots_offset = slots_offset;
  h.slot_count = o.slot_count;
  h.slot_size = static_cast<uint32_t>(slot_size);
  h.max_faces = o.max_faces;
  h.face_record_size = sizeof(fp_shm_face);
  h.num_landmarks = FP_SHM_NUM_LANDMARKS;
  h.num_blendshapes = FP_SHM_NUM_BLENDSHAPES;
  h.faces_offset = static_cast<uint32_t>(faces_offset);
  h.preview_offset = static_cast<uint32_t>(preview_offset);
  h.preview_capacity = static_cast<uint32_t>(preview_capacity);
  h.preview_max_width = has_preview ? o.preview_width : 0;
  h.preview_max_height = has_preview ? o.preview_height : 0;
  h.preview_format = has_preview ? o.preview_format : uint32_t{FP_SHM_PREVIEW_NONE};
  h.writer_pid = static_cast<uint64_t>(::getpid());
  h.writer_session = random_session();
  h.created_realtime_ns = realtime_ns();
  copy_name(h.instance, o.instance);
  copy_name(h.camera, o.camera);
  std::memset(h.source, 0, sizeof h.source);
  std::memcpy(h.source, o.source.data(), std::min(o.source.size(), sizeof h.source - 1));
  h.camera_width = o.camera_width;
  h.camera_height = o.camera_height;
  h.nominal_fps_milli = static_cast<uint32_t>(std::clamp(o.nominal_fps, 0.0, 4e6) * 1000.0);
  store_word(h.heartbeat_ns, monotonic_ns(), std::memory_order_relaxed);
  store_word(h.state, FP_SHM_STATE_LIVE, std::memory_order_relaxed);
  store_word(h.magic, FP_SHM_MAGIC);  // release: the static part above is complete

  impl->row_buffer.resize(stride / 8 + 1);
  if (o.heartbeat_thread) {
    Impl* p = impl.get();
    const uint32_t period = std::max<uint32_t>(1, o.heartbeat_period_ms);
    impl->heartbeat_thread = std::thread([p, period] { p->heartbeat_loop(period); });
  }
  return ShmWriter(std::move(impl));
}

void ShmWriter::to_record(const face::FaceResult& f, fp_shm_face& r) {
  r.id = f.id;
  r.score = f.score;
  r.presence = f.presence;
  r.flags = (f.has_blendshapes ? uint32_t{FP_SHM_FACE_HAS_BLENDSHAPES} : 0u) | (f.has_pose ? uint32_t{FP_SHM_FACE_HAS_POSE} : 0u);
  r.box[0] = f.box.x1;
  r.box[1] = f.box.y1;
  r.box[2] = f.box.x2;
  r.box[3] = f.box.y2;
  r.num_landmarks = static_cast<uint32_t>(std::clamp(f.num_landmarks, 0, FP_SHM_NUM_LANDMARKS));
  r.yaw = f.yaw;
  r.pitch = f.pitch;
  r.roll = f.roll;
  r.roi[0] = f.roi.cx;
  r.roi[1] = f.roi.cy;
  r.roi[2] = f.roi.size;
  r.roi[3] = f.roi.rotation;
  std::copy(f.transform.begin(), f.transform.end(), r.transform);
  std::copy(f.blendshapes.begin(), f.blendshapes.end(), r.blendshapes);
  for (int i = 0; i < FP_SHM_NUM_LANDMARKS; ++i) {
    r.landmarks[i][0] = f.landmarks[static_cast<size_t>(i)].x;
    r.landmarks[i][1] = f.landmarks[static_cast<size_t>(i)].y;
    r.landmarks[i][2] = f.landmarks[static_cast<size_t>(i)].z;
  }
}

namespace {

template <typename FaceAt>
Status publish_impl(ShmWriter::Impl& w, const FrameInfo& info, size_t num_faces, FaceAt&& face_at,
                    media::ConstImageView preview) {
  if (!w.header || w.closed) return Status::error(StatusCode::kUnavailable, "shared-memory writer is closed");
  fp_shm_header& h = *w.header;
  const bool with_preview = !preview.empty() && h.preview_capacity != 0;
  // The segment's preview is packed RGB/BGR (fp_shm.h); an NV12 image must be scaled/converted first.
  if (with_preview && !media::is_packed_rgb(preview.format))
    return Status::error(StatusCode::kInvalidArgument, "preview must be packed RGB8/BGR8, not NV12");
  if (with_preview && (static_cast<uint32_t>(preview.width) > h.preview_max_width ||
                       static_cast<uint32_t>(preview.height) > h.preview_max_height))
    return Status::error(StatusCode::kInvalidArgument, "preview larger than the segment's preview size");

  const uint64_t n = w.count + 1;
  uint8_t* slot = w.slot_for(n);
  auto* sh = reinterpret_cast<fp_shm_slot_header*>(slot);
  const uint64_t now = monotonic_ns();
  store_word(sh->seq, 2 * n - 1, std::memory_order_relaxed);  // odd: being written; the release stores below keep it first

  const size_t faces = std::min<size_t>(num_faces, h.max_faces);
  w.faces_dropped += num_faces - faces;
  fp_shm_slot_header info_record{};
  info_record.publish_index = n;
  info_record.frame_id = info.frame_id;
  info_record.capture_ns = info.capture_ns;
  info_record.publish_ns = now;
  info_record.num_faces = static_cast<uint32_t>(faces);
  info_record.source_width = info.source_width;
  info_record.source_height = info.source_height;
  const uint64_t stride = with_preview ? (uint64_t{static_cast<uint32_t>(preview.width)} * 3 + 7) / 8 * 8 : 0;
  if (with_preview) {
    info_record.preview_width = static_cast<uint32_t>(preview.width);
    info_record.preview_height = static_cast<uint32_t>(preview.height);
    info_record.preview_stride = static_cast<uint32_t>(stride);
    info_record.preview_format = h.preview_format;
  }
  store_words(slot + 8, reinterpret_cast<const uint8_t*>(&info_record) + 8, sizeof(info_record) - 8);

  uint8_t* face_dst = slot + h.faces_offset;
  for (size_t i = 0; i < faces; ++i) face_at(i, face_dst + i * sizeof(fp_shm_face));

  if (with_preview) {
    const bool swap = (preview.format == media::PixelFormat::kRGB8) != (h.preview_format == FP_SHM_PREVIEW_RGB8);
    const size_t row_bytes = static_cast<size_t>(preview.width) * 3;
    uint8_t* dst = slot + h.preview_offset;
    uint8_t* buffer = reinterpret_cast<uint8_t*>(w.row_buffer.data());
    for (int y = 0; y < preview.height; ++y) {
      const uint8_t* src = preview.row(y);
      if (swap) {
        for (size_t x = 0; x < row_bytes; x += 3) {
          buffer[x] = src[x + 2];
          buffer[x + 1] = src[x + 1];
          buffer[x + 2] = src[x];
        }
      } else {
        std::memcpy(buffer, src, row_bytes);
      }
      std::memset(buffer + row_bytes, 0, stride - row_bytes);
      store_words(dst + static_cast<uint64_t>(y) * stride, buffer, stride);
    }
  }

  store_word(sh->seq, 2 * n);  // release: the slot is complete
  store_word(h.publish_count, n);
  w.count = n;
  store_word(h.heartbeat_ns, now, std::memory_order_relaxed);
  if (w.last_publish_ns != 0 && now > w.last_publish_ns) {
    const double rate = 1e9 / static_cast<double>(now - w.last_publish_ns);
    w.fps = w.fps == 0 ? rate : 0.9 * w.fps + 0.1 * rate;
    store_word(h.fps_milli, static_cast<uint64_t>(w.fps * 1000.0), std::memory_order_relaxed);
  }
  w.last_publish_ns = now;
  return Status::ok();
}

}  // namespace

Status ShmWriter::publish(const FrameInfo& info, std::span<const face::FaceResult> faces, media::ConstImageView preview) {
  return publish_impl(*impl_, info, faces.size(),
                      [&](size_t i, uint8_t* dst) {
                        fp_shm_face record;
                        to_record(faces[i], record);
                        store_words(dst, &record, sizeof record);
                      },
                      preview);
}

Status ShmWriter::publish_records(const FrameInfo& info, std::span<const fp_shm_face> faces,
                                  media::ConstImageView preview) {
  return publish_impl(*impl_, info, faces.size(),
                      [&](size_t i, uint8_t* dst) { store_words(dst, &faces[i], sizeof(fp_shm_face)); }, preview);
}

void ShmWriter::heartbeat() {
  if (impl_ && impl_->header) store_word(impl_->header->heartbeat_ns, monotonic_ns(), std::memory_order_relaxed);
}
void ShmWriter::close() {
  if (impl_) impl_->close();
}
const std::string& ShmWriter::name() const { return impl_->name; }
uint64_t ShmWriter::publish_count() const { return impl_->count; }
uint64_t ShmWriter::faces_dropped() const { return impl_->faces_dropped; }
const void* ShmWriter::base() const { return impl_->base; }
size_t ShmWriter::size() const { return impl_->size; }

}  // namespace facepipe::ipc
