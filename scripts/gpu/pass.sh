#!/usr/bin/env bash
# One measurement pass on a GPU machine, from a folder made by make_carry.sh (run it from anywhere:
# `bash DIR/pass.sh`): every GPU test, the model table, the pipeline table (1 and 64 cameras, BGR
# and NV12/YUYV frames, BlazeFace and RetinaFace, image and tracking mode, programmatic launch on
# and off), then the runtime check. Logs go to $OUT (default /tmp/facepipe-gpu-pass).
# docs/benchmarks.md and docs/engine_cuda.md quote its output.
set -uo pipefail
cd "$(dirname "$0")"
export LD_LIBRARY_PATH=$PWD/lib:${LD_LIBRARY_PATH:-} FACEPIPE_MODELS=$PWD/models FACEPIPE_SHARED=$PWD/shared
OUT=${OUT:-/tmp/facepipe-gpu-pass}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
timeout 300 ./bin/gpu_tests > "$OUT/gpu_tests.log" 2>&1; echo "gpu_tests rc=$?"
grep -E "^\[  (PASSED|FAILED)|tests ran" "$OUT/gpu_tests.log"

B="./bin/facepipe bench model --device cuda --iterations 200 --warmup 20"
M=models/face_landmarker.task; R=models/retinaface_mnet025_dyn.onnx
for P in "" --fp16; do
  $B $R --shape 0=1x3x640x640 $P; $B $R --shape 0=32x3x360x640 $P; $B $M:face_detector.tflite $P
  for N in 1 8 64; do $B $M:face_landmarks_detector.tflite --shape 0=${N}x256x256x3 $P; done
  $B $M:face_blendshapes.tflite $P
done 2>&1 | sed 's/  (200 iterations, 20 warm-up)//'

# `facepipe model run --device cuda` on a reference input, compared with ONNX Runtime's outputs.
X=shared/reference/retinaface_raw/crowd_1x3x312x512
./bin/facepipe model run $R --device cuda --input 0=$X.f32:1x3x312x512 --output-dir "$OUT/model_run" &&
  python3 - "$OUT/model_run" "$X" <<'PY'
import sys, array, glob
out, ref = sys.argv[1], sys.argv[2]
for i, f in enumerate(sorted(glob.glob(ref + ".output*"))):
    a, b = array.array("f"), array.array("f")
    a.frombytes(open(f"{out}/{i}.f32", "rb").read()); b.frombytes(open(f, "rb").read())
    err = max(abs(x - y) for x, y in zip(a, b)); top = max(abs(y) for y in b)
    print(f"model run --device cuda output {i}: {len(a)} values, max |gpu - onnxruntime| / max |onnxruntime| = {err / top:.2e}")
PY

IMG=shared/testdata/images/single_frontal_large.jpg; VID=shared/testdata/video/talking_man_glasses_720x1280.mp4
BP="./bin/facepipe bench pipeline --device cuda --seconds 4 --resolution 1920x1080"
run() { echo "-- $*"; $BP "$@" 2>&1 | tail -3; }
for F in bgr nv12; do
  run --input $IMG --cameras 1 --pixel-format $F
  run --input $IMG --cameras 64 --streams 2 --pixel-format $F
  run --input $VID --cameras 64 --streams 2 --pixel-format $F
done
run --input $VID --cameras 1
run --input $IMG --cameras 1 --fp32
FACEPIPE_CUDA_PDL=0 run --input $IMG --cameras 1
run --input $IMG --cameras 1 --detector retinaface
run --input $IMG --cameras 64 --streams 2 --pixel-format yuyv
run --input $IMG --cameras 64 --streams 4 --detector retinaface
# The live runtime: N file cameras on one GPU worker, capturing NV12 (default) and BGR, then NV12
# with a CUDA pipeline per camera instead of the batcher.
N=${CAMERAS:-16} ./runtime_check.sh 2>&1 | tail -24
N=${CAMERAS:-16} EXTRA="--set gpu.capture_format=bgr" ./runtime_check.sh 2>&1 | grep -E "^==|summed|capture|ready in|stopped"
N=${CAMERAS:-16} EXTRA="--set gpu.batch_cameras=false" ./runtime_check.sh 2>&1 | grep -E "^==|summed|capture|ready in|stopped|c0\"|^[0-9]+$"
