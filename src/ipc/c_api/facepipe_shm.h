/* C API of the facepipe shared-memory reader (libfacepipe_shm.so), for C programs and FFI
 * (ctypes, cffi, Rust, C#...). docs/ipc.md describes the segments and the protocol.
 *
 *   fp_shm_reader* r = NULL;
 *   if (fp_shm_reader_open("studio", "cam0", &r) != FP_SHM_OK) ...;
 *   fp_shm_frame frame;
 *   int rc = fp_shm_read_latest(r, &frame);      // or fp_shm_read_next: every frame + frame.missed
 *   if (rc == FP_SHM_OK)
 *     for (uint32_t i = 0; i < frame.num_faces; ++i) use(frame.faces[i].landmarks);
 *   fp_shm_reader_close(r);
 *
 * Reads never block. A reader reconnects by itself when a writer restarts. The pointers in an
 * fp_shm_frame point into the reader's own memory and stay valid until the next read or close on
 * that reader. One reader must not be used by two threads at once; separate readers are independent. */
#ifndef FACEPIPE_SHM_H_
#define FACEPIPE_SHM_H_

#include <stddef.h>
#include <stdint.h>

#include "../shm_layout.h" /* fp_shm_face, fp_shm_slot_header, constants */

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FP_SHM_API __attribute__((visibility("default")))
#else
#define FP_SHM_API
#endif

/* Result codes: >= 0 are normal outcomes, < 0 are errors. */
enum fp_shm_status {
  FP_SHM_OK = 0,                 /* a frame was delivered */
  FP_SHM_NO_NEW_FRAME = 1,       /* writer alive, nothing newer */
  FP_SHM_WAITING_FOR_WRITER = 2, /* no segment under that name yet */
  FP_SHM_STALE = 3,              /* writer's heartbeat stopped (or it closed); reconnects by itself */
  FP_SHM_ERR_INVALID_ARGUMENT = -1,
  FP_SHM_ERR_INCOMPATIBLE = -2,  /* segment of another layout version (fp_shm_last_error says which) */
  FP_SHM_ERR_INTERNAL = -3,
};

typedef struct fp_shm_reader fp_shm_reader;

typedef struct fp_shm_frame {
  uint64_t frame_id;
  uint64_t publish_index;   /* 1, 2, ... within the current writer's segment */
  uint64_t capture_ns;      /* CLOCK_MONOTONIC */
  uint64_t publish_ns;      /* CLOCK_MONOTONIC: latency = fp_shm_now_ns() - publish_ns */
  uint64_t missed;          /* frames never delivered between the previous delivered one and this */
  uint32_t source_width;    /* pixel space of the face coordinates */
  uint32_t source_height;
  uint32_t num_faces;
  const fp_shm_face* faces; /* num_faces records */
  const uint8_t* preview;   /* NULL when the frame has no preview */
  uint32_t preview_width;
  uint32_t preview_height;
  uint32_t preview_stride;  /* bytes per row */
  uint32_t preview_format;  /* fp_shm_preview_format */
} fp_shm_frame;

typedef struct fp_shm_info {
  char instance[64];
  char camera[64];
  char source[256];
  uint64_t writer_pid;
  uint32_t camera_width, camera_height;
  uint32_t max_faces;
  uint32_t slot_count;
  uint32_t preview_max_width, preview_max_height, preview_format;
  double fps;               /* measured publish rate */
  double heartbeat_age_s;
  uint64_t publish_count;
  int live;                 /* 1: heartbeat fresh and not closed */
} fp_shm_info;

/* Validates the names and creates a reader; the segment need not exist yet. */
FP_SHM_API int fp_shm_reader_open(const char* instance, const char* camera, fp_shm_reader** out);
/* Like fp_shm_reader_open with a custom stale limit (heartbeat age, seconds; default 0.5). */
FP_SHM_API int fp_shm_reader_open_ex(const char* instance, const char* camera, double stale_after_s,
                                     fp_shm_reader** out);
FP_SHM_API void fp_shm_reader_close(fp_shm_reader* reader);

FP_SHM_API int fp_shm_read_latest(fp_shm_reader* reader, fp_shm_frame* frame);
FP_SHM_API int fp_shm_read_next(fp_shm_reader* reader, fp_shm_frame* frame);
/* Connection state without reading: FP_SHM_NO_NEW_FRAME (alive), _WAITING_FOR_WRITER, _STALE, or an error. */
FP_SHM_API int fp_shm_reader_state(fp_shm_reader* reader);
/* Counts for the current segment: publishes 1..n were each delivered (received) or skipped (missed). */
FP_SHM_API void fp_shm_reader_counts(const fp_shm_reader* reader, uint64_t* received, uint64_t* missed);
FP_SHM_API int fp_shm_reader_info(fp_shm_reader* reader, fp_shm_info* info);
/* Why the last call failed (static or reader-owned text; never NULL). */
FP_SHM_API const char* fp_shm_last_error(const fp_shm_reader* reader);
FP_SHM_API const char* fp_shm_status_name(int status);

/* Segments that exist now: calls `visit(instance, camera, user)` for each; returns how many. */
FP_SHM_API int fp_shm_list(const char* instance_or_null,
                           void (*visit)(const char* instance, const char* camera, void* user), void* user);

FP_SHM_API uint64_t fp_shm_now_ns(void); /* CLOCK_MONOTONIC */
FP_SHM_API uint32_t fp_shm_layout_version(void);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif /* FACEPIPE_SHM_H_ */
