#!/usr/bin/python3
"""Python reader test: reads faces published by a facepipe process and checks landmark counts and ids.

This one uses the synthetic `facepipe ipc-demo` publisher (known ids and counts, stale detection
after kill -9); python_run_test.py reads the real `facepipe run`.

usage: python_reader_test.py FACEPIPE_BINARY   (python/ must be on PYTHONPATH)
"""
import os
import signal
import subprocess
import sys
import time

import numpy as np

import facepipe_shm


def main() -> int:
    binary = sys.argv[1]
    instance = f"tpy-{os.getpid()}"
    faces = 4
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            print("FAILED:", what, file=sys.stderr)

    try:
        facepipe_shm.Reader("bad.name", "cam0")
        check(False, "invalid name accepted")
    except ValueError:
        pass

    reader = facepipe_shm.Reader(instance, "cam0")
    check(reader.status == "waiting-for-writer", f"status before the writer: {reader.status}")
    child = subprocess.Popen([binary, "ipc-demo", "--quiet", "--instance", instance, "--cameras", "cam0,cam1",
                              "--faces", str(faces), "--fps", "100", "--preview", "320x180", "--source-size", "1280x720"])
    try:
        frame = reader.wait_frame(timeout_s=10)
        check(frame is not None, "no frame within 10 s")
        if frame is not None:
            check(reader.status == "live", f"status {reader.status}")
            check(frame.landmarks.shape == (faces, 478, 3), f"landmarks shape {frame.landmarks.shape}")
            check(frame.landmarks.dtype == np.float32, "landmarks dtype")
            check(list(frame.ids) == list(range(1, faces + 1)), f"ids {list(frame.ids)}")
            check(np.all(frame.num_landmarks == 478), "num_landmarks")
            check(np.all(np.isfinite(frame.landmarks)), "finite landmarks")
            lm = frame.landmarks
            check(np.all((lm[..., 0] >= 0) & (lm[..., 0] < 1280) & (lm[..., 1] >= 0) & (lm[..., 1] < 720)),
                  "landmarks inside the source image")
            check(np.allclose(frame.boxes[:, 0], lm[..., 0].min(axis=1)), "box x1 = min landmark x")
            check(frame.blendshapes.shape == (faces, 52), "blendshapes shape")
            check(frame.transforms.shape == (faces, 4, 4) and np.allclose(frame.transforms[:, 3, 3], 1), "transforms")
            check(frame.source_size == (1280, 720), f"source size {frame.source_size}")
            check(frame.preview is not None and frame.preview.shape == (180, 320, 3), "preview shape")
            check(frame.preview_format == facepipe_shm.PREVIEW_BGR8, "preview format")
            check(0 <= frame.latency_ms() < 1000, f"latency {frame.latency_ms()} ms")
        # Follow every frame for a second: received + missed covers every publish.
        received, last = 0, 0
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            f = reader.read_next()
            if f is None:
                time.sleep(0.001)
                continue
            check(f.publish_index == last + 1 + f.missed or last == 0, "publish order")
            last = f.publish_index
            received += 1
        check(received > 50, f"only {received} frames followed")
        check(reader.received + reader.missed == last, f"{reader.received} + {reader.missed} != {last}")
        segments = facepipe_shm.list_segments(instance)
        check(segments == [(instance, "cam0"), (instance, "cam1")], f"segments {segments}")
        check(reader.fps > 50, f"fps {reader.fps}")
        print(f"python reader: {received} frames followed ({reader.missed} missed), "
              f"{frame.landmarks.shape[0] if frame else 0} faces x 478 landmarks, fps {reader.fps:.1f}")

        # kill -9 of the writer: stale within 1 s.
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        t0 = time.monotonic()
        while reader.status != "stale" and time.monotonic() - t0 < 3:
            time.sleep(0.002)
        dt = time.monotonic() - t0
        check(reader.status == "stale" and dt < 1.0, f"stale after {dt:.3f} s")
        print(f"python reader: stale {dt * 1000:.0f} ms after kill -9")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        reader.close()
        for cam in ("cam0", "cam1"):
            try:
                os.unlink(os.path.join(facepipe_shm.SHM_DIR, facepipe_shm.segment_name(instance, cam)))
            except FileNotFoundError:
                pass
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
