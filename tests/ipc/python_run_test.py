#!/usr/bin/python3
"""Python reader against the real runtime: `facepipe run` on the bundled sample video publishes
camera cam0; the pure-Python reader must see real faces (478 landmarks each, a stable id, a box
around the landmarks, 52 blendshapes) and a preview.

usage: python_run_test.py FACEPIPE_BINARY MODELS_DIR   (python/ must be on PYTHONPATH)
"""
import os
import signal
import subprocess
import sys
import time

import numpy as np

import facepipe_shm


def main() -> int:
    binary, models = sys.argv[1], sys.argv[2]
    sample = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "testdata",
                          "video", "talking_man_glasses_720x1280.mp4")
    if not os.path.exists(sample) or not os.path.isdir(models):
        print(f"SKIPPED: sample video or models missing ({sample}, {models})")
        return 77  # ctest SKIP_RETURN_CODE
    instance = f"tpyrun-{os.getpid()}"
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            print("FAILED:", what, file=sys.stderr)

    reader = facepipe_shm.Reader(instance, "cam0")
    child = subprocess.Popen([binary, "run", "--instance", instance, "--models", models, "--seconds", "30"],
                             cwd=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    try:
        ids = set()
        frames_with_face = 0
        deadline = time.monotonic() + 25
        while frames_with_face < 30 and time.monotonic() < deadline:
            frame = reader.read_next()
            if frame is None:
                time.sleep(0.005)
                continue
            if frame.landmarks.shape[0] == 0:
                continue
            frames_with_face += 1
            check(frame.landmarks.shape[1:] == (478, 3), f"landmarks shape {frame.landmarks.shape}")
            check(np.all(frame.num_landmarks == 478), "num_landmarks")
            lm = frame.landmarks[0]
            w, h = frame.source_size
            check((w, h) == (720, 1280), f"source size {frame.source_size}")
            check(np.all((lm[:, 0] >= -50) & (lm[:, 0] < w + 50) & (lm[:, 1] >= -50) & (lm[:, 1] < h + 50)),
                  "landmarks inside the frame")
            check(abs(frame.boxes[0, 0] - lm[:, 0].min()) < 1.0, "box around the landmarks")
            check(frame.blendshapes.shape[1] == 52 and np.all((frame.blendshapes >= 0) & (frame.blendshapes <= 1)),
                  "blendshapes")
            check(frame.preview is not None, "preview")
            ids.update(int(i) for i in frame.ids)
        check(frames_with_face >= 30, f"only {frames_with_face} frames with a face")
        check(len(ids) == 1, f"face ids {sorted(ids)}: the one face must keep its id")
        print(f"python reader: {frames_with_face} frames from facepipe run, face ids {sorted(ids)}, "
              f"{reader.missed} missed, fps {reader.fps:.1f}")
        child.send_signal(signal.SIGTERM)
        check(child.wait(timeout=10) == 0, "facepipe run exits 0 on SIGTERM")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        reader.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
