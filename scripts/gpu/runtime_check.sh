#!/usr/bin/env bash
# From a folder made by make_carry.sh: `facepipe run` with N file cameras (the sample clip, as fast
# as they decode) on one GPU worker, `facepipe list` and metrics after 8 s, then kill -9 of the
# worker and its restart; ends with the number of facepipe objects left in /dev/shm (expect 0).
cd "$(dirname "$0")/bin"
export LD_LIBRARY_PATH=$PWD/../lib:${LD_LIBRARY_PATH:-} FACEPIPE_MODELS=$PWD/../models
VID=$PWD/../shared/testdata/video/talking_man_glasses_720x1280.mp4
N=${N:-8}
{ for i in $(seq 0 $((N-1))); do printf '[[camera]]\nid = "c%d"\nsource = "%s"\nrealtime = %s\nmax_faces = 4\n\n' $i "$VID" ${REALTIME:-false}; done; } > /tmp/cams.toml
echo "== $N file cameras, realtime = ${REALTIME:-false}, 16 s ${EXTRA:-}"
timeout 60 ./facepipe run --config /tmp/cams.toml --seconds 16 --metrics-port 9109 ${EXTRA:-} > /tmp/run.log 2>&1 &
sleep 8; ./facepipe list 2>&1 | head -6
python3 - <<'PY'
import urllib.request
t = urllib.request.urlopen("http://127.0.0.1:9109/metrics", timeout=3).read().decode()
keys = ("fps", "worker_up", "heap", "frames_total", "faces_total", "restarts", "dropped")
print("\n".join(l for l in t.splitlines() if not l.startswith("#") and any(k in l for k in keys) and ('c0"' in l or 'c1"' in l or "worker" in l))[:3000])
fps = [float(l.split()[-1]) for l in t.splitlines() if l.startswith("facepipe_camera_fps{")]
print(f"cameras {len(fps)}, summed fps {sum(fps):.1f}")
PY
W=$(pgrep -f "facepipe worker" | head -1); echo "kill -9 worker $W"; kill -9 $W; sleep 3
./facepipe list 2>&1 | head -4
wait; grep -m2 "capture" /tmp/run.log; grep -v "camera 'c[0-9]*': live$" /tmp/run.log | grep -v "connecting$" | tail -8
ls /dev/shm | grep -c facepipe
