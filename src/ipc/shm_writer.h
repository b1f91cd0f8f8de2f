// Writer of one camera's shared-memory segment (docs/ipc.md). The pipeline creates one ShmWriter per
// camera at start-up (throws facepipe::Error) and calls publish() per frame (returns Status, never
// waits for readers, allocates nothing).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"
#include "face/types.h"
#include "ipc/shm_layout.h"
#include "media/image.h"

namespace facepipe::ipc {

struct WriterOptions {
  std::string instance;  // 1..48 chars of [A-Za-z0-9_-]
  std::string camera;    // likewise
  uint32_t slot_count = 8;            // ring depth: how far a following reader may lag before missing frames
  uint32_t max_faces = 10;
  uint32_t preview_width = 960;       // largest preview publish() accepts; 0: no previews
  uint32_t preview_height = 540;
  uint32_t preview_format = FP_SHM_PREVIEW_BGR8;  // as stored; publish() converts RGB/BGR views
  // Camera description for `facepipe list` and viewers (informational).
  std::string source;
  uint32_t camera_width = 0, camera_height = 0;
  double nominal_fps = 0;
  // A thread that refreshes the heartbeat every period, so that a camera without frames still
  // reads as alive. Off: the heartbeat moves only with publish() and heartbeat().
  bool heartbeat_thread = true;
  uint32_t heartbeat_period_ms = 100;
  // An existing segment whose heartbeat is older than this (or whose writer pid is gone, or that
  // is closed) is taken over; a fresher one belongs to a live writer and create() refuses.
  uint64_t takeover_stale_ns = 500'000'000;
};

struct FrameInfo {
  uint64_t frame_id = 0;    // camera frame number
  uint64_t capture_ns = 0;  // CLOCK_MONOTONIC at capture (0: unknown)
  uint32_t source_width = 0, source_height = 0;  // pixel space of the faces' coordinates
};

class ShmWriter {
 public:
  // Creates /facepipe.<instance>.<camera> (0600). Throws facepipe::Error on an invalid name, on a
  // segment owned by a live writer, or when the system refuses (message says which call and why).
  static ShmWriter create(const WriterOptions& options);

  ShmWriter(ShmWriter&&) noexcept;
  ShmWriter& operator=(ShmWriter&&) noexcept;
  ~ShmWriter();  // marks the segment closed and unlinks it

  // Publishes one frame: faces beyond max_faces are dropped (counted in faces_dropped()), an empty
  // preview view means "no preview this frame". Errors (no allocation, nothing published):
  // kInvalidArgument for a preview larger than the segment's preview size.
  Status publish(const FrameInfo& info, std::span<const face::FaceResult> faces, media::ConstImageView preview = {});
  // The same with records already in the shared layout (tests, bridges from other producers).
  Status publish_records(const FrameInfo& info, std::span<const fp_shm_face> faces, media::ConstImageView preview = {});

  // Refreshes the heartbeat (only needed with heartbeat_thread off and no frames to publish).
  void heartbeat();
  // Marks the segment closed and unlinks it now (the destructor does it otherwise).
  void close();

  const std::string& name() const;
  uint64_t publish_count() const;
  uint64_t faces_dropped() const;
  // The writer's own mapping (in-process tests attach a SegmentView to it).
  const void* base() const;
  size_t size() const;

  // fp_shm_face from a FaceResult (no allocation).
  static void to_record(const face::FaceResult& face, fp_shm_face& record);

  struct Impl;  // defined in shm_writer.cpp

 private:
  explicit ShmWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace facepipe::ipc
