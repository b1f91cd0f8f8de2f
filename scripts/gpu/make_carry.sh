#!/usr/bin/env bash
# Assembles a self-contained folder for a GPU machine that has the CUDA driver but none of our
# packages (the device tool's H200: no FFmpeg, no network): the binaries of a build made with
# `-DFACEPIPE_VIEWER=OFF -DFACEPIPE_V4L2=OFF` against the static FFmpeg
# (scripts/build_static_ffmpeg.sh), the shared libraries they need beyond libc/libstdc++/zlib,
# the models and the reference data the GPU tests read.
#   scripts/gpu/make_carry.sh BUILD_DIR OUT_DIR      (OUT_DIR is created or refreshed)
# Then on the GPU machine: scripts/gpu/pass.sh OUT_DIR (tests + measurements).
set -euo pipefail
build=${1:?usage: make_carry.sh BUILD_DIR OUT_DIR}
out=${2:?usage: make_carry.sh BUILD_DIR OUT_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${FACEPIPE_SHARED:-$root/../shared}
for f in "$build/bin/facepipe" "$build/bin/gpu_tests" "$shared/models/face_landmarker.task"; do
  [ -e "$f" ] || { echo "make_carry.sh: missing $f" >&2; exit 1; }
done
mkdir -p "$out/bin" "$out/lib" "$out/models" "$out/shared/testdata"
cp "$build/bin/facepipe" "$build/bin/gpu_tests" "$out/bin/"
strip "$out/bin/facepipe" "$out/bin/gpu_tests"
cudart=$(ldd "$build/bin/facepipe" | awk '/libcudart/ {print $3}')
toml=$(ldd "$build/bin/facepipe" | awk '/libtomlplusplus/ {print $3}')
[ -n "$cudart" ] && cp -L "$cudart" "$out/lib/"
[ -n "$toml" ] && cp -L "$toml" "$out/lib/"
# Every model but the fixed-size RetinaFace export (the GPU tests use the dynamic one): the device
# tool carries at most 64 MiB.
for m in "$shared"/models/*; do
  [ "$(basename "$m")" = retinaface_mnet025.onnx ] || cp -L "$m" "$out/models/"
done
rm -rf "$out/shared/reference" && cp -rL "$shared/reference" "$out/shared/reference"
mkdir -p "$out/shared/testdata/images" "$out/shared/testdata/video"
cp -L "$shared"/testdata/MANIFEST.md "$out/shared/testdata/" 2>/dev/null || true
cp -L "$shared"/testdata/images/*.jpg "$shared"/testdata/images/*.png "$out/shared/testdata/images/" 2>/dev/null || true
cp -L "$shared"/testdata/video/*.mp4 "$out/shared/testdata/video/"
cp "$root"/scripts/gpu/pass.sh "$root"/scripts/gpu/runtime_check.sh "$root"/scripts/soak.sh "$out/"
du -sh "$out"
