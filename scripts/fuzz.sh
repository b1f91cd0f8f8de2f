#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) into build-fuzz/ and runs each for N seconds.
# Exits non-zero on any crash, leak, timeout or out-of-memory; reproducers land in
# build-fuzz/artifacts/. Usage: scripts/fuzz.sh [--seconds N] [zip|tflite|onnx ...]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    zip|tflite|onnx) targets+=("$1"); shift ;;
    *) echo "usage: $0 [--seconds N] [zip|tflite|onnx ...]" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(zip tflite onnx)

if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (libFuzzer needs clang); skipping" >&2
  exit 0
fi

build=build-fuzz
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DFACEPIPE_FUZZ=ON -DFACEPIPE_SANITIZE=address,undefined -DFACEPIPE_BUILD_TESTS=OFF \
    -DFACEPIPE_BUILD_BENCH=OFF -DFACEPIPE_CUDA=OFF >/dev/null
fi
ninja -C "$build" -j "${FACEPIPE_FUZZ_JOBS:-2}" "${targets[@]/%/_fuzzer}"

mkdir -p "$build/artifacts"
status=0
for t in "${targets[@]}"; do
  case "$t" in
    zip) max_len=32768 ;;
    *) max_len=16384 ;;
  esac
  # The first corpus folder is the writable working corpus; the committed seeds are read-only.
  mkdir -p "$build/corpus/$t"
  echo "== $t: ${seconds}s"
  if ! "$build/bin/${t}_fuzzer" "$build/corpus/$t" "fuzz/corpus/$t" -max_total_time="$seconds" \
      -max_len="$max_len" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$t-" 2>"$build/$t.log"; then
    echo "fuzz.sh: $t fuzzer failed; see $build/$t.log and $build/artifacts/" >&2
    tail -n 40 "$build/$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/$t.log" || true
  fi
done
exit $status
