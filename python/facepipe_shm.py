"""Pure-Python reader of facepipe shared-memory segments (layout version 1; docs/ipc.md).

No build step: mmap + numpy. Mirrors src/ipc/shm_layout.h field by field.

    import facepipe_shm
    reader = facepipe_shm.Reader("default", "cam0")
    frame = reader.read_latest()          # None when there is nothing new
    if frame is not None:
        frame.landmarks                   # (n_faces, 478, 3) float32, image pixels
        frame.ids, frame.boxes, frame.blendshapes, frame.transforms, frame.preview
    reader.read_next()                    # every frame in order; frame.missed = frames lost before it
    reader.status                         # "live", "stale", "waiting-for-writer", "incompatible"
    facepipe_shm.list_segments()          # [(instance, camera), ...]

Consistency: a frame is returned only when the slot's sequence number is the same (and even) before
and after the copy. Python cannot issue memory fences; the check relies on x86-64 not reordering
loads with loads (and on CPython not reordering its own operations). On weakly ordered CPUs (ARM) it is
a best-effort check; use the C API through ctypes there if every frame must be guaranteed untorn.
Like the C++ reader it reconnects by itself when a writer restarts under the same name.
"""

from __future__ import annotations

import mmap
import os
import re
import time
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

MAGIC = 0x4D48534550495046  # "FPIPESHM"
LAYOUT_VERSION = 1
HEADER_SIZE = 4096
SLOT_HEADER_SIZE = 128
NUM_LANDMARKS = 478
NUM_BLENDSHAPES = 52
PREVIEW_NONE, PREVIEW_BGR8, PREVIEW_RGB8 = 0, 1, 2
STATE_LIVE, STATE_CLOSED = 1, 2
FACE_HAS_BLENDSHAPES, FACE_HAS_POSE = 1, 2
SHM_DIR = "/dev/shm"
_NAME_PART = re.compile(r"^[A-Za-z0-9_-]{1,48}$")

HEADER_DTYPE = np.dtype(
    {
        "names": [
            "magic", "layout_version", "header_size", "segment_size", "slots_offset", "slot_count", "slot_size",
            "max_faces", "face_record_size", "num_landmarks", "num_blendshapes", "faces_offset", "preview_offset",
            "preview_capacity", "preview_max_width", "preview_max_height", "preview_format", "writer_pid",
            "writer_session", "created_realtime_ns", "instance", "camera", "source", "camera_width",
            "camera_height", "nominal_fps_milli", "heartbeat_ns", "publish_count", "fps_milli", "state",
        ],
        "formats": [
            "<u8", "<u4", "<u4", "<u8", "<u8", "<u4", "<u4", "<u4", "<u4", "<u4", "<u4", "<u4", "<u4", "<u4",
            "<u4", "<u4", "<u4", "<u8", "<u8", "<u8", "S64", "S64", "S256", "<u4", "<u4", "<u4", "<u8", "<u8",
            "<u8", "<u8",
        ],
        "offsets": [0, 8, 12, 16, 24, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72, 76, 80, 88, 96, 104, 168, 232, 488,
                    492, 496, 1024, 1032, 1040, 1048],
        "itemsize": HEADER_SIZE,
    }
)

SLOT_HEADER_DTYPE = np.dtype(
    {
        "names": ["seq", "publish_index", "frame_id", "capture_ns", "publish_ns", "num_faces", "source_width",
                  "source_height", "preview_width", "preview_height", "preview_stride", "preview_format"],
        "formats": ["<u8", "<u8", "<u8", "<u8", "<u8", "<u4", "<u4", "<u4", "<u4", "<u4", "<u4", "<u4"],
        "offsets": [0, 8, 16, 24, 32, 40, 44, 48, 52, 56, 60, 64],
        "itemsize": SLOT_HEADER_SIZE,
    }
)

FACE_DTYPE = np.dtype(
    [
        ("id", "<i4"), ("score", "<f4"), ("presence", "<f4"), ("flags", "<u4"), ("box", "<f4", (4,)),
        ("num_landmarks", "<u4"), ("yaw", "<f4"), ("pitch", "<f4"), ("roll", "<f4"), ("roi", "<f4", (4,)),
        ("transform", "<f4", (16,)), ("blendshapes", "<f4", (NUM_BLENDSHAPES,)),
        ("landmarks", "<f4", (NUM_LANDMARKS, 3)),
    ]
)
assert FACE_DTYPE.itemsize == 6072, FACE_DTYPE.itemsize


def monotonic_ns() -> int:
    """CLOCK_MONOTONIC, the clock of every timestamp in a segment."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def segment_name(instance: str, camera: str) -> str:
    if not _NAME_PART.match(instance) or not _NAME_PART.match(camera):
        raise ValueError(f"invalid instance {instance!r} or camera {camera!r}: 1..48 characters of [A-Za-z0-9_-]")
    return f"facepipe.{instance}.{camera}"


def list_segments(instance: Optional[str] = None) -> List[Tuple[str, str]]:
    """(instance, camera) of every segment that exists now (live or not)."""
    out = []
    try:
        names = os.listdir(SHM_DIR)
    except OSError:
        return out
    for name in names:
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "facepipe" and all(_NAME_PART.match(p) for p in parts[1:]):
            if instance is None or parts[1] == instance:
                out.append((parts[1], parts[2]))
    return sorted(out)


@dataclass
class Frame:
    frame_id: int
    publish_index: int
    capture_ns: int
    publish_ns: int
    source_size: Tuple[int, int]          # (width, height): pixel space of the face coordinates
    faces: np.ndarray                      # structured array of FACE_DTYPE, one record per face (a copy)
    preview: Optional[np.ndarray]          # (h, w, 3) uint8 in preview_format's channel order, or None
    preview_format: int
    missed: int = 0                        # frames never delivered between the previous one and this one

    @property
    def ids(self) -> np.ndarray:
        return self.faces["id"]

    @property
    def scores(self) -> np.ndarray:
        return self.faces["score"]

    @property
    def boxes(self) -> np.ndarray:         # (n, 4) x1 y1 x2 y2
        return self.faces["box"]

    @property
    def landmarks(self) -> np.ndarray:     # (n, 478, 3)
        return self.faces["landmarks"]

    @property
    def num_landmarks(self) -> np.ndarray:
        return self.faces["num_landmarks"]

    @property
    def blendshapes(self) -> np.ndarray:   # (n, 52)
        return self.faces["blendshapes"]

    @property
    def transforms(self) -> np.ndarray:    # (n, 4, 4) row-major, centimetres
        return self.faces["transform"].reshape(-1, 4, 4)

    @property
    def rois(self) -> np.ndarray:          # (n, 4) centre x, centre y, side, rotation
        return self.faces["roi"]

    def latency_ms(self) -> float:
        return (monotonic_ns() - self.publish_ns) / 1e6


class Reader:
    """Reads one camera's segment; attaches when it appears and follows writer restarts."""

    def __init__(self, instance: str, camera: str, stale_after_s: float = 0.5, recheck_s: float = 0.25):
        self.name = segment_name(instance, camera)
        self.path = os.path.join(SHM_DIR, self.name)
        self.stale_after_ns = int(stale_after_s * 1e9)
        self.recheck_ns = int(recheck_s * 1e9)
        self.error = ""
        self._map: Optional[mmap.mmap] = None
        self._live = None
        self._ino = None
        self._next_check = 0
        self.attach_count = 0
        self.received = 0
        self.missed = 0
        self._next = 1
        self._last_delivered = 0
        self._refresh(force=True)

    # ---- connection ------------------------------------------------------------------------------
    def close(self) -> None:
        self._unmap()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _unmap(self) -> None:
        self._live = None  # numpy views into the mapping must go before it closes
        if self._map is not None:
            self._map.close()
        self._map = None
        self._ino = None

    def _refresh(self, force: bool = False) -> None:
        now = monotonic_ns()
        if not force and now < self._next_check:
            return
        self._next_check = now + self.recheck_ns
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return
        try:
            st = os.fstat(fd)
            if self._map is not None and (st.st_dev, st.st_ino) == self._ino:
                return
            if st.st_size < HEADER_SIZE:
                return
            m = mmap.mmap(fd, st.st_size, mmap.MAP_SHARED, mmap.PROT_READ)
        finally:
            os.close(fd)
        why = self._validate(m, st.st_size)
        if why is not None:
            m.close()
            if why != "not ready" and self._map is None:
                self.error = f"{self.name}: {why}"
            return
        self._unmap()
        self._map = m
        self._ino = (st.st_dev, st.st_ino)
        self.header = np.frombuffer(m, dtype=HEADER_DTYPE, count=1)[0].copy()  # static part
        self._live = np.frombuffer(m, dtype="<u8", count=4, offset=1024)       # heartbeat, count, fps, state
        self.error = ""
        self.attach_count += 1
        self.received = self.missed = 0
        self._next = 1
        self._last_delivered = 0

    @staticmethod
    def _validate(m: mmap.mmap, size: int) -> Optional[str]:
        h = np.frombuffer(m, dtype=HEADER_DTYPE, count=1)[0]
        if int(h["magic"]) == 0:
            return "not ready"
        if int(h["magic"]) != MAGIC:
            return "not a facepipe segment (bad magic)"
        if int(h["layout_version"]) != LAYOUT_VERSION:
            return f"incompatible layout version {int(h['layout_version'])} (reader speaks {LAYOUT_VERSION})"
        if (int(h["header_size"]) != HEADER_SIZE or int(h["face_record_size"]) != FACE_DTYPE.itemsize
                or int(h["num_landmarks"]) != NUM_LANDMARKS or int(h["num_blendshapes"]) != NUM_BLENDSHAPES):
            return "incompatible record sizes"
        slot_count, slot_size = int(h["slot_count"]), int(h["slot_size"])
        faces_end = int(h["faces_offset"]) + int(h["max_faces"]) * FACE_DTYPE.itemsize
        if (slot_count == 0 or faces_end > slot_size or int(h["preview_offset"]) + int(h["preview_capacity"]) > slot_size
                or int(h["slots_offset"]) + slot_count * slot_size > int(h["segment_size"])
                or int(h["segment_size"]) > size):
            return "segment header describes areas outside the segment"
        return None

    @property
    def attached(self) -> bool:
        return self._map is not None

    def heartbeat_age_s(self) -> float:
        if self._map is None:
            return float("inf")
        return max(0, monotonic_ns() - int(self._live[0])) / 1e9

    @property
    def publish_count(self) -> int:
        return int(self._live[1]) if self._map is not None else 0

    @property
    def fps(self) -> float:
        return int(self._live[2]) / 1000.0 if self._map is not None else 0.0

    def stale(self) -> bool:
        if self._map is None:
            return True
        return int(self._live[3]) == STATE_CLOSED or monotonic_ns() - int(self._live[0]) > self.stale_after_ns

    @property
    def status(self) -> str:
        self._refresh()
        if self._map is None:
            return "incompatible" if self.error else "waiting-for-writer"
        return "stale" if self.stale() else "live"

    # ---- reading ---------------------------------------------------------------------------------
    def _read(self, n: int):
        """('ok', Frame) | ('not-yet', None) | ('overwritten', None) | ('corrupt', None)"""
        h, m = self.header, self._map
        slot_off = int(h["slots_offset"]) + ((n - 1) % int(h["slot_count"])) * int(h["slot_size"])
        seq = np.frombuffer(m, dtype="<u8", count=1, offset=slot_off)
        s1 = int(seq[0])
        if s1 < 2 * n:
            return "not-yet", None
        if s1 > 2 * n:
            return "overwritten", None
        info = np.frombuffer(m, dtype=SLOT_HEADER_DTYPE, count=1, offset=slot_off)[0].copy()
        nf = int(info["num_faces"])
        pw, ph, ps = int(info["preview_width"]), int(info["preview_height"]), int(info["preview_stride"])
        valid = nf <= int(h["max_faces"]) and int(info["publish_index"]) == n
        if pw:
            valid = valid and (pw <= int(h["preview_max_width"]) and ph <= int(h["preview_max_height"])
                               and ps >= pw * 3 and ps * ph <= int(h["preview_capacity"]))
        faces = preview = None
        if valid:
            faces = np.frombuffer(m, dtype=FACE_DTYPE, count=nf, offset=slot_off + int(h["faces_offset"])).copy()
            if pw:
                raw = np.frombuffer(m, dtype=np.uint8, count=ps * ph, offset=slot_off + int(h["preview_offset"]))
                preview = raw.reshape(ph, ps)[:, : pw * 3].reshape(ph, pw, 3).copy()
        if int(seq[0]) != s1:
            return "overwritten", None
        if not valid:
            return "corrupt", None
        frame = Frame(int(info["frame_id"]), n, int(info["capture_ns"]), int(info["publish_ns"]),
                      (int(info["source_width"]), int(info["source_height"])), faces, preview,
                      int(info["preview_format"]))
        return "ok", frame

    def read_latest(self) -> Optional[Frame]:
        """The newest complete frame if it is newer than the last one returned, else None."""
        self._refresh()
        if self._map is None:
            return None
        for _ in range(8):
            count = int(self._live[1])
            if count == 0 or count <= self._last_delivered:
                return None
            result, frame = self._read(count)
            if result == "ok":
                frame.missed = max(0, count - self._next)  # skipped frames count as missed
                self.missed += frame.missed
                self.received += 1
                self._last_delivered = count
                self._next = count + 1
                return frame
            if result != "overwritten":
                return None
        return None

    def read_next(self) -> Optional[Frame]:
        """The next frame in publish order, or None; frame.missed counts frames lost before it."""
        self._refresh()
        if self._map is None:
            return None
        skipped = 0
        slots = int(self.header["slot_count"])
        while True:
            count = int(self._live[1])
            if self._next > count:
                return None
            result, frame = self._read(self._next)
            if result == "ok":
                frame.missed = skipped
                self.received += 1
                self._last_delivered = self._next
                self._next += 1
                return frame
            if result == "not-yet":
                return None
            now_count = int(self._live[1])
            oldest = now_count + 2 - slots if now_count + 2 > slots else 1
            oldest = max(oldest, self._next + 1)
            skipped += oldest - self._next
            self.missed += oldest - self._next
            self._next = oldest

    def wait_frame(self, timeout_s: float = 5.0, latest: bool = True) -> Optional[Frame]:
        """Polls (1 ms) until a frame arrives or the timeout passes."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            frame = self.read_latest() if latest else self.read_next()
            if frame is not None:
                return frame
            time.sleep(0.001)
        return None
