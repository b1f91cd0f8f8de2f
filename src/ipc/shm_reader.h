// Header-only C++ reader of facepipe shared-memory segments (docs/ipc.md has the protocol and why
// it is correct). Needs only libc and libstdc++: copy src/ipc/{shm_layout,shm_atomic,segment_name,
// shm_reader}.h and common/status.h into a client project.
//
//   facepipe::ipc::ShmReader reader("studio", "cam0");
//   facepipe::ipc::Frame frame;
//   for (;;) {
//     switch (reader.read_latest(frame)) {          // or read_next(frame): every frame, + frame.missed
//       case ReadStatus::kFrame: use(frame.faces(), frame.preview()); break;
//       case ReadStatus::kStale: /* writer dead or gone: show "offline"; it reconnects by itself */ break;
//       default: break;                             // nothing new yet / no writer yet
//     }
//   }
//
// Reads never block and never write to the segment (it is mapped read-only). A Frame's buffers are
// sized on the first read of a segment and reused; reads of the same segment allocate nothing.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "ipc/segment_name.h"
#include "ipc/shm_atomic.h"
#include "ipc/shm_layout.h"

namespace facepipe::ipc {

enum class ReadStatus {
  kFrame,             // a complete frame was copied into the caller's Frame
  kNoNewFrame,        // the writer is alive; nothing newer than what was delivered
  kWaitingForWriter,  // no (ready) segment under that name yet
  kStale,             // attached, but the writer's heartbeat stopped or it closed; nothing new
  kIncompatible,      // a segment exists but has another layout version / sizes (see last_error())
};

inline const char* read_status_name(ReadStatus s) {
  switch (s) {
    case ReadStatus::kFrame: return "frame";
    case ReadStatus::kNoNewFrame: return "no-new-frame";
    case ReadStatus::kWaitingForWriter: return "waiting-for-writer";
    case ReadStatus::kStale: return "stale";
    case ReadStatus::kIncompatible: return "incompatible";
  }
  return "?";
}

struct PreviewView {
  const uint8_t* data = nullptr;
  int width = 0, height = 0;
  ptrdiff_t stride = 0;
  uint32_t format = FP_SHM_PREVIEW_NONE;  // fp_shm_preview_format
  bool empty() const { return data == nullptr || width <= 0 || height <= 0; }
  const uint8_t* row(int y) const { return data + static_cast<ptrdiff_t>(y) * stride; }
};

// One frame copied out of a segment: private memory, valid until the next read into it.
class Frame {
 public:
  const fp_shm_slot_header& info() const { return info_; }
  uint64_t frame_id() const { return info_.frame_id; }
  uint64_t publish_index() const { return info_.publish_index; }
  std::span<const fp_shm_face> faces() const { return {faces_.data(), info_.num_faces}; }
  PreviewView preview() const {
    if (info_.preview_width == 0) return {};
    return {reinterpret_cast<const uint8_t*>(preview_.data()), static_cast<int>(info_.preview_width),
            static_cast<int>(info_.preview_height), static_cast<ptrdiff_t>(info_.preview_stride), info_.preview_format};
  }
  // Frames skipped (never delivered) between the previous delivered frame and this one: lost to
  // the writer lapping a read_next reader, or passed over by read_latest.
  uint64_t missed = 0;

  // Sizes the buffers for segments like `header` (done by the reader; allocates only when growing).
  void reserve(const fp_shm_header& header) {
    if (faces_.size() < header.max_faces) faces_.resize(header.max_faces);
    if (preview_.size() * 8 < header.preview_capacity) preview_.resize(header.preview_capacity / 8);
  }
  void swap(Frame& other) noexcept {
    std::swap(info_, other.info_);
    faces_.swap(other.faces_);
    preview_.swap(other.preview_);
    std::swap(missed, other.missed);
  }

 private:
  friend class SegmentView;
  fp_shm_slot_header info_{};
  std::vector<fp_shm_face> faces_;
  std::vector<uint64_t> preview_;  // 8-byte words: the copy is word-wise
};

// Position of a reader that follows every frame. Every publish number from 1 (the first publish of
// the segment) up to next-1 was either delivered (received) or counted in missed.
struct FollowCursor {
  uint64_t next = 1;
  uint64_t received = 0;
  uint64_t missed = 0;
};

// The protocol over one mapped segment; does not own the mapping. Usable on any mapping of a
// segment, including the writer's own (the in-process stress test does that so ThreadSanitizer
// sees writer and readers on the same addresses).
class SegmentView {
 public:
  enum class SlotRead { kOk, kNotYet, kOverwritten, kCorrupt };

  // Checks magic, version, sizes and that every area lies inside [base, base + size). On failure
  // returns nullopt and says why; `not_ready` is set when the writer simply hasn't finished
  // creating it (retry later) rather than it being incompatible.
  static std::optional<SegmentView> attach(const void* base, size_t size, std::string* why = nullptr,
                                           bool* not_ready = nullptr) {
    auto fail = [&](std::string reason, bool is_not_ready) -> std::optional<SegmentView> {
      if (why) *why = std::move(reason);
      if (not_ready) *not_ready = is_not_ready;
      return std::nullopt;
    };
    if (size < sizeof(fp_shm_header)) return fail("segment smaller than its header", true);
    const auto* h = static_cast<const fp_shm_header*>(base);
    const uint64_t magic = load_word(h->magic);
    if (magic == 0) return fail("segment not initialised yet", true);
    if (magic != FP_SHM_MAGIC) return fail("not a facepipe segment (bad magic)", false);
    if (h->layout_version != FP_SHM_LAYOUT_VERSION)
      return fail("incompatible layout version " + std::to_string(h->layout_version) + " (reader speaks " +
                      std::to_string(FP_SHM_LAYOUT_VERSION) + ")",
                  false);
    if (h->header_size != sizeof(fp_shm_header) || h->face_record_size != sizeof(fp_shm_face) ||
        h->num_landmarks != FP_SHM_NUM_LANDMARKS || h->num_blendshapes != FP_SHM_NUM_BLENDSHAPES)
      return fail("incompatible record sizes", false);
    const uint64_t faces_end = uint64_t{h->faces_offset} + uint64_t{h->max_faces} * h->face_record_size;
    const uint64_t preview_end = uint64_t{h->preview_offset} + h->preview_capacity;
    if (h->slot_count == 0 || h->slot_size % 64 != 0 || h->slots_offset % 64 != 0 ||
        h->faces_offset < sizeof(fp_shm_slot_header) || h->faces_offset % 8 != 0 || h->preview_offset % 8 != 0 ||
        h->preview_capacity % 8 != 0 || faces_end > h->slot_size || preview_end > h->slot_size ||
        (h->preview_capacity != 0 && h->preview_offset < faces_end) ||
        h->slots_offset < sizeof(fp_shm_header) ||
        h->slots_offset + uint64_t{h->slot_count} * h->slot_size > h->segment_size || h->segment_size > size)
      return fail("segment header describes areas outside the segment", false);
    return SegmentView(static_cast<const uint8_t*>(base), h);
  }

  const fp_shm_header& header() const { return *header_; }
  uint64_t publish_count() const { return load_word(header_->publish_count); }
  uint64_t heartbeat_ns() const { return load_word(header_->heartbeat_ns, std::memory_order_relaxed); }
  uint64_t state() const { return load_word(header_->state, std::memory_order_relaxed); }
  double fps() const { return static_cast<double>(load_word(header_->fps_milli, std::memory_order_relaxed)) / 1000.0; }
  uint64_t heartbeat_age_ns(uint64_t now_ns = monotonic_ns()) const {
    const uint64_t hb = heartbeat_ns();
    return now_ns > hb ? now_ns - hb : 0;
  }

  // Copies publish n (>= 1) into `out` if its slot holds it, complete and untorn.
  SlotRead read(uint64_t n, Frame& out) const {
    const fp_shm_header& h = *header_;
    const uint8_t* slot = base_ + h.slots_offset + ((n - 1) % h.slot_count) * uint64_t{h.slot_size};
    const auto* sh = reinterpret_cast<const fp_shm_slot_header*>(slot);
    const uint64_t s1 = load_word(sh->seq);
    if (s1 < 2 * n) return SlotRead::kNotYet;  // publish n not begun or still being written
    if (s1 > 2 * n) return SlotRead::kOverwritten;
    out.reserve(h);
    fp_shm_slot_header info{};  // every byte but seq is overwritten below
    load_words(slot + 8, reinterpret_cast<uint8_t*>(&info) + 8, sizeof(info) - 8);
    info.seq = s1;
    bool valid = info.num_faces <= h.max_faces && info.publish_index == n;
    if (info.preview_width != 0) {
      valid = valid && h.preview_capacity != 0 && info.preview_width <= h.preview_max_width &&
              info.preview_height <= h.preview_max_height && info.preview_stride % 8 == 0 &&
              info.preview_stride >= uint64_t{info.preview_width} * 3 &&
              uint64_t{info.preview_stride} * info.preview_height <= h.preview_capacity;
    }
    if (valid) {
      load_words(slot + h.faces_offset, out.faces_.data(), uint64_t{info.num_faces} * sizeof(fp_shm_face));
      if (info.preview_width != 0)
        load_words(slot + h.preview_offset, out.preview_.data(), uint64_t{info.preview_stride} * info.preview_height);
    }
    // Program order after the acquire loads above: cannot be satisfied early (docs/ipc.md).
    const uint64_t s2 = load_word(sh->seq, std::memory_order_relaxed);
    if (s2 != s1) return SlotRead::kOverwritten;
    if (!valid) return SlotRead::kCorrupt;  // a complete slot with impossible sizes: writer bug or hostile
    out.info_ = info;
    return SlotRead::kOk;
  }

  // Next frame in publish order; false when there is none yet. Frames the writer overwrote before we
  // got to them are counted in cursor.missed and in out.missed. On false `out` may hold garbage:
  // read into a scratch Frame and swap (ShmReader does).
  bool read_next(FollowCursor& cursor, Frame& out) const {
    uint64_t skipped = 0;
    for (;;) {
      const uint64_t count = publish_count();
      if (cursor.next > count) {
        out.missed = 0;
        return false;
      }
      const SlotRead r = read(cursor.next, out);
      if (r == SlotRead::kOk) {
        out.missed = skipped;
        ++cursor.received;
        ++cursor.next;
        return true;
      }
      if (r == SlotRead::kNotYet) return false;  // cannot happen after publish_count said so; be safe
      // Overwritten (or corrupt): the frame is gone. Jump to the oldest publish that can still be
      // complete: the slot after the one the writer is filling (always > cursor.next, see docs).
      const uint64_t now_count = publish_count();
      const uint64_t slots = header_->slot_count;
      uint64_t oldest = now_count + 2 > slots ? now_count + 2 - slots : 1;
      if (oldest <= cursor.next) oldest = cursor.next + 1;
      skipped += oldest - cursor.next;
      cursor.missed += oldest - cursor.next;
      cursor.next = oldest;
    }
  }

  // The newest frame if it is newer than publish `last_delivered`; updates it.
  bool read_latest(uint64_t& last_delivered, Frame& out) const {
    for (int attempt = 0; attempt < 8; ++attempt) {
      const uint64_t count = publish_count();
      if (count == 0 || count <= last_delivered) return false;
      const SlotRead r = read(count, out);
      if (r == SlotRead::kOk) {
        out.missed = 0;
        last_delivered = count;
        return true;
      }
      if (r != SlotRead::kOverwritten) return false;
    }
    return false;
  }

 private:
  SegmentView(const uint8_t* base, const fp_shm_header* header) : base_(base), header_(header) {}
  const uint8_t* base_;
  const fp_shm_header* header_;
};

struct ReaderOptions {
  uint64_t stale_after_ns = 500'000'000;     // heartbeat older than this: kStale
  uint64_t recheck_interval_ns = 250'000'000;  // how often to look for a new segment under the name
};

// Opens /facepipe.<instance>.<camera> when it appears, follows writer restarts by itself.
class ShmReader {
 public:
  // Throws facepipe::Error on an invalid instance or camera name. Does not need the segment to exist.
  ShmReader(std::string_view instance, std::string_view camera, ReaderOptions options = {}) : options_(options) {
    auto name = segment_name(instance, camera);
    if (!name)
      throw Error("invalid segment name part (1.." + std::to_string(FP_SHM_NAME_PART_MAX) +
                  " characters of [A-Za-z0-9_-]): instance '" + std::string(instance) + "', camera '" +
                  std::string(camera) + "'");
    name_ = std::move(*name);
    refresh(monotonic_ns(), true);
  }
  ShmReader(ShmReader&& other) noexcept { *this = std::move(other); }
  ShmReader& operator=(ShmReader&& other) noexcept {
    if (this != &other) {
      unmap();
      name_ = std::move(other.name_);
      options_ = other.options_;
      map_ = std::exchange(other.map_, nullptr);
      map_size_ = std::exchange(other.map_size_, 0);
      dev_ = other.dev_;
      ino_ = other.ino_;
      view_ = std::exchange(other.view_, std::nullopt);
      cursor_ = other.cursor_;
      last_delivered_ = other.last_delivered_;
      next_check_ns_ = other.next_check_ns_;
      attaches_ = other.attaches_;
      error_ = std::move(other.error_);
      scratch_.swap(other.scratch_);
    }
    return *this;
  }
  ShmReader(const ShmReader&) = delete;
  ShmReader& operator=(const ShmReader&) = delete;
  ~ShmReader() { unmap(); }

  // The newest complete frame, if newer than the last one this reader delivered.
  ReadStatus read_latest(Frame& frame) {
    const uint64_t now = monotonic_ns();
    refresh(now, false);
    if (!view_) return error_.empty() ? ReadStatus::kWaitingForWriter : ReadStatus::kIncompatible;
    if (view_->read_latest(last_delivered_, scratch_)) {
      // Frames skipped to get to the latest count as missed, so received + missed = next - 1 holds
      // in any mix of read_latest and read_next; read_next continues after this frame.
      const uint64_t skipped = last_delivered_ > cursor_.next ? last_delivered_ - cursor_.next : 0;
      scratch_.missed = skipped;
      cursor_.missed += skipped;
      ++cursor_.received;
      cursor_.next = last_delivered_ + 1;
      frame.swap(scratch_);
      return ReadStatus::kFrame;
    }
    return idle_status(now);
  }

  // Every frame in order; frame.missed says how many were lost just before this one.
  ReadStatus read_next(Frame& frame) {
    const uint64_t now = monotonic_ns();
    refresh(now, false);
    if (!view_) return error_.empty() ? ReadStatus::kWaitingForWriter : ReadStatus::kIncompatible;
    if (view_->read_next(cursor_, scratch_)) {
      last_delivered_ = cursor_.next - 1;
      frame.swap(scratch_);
      return ReadStatus::kFrame;
    }
    return idle_status(now);
  }

  // Connection state without reading a frame (kNoNewFrame means attached and alive).
  ReadStatus state() {
    const uint64_t now = monotonic_ns();
    refresh(now, false);
    if (!view_) return error_.empty() ? ReadStatus::kWaitingForWriter : ReadStatus::kIncompatible;
    return idle_status(now);
  }

  bool attached() const { return view_.has_value(); }
  // The attached segment's header (static part: plain reads are fine) or nullptr.
  const fp_shm_header* header() const { return view_ ? &view_->header() : nullptr; }
  const SegmentView* view() const { return view_ ? &*view_ : nullptr; }
  uint64_t heartbeat_age_ns() const { return view_ ? view_->heartbeat_age_ns() : UINT64_MAX; }
  bool stale(uint64_t now_ns = monotonic_ns()) const {
    return !view_ || view_->state() == FP_SHM_STATE_CLOSED || view_->heartbeat_age_ns(now_ns) > options_.stale_after_ns;
  }
  // Counts for the current segment (reset when a new writer's segment is attached): publishes
  // 1..n delivered or skipped so far, received + missed = n, for read_next and read_latest alike.
  uint64_t received() const { return cursor_.received; }
  uint64_t missed() const { return cursor_.missed; }
  // How many segments this reader attached so far (> 1: it followed a writer restart).
  uint64_t attach_count() const { return attaches_; }
  const std::string& name() const { return name_; }
  const std::string& last_error() const { return error_; }

 private:
  ReadStatus idle_status(uint64_t now) const { return stale(now) ? ReadStatus::kStale : ReadStatus::kNoNewFrame; }

  // Every recheck interval (or while unattached): is there a different segment under our name?
  void refresh(uint64_t now, bool force) {
    if (!force && now < next_check_ns_) return;
    next_check_ns_ = now + options_.recheck_interval_ns;
    const int fd = ::shm_open(name_.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return;  // gone (clean shutdown) or not there yet: keep what we have
    struct stat st {};
    if (::fstat(fd, &st) != 0 || (map_ && st.st_dev == dev_ && st.st_ino == ino_) ||
        st.st_size < static_cast<off_t>(sizeof(fp_shm_header))) {
      ::close(fd);
      return;
    }
    void* base = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (base == MAP_FAILED) return;
    std::string why;
    bool not_ready = false;
    auto view = SegmentView::attach(base, static_cast<size_t>(st.st_size), &why, &not_ready);
    if (!view) {
      ::munmap(base, static_cast<size_t>(st.st_size));
      if (!not_ready && !map_) error_ = name_ + ": " + why;
      next_check_ns_ = now + (not_ready ? options_.recheck_interval_ns / 5 : options_.recheck_interval_ns);
      return;
    }
    unmap();
    map_ = base;
    map_size_ = static_cast<size_t>(st.st_size);
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    view_ = view;
    cursor_ = {};
    last_delivered_ = 0;
    error_.clear();
    ++attaches_;
    scratch_.reserve(view_->header());
  }

  void unmap() {
    if (map_) ::munmap(map_, map_size_);
    map_ = nullptr;
    map_size_ = 0;
    view_.reset();
  }

  std::string name_;
  ReaderOptions options_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  std::optional<SegmentView> view_;
  FollowCursor cursor_;
  uint64_t last_delivered_ = 0;
  uint64_t next_check_ns_ = 0;
  uint64_t attaches_ = 0;
  std::string error_;
  Frame scratch_;
};

}  // namespace facepipe::ipc
