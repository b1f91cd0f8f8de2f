/* Layout of a facepipe shared-memory segment, version 1 (docs/ipc.md explains the protocol).
 *
 * Plain C so that the C++ reader and writer, the C API and FFI users share one definition;
 * python/facepipe_shm.py mirrors it field by field. Every field is naturally aligned and every
 * record is a multiple of 8 bytes, so readers copy 64-bit words. Fields marked ATOMIC are only ever
 * accessed through 64-bit atomic loads and stores (std::atomic_ref in C++); everything in a slot is
 * too (see the seqlock in docs/ipc.md). Offsets are relative to the segment start (header fields)
 * or the slot start (slot fields); the segment holds no pointers. */
#ifndef FACEPIPE_IPC_SHM_LAYOUT_H_
#define FACEPIPE_IPC_SHM_LAYOUT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "FPIPESHM" as a little-endian u64. */
#define FP_SHM_MAGIC 0x4D48534550495046ULL
#define FP_SHM_LAYOUT_VERSION 1u
#define FP_SHM_HEADER_SIZE 4096u
#define FP_SHM_SLOT_HEADER_SIZE 128u
#define FP_SHM_NUM_LANDMARKS 478
#define FP_SHM_NUM_BLENDSHAPES 52
#define FP_SHM_NAME_PART_MAX 48 /* instance and camera: 1..48 chars of [A-Za-z0-9_-] */

enum fp_shm_preview_format { FP_SHM_PREVIEW_NONE = 0, FP_SHM_PREVIEW_BGR8 = 1, FP_SHM_PREVIEW_RGB8 = 2 };
enum fp_shm_writer_state { FP_SHM_STATE_LIVE = 1, FP_SHM_STATE_CLOSED = 2 };
enum fp_shm_face_flags { FP_SHM_FACE_HAS_BLENDSHAPES = 1u, FP_SHM_FACE_HAS_POSE = 2u };

typedef struct fp_shm_header {
  /* ---- static part: complete before `magic` is stored (release), never changed afterwards ---- */
  uint64_t magic; /* ATOMIC: 0 until the header is complete */
  uint32_t layout_version;
  uint32_t header_size;        /* FP_SHM_HEADER_SIZE */
  uint64_t segment_size;       /* bytes, the whole file */
  uint64_t slots_offset;       /* first slot, from the segment start */
  uint32_t slot_count;
  uint32_t slot_size;          /* stride between slots, multiple of 64 */
  uint32_t max_faces;
  uint32_t face_record_size;   /* sizeof(fp_shm_face) */
  uint32_t num_landmarks;      /* FP_SHM_NUM_LANDMARKS */
  uint32_t num_blendshapes;    /* FP_SHM_NUM_BLENDSHAPES */
  uint32_t faces_offset;       /* within a slot */
  uint32_t preview_offset;     /* within a slot */
  uint32_t preview_capacity;   /* bytes reserved per slot (0: no previews) */
  uint32_t preview_max_width;
  uint32_t preview_max_height;
  uint32_t preview_format;     /* fp_shm_preview_format of every preview */
  uint64_t writer_pid;
  uint64_t writer_session;     /* random, non-zero, new for every writer */
  uint64_t created_realtime_ns;
  char instance[64];           /* NUL-terminated */
  char camera[64];
  char source[256];            /* device, file or URL the camera reads, informational */
  uint32_t camera_width;       /* capture size (informational; slots carry the face pixel space) */
  uint32_t camera_height;
  uint32_t nominal_fps_milli;  /* configured rate x 1000, 0 if unknown */
  uint32_t reserved0;
  uint8_t reserved1[1024 - 504];
  /* ---- live part, own cache lines ---- */
  uint64_t heartbeat_ns;       /* ATOMIC: CLOCK_MONOTONIC, every publish and every 100 ms */
  uint64_t publish_count;      /* ATOMIC: frames published so far (publish n lives in slot (n-1) % slot_count) */
  uint64_t fps_milli;          /* ATOMIC: measured publish rate x 1000 */
  uint64_t state;              /* ATOMIC: fp_shm_writer_state */
  uint8_t reserved2[FP_SHM_HEADER_SIZE - 1024 - 32];
} fp_shm_header;

typedef struct fp_shm_slot_header {
  uint64_t seq;            /* ATOMIC seqlock: 0 empty, 2n-1 writing publish n, 2n holds publish n */
  uint64_t publish_index;  /* n */
  uint64_t frame_id;       /* the writer's frame number (camera frames, may skip) */
  uint64_t capture_ns;     /* CLOCK_MONOTONIC when the frame was captured (0 if unknown) */
  uint64_t publish_ns;     /* CLOCK_MONOTONIC when publishing started */
  uint32_t num_faces;
  uint32_t source_width;   /* pixel space of all face coordinates */
  uint32_t source_height;
  uint32_t preview_width;  /* 0: no preview in this frame */
  uint32_t preview_height;
  uint32_t preview_stride; /* bytes per row, multiple of 8 */
  uint32_t preview_format; /* fp_shm_preview_format */
  uint32_t reserved0;
  uint8_t reserved1[FP_SHM_SLOT_HEADER_SIZE - 72];
} fp_shm_slot_header;

typedef struct fp_shm_face {
  int32_t id;              /* track id, stable while tracked */
  float score;             /* detection confidence */
  float presence;          /* landmark network's face presence */
  uint32_t flags;          /* fp_shm_face_flags */
  float box[4];            /* x1 y1 x2 y2, pixels */
  uint32_t num_landmarks;  /* 478 (v2) or 468 (v1) valid entries of landmarks */
  float yaw, pitch, roll;  /* degrees */
  float roi[4];            /* landmark crop: centre x, centre y, side, rotation (radians) */
  float transform[16];     /* facial transformation matrix, row-major, centimetres */
  float blendshapes[FP_SHM_NUM_BLENDSHAPES];
  float landmarks[FP_SHM_NUM_LANDMARKS][3]; /* x y (pixels), z (x's scale) */
} fp_shm_face;

#ifdef __cplusplus
}  // extern "C"
#endif

#ifdef __cplusplus
#define FP_SHM_STATIC_ASSERT static_assert
#else
#define FP_SHM_STATIC_ASSERT _Static_assert
#endif
FP_SHM_STATIC_ASSERT(sizeof(fp_shm_header) == FP_SHM_HEADER_SIZE, "fp_shm_header size");
FP_SHM_STATIC_ASSERT(sizeof(fp_shm_slot_header) == FP_SHM_SLOT_HEADER_SIZE, "fp_shm_slot_header size");
FP_SHM_STATIC_ASSERT(sizeof(fp_shm_face) == 6072, "fp_shm_face size");
FP_SHM_STATIC_ASSERT(offsetof(fp_shm_header, heartbeat_ns) == 1024, "live part on its own cache line");
FP_SHM_STATIC_ASSERT(offsetof(fp_shm_face, landmarks) == 336, "fp_shm_face layout");
FP_SHM_STATIC_ASSERT(sizeof(fp_shm_face) % 8 == 0, "fp_shm_face must be whole 64-bit words");

#endif /* FACEPIPE_IPC_SHM_LAYOUT_H_ */
