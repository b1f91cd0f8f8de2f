/* C API test, compiled as C11: starts `facepipe ipc-demo` (argv[1] is the facepipe binary), reads
 * frames through libfacepipe_shm.so and checks faces, ids, landmark counts and the preview. Exit
 * code 0 on success. The child is always killed and the segment removed. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "facepipe_shm.h"

extern char** environ;

static pid_t child = -1;
static char instance[64];
static int failures = 0;

#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                    \
    }                                                                \
  } while (0)

static void cleanup(void) {
  if (child > 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = -1;
  }
  char name[160];
  snprintf(name, sizeof name, "/facepipe.%s.cam0", instance);
  shm_unlink(name);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void count_segment(const char* inst, const char* cam, void* user) {
  (void)inst;
  if (strcmp(cam, "cam0") == 0) ++*(int*)user;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FACEPIPE_BINARY\n", argv[0]);
    return 2;
  }
  snprintf(instance, sizeof instance, "tc-%d", (int)getpid());
  atexit(cleanup);

  fp_shm_reader* reader = NULL;
  CHECK(fp_shm_reader_open("bad.name", "cam0", &reader) == FP_SHM_ERR_INVALID_ARGUMENT);
  CHECK(reader == NULL);
  CHECK(fp_shm_reader_open(instance, "cam0", &reader) == FP_SHM_OK);
  CHECK(fp_shm_reader_state(reader) == FP_SHM_WAITING_FOR_WRITER);
  CHECK(fp_shm_layout_version() == FP_SHM_LAYOUT_VERSION);

  char* args[] = {argv[1], "ipc-demo", "--quiet", "--instance", instance, "--cameras", "cam0", "--faces", "3",
                  "--fps", "200", "--preview", "160x90", "--source-size", "640x360", NULL};
  if (posix_spawn(&child, argv[1], NULL, NULL, args, environ) != 0) {
    fprintf(stderr, "cannot start %s\n", argv[1]);
    return 1;
  }

  fp_shm_frame frame;
  int rc = FP_SHM_WAITING_FOR_WRITER, tries = 0;
  while ((rc = fp_shm_read_latest(reader, &frame)) != FP_SHM_OK && tries++ < 2000) sleep_ms(5);
  CHECK(rc == FP_SHM_OK);
  if (rc == FP_SHM_OK) {
    CHECK(frame.num_faces == 3);
    for (uint32_t i = 0; i < frame.num_faces; ++i) {
      const fp_shm_face* f = &frame.faces[i];
      CHECK(f->id == (int32_t)i + 1);
      CHECK(f->num_landmarks == FP_SHM_NUM_LANDMARKS);
      CHECK(f->flags & FP_SHM_FACE_HAS_BLENDSHAPES);
      for (int k = 0; k < FP_SHM_NUM_LANDMARKS; ++k) {
        CHECK(isfinite(f->landmarks[k][0]) && f->landmarks[k][0] >= 0 && f->landmarks[k][0] < 640);
        if (failures) break;
      }
      CHECK(f->box[0] < f->box[2] && f->box[1] < f->box[3]);
    }
    CHECK(frame.preview != NULL && frame.preview_width == 160 && frame.preview_height == 90);
    CHECK(frame.preview_format == FP_SHM_PREVIEW_BGR8 && frame.preview_stride >= 480);
    CHECK(frame.source_width == 640 && frame.source_height == 360);
    CHECK(fp_shm_now_ns() >= frame.publish_ns);
  }

  /* Follow every frame for a while: received + missed accounts for every publish. */
  uint64_t received = 0, missed = 0, last_index = 0;
  for (int i = 0; i < 400; ++i) {
    if (fp_shm_read_next(reader, &frame) == FP_SHM_OK) {
      CHECK(frame.publish_index > last_index);
      last_index = frame.publish_index;
    } else {
      sleep_ms(1);
    }
  }
  fp_shm_reader_counts(reader, &received, &missed);
  CHECK(received > 50);
  CHECK(received + missed == last_index);

  fp_shm_info info;
  CHECK(fp_shm_reader_info(reader, &info) == FP_SHM_OK);
  CHECK(strcmp(info.camera, "cam0") == 0 && strcmp(info.instance, instance) == 0);
  CHECK(info.writer_pid == (uint64_t)child && info.live == 1 && info.max_faces == 3);
  CHECK(info.fps > 50);
  int found = 0;
  CHECK(fp_shm_list(instance, count_segment, &found) == 1 && found == 1);

  /* kill -9 the writer: stale within 1 s. */
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  child = -1;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while ((rc = fp_shm_read_latest(reader, &frame)) != FP_SHM_STALE && tries++ < 4000) sleep_ms(2);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  const double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
  CHECK(rc == FP_SHM_STALE);
  CHECK(dt < 1.0);
  printf("C API: %llu frames followed, %llu missed; stale reported %.0f ms after kill -9 (%s)\n",
         (unsigned long long)received, (unsigned long long)missed, dt * 1000, fp_shm_status_name(rc));
  fp_shm_reader_close(reader);
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  return failures ? 1 : 0;
}
