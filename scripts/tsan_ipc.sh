#!/usr/bin/env bash
# Builds the IPC seqlock stress test with ThreadSanitizer into build-tsan/ and runs it: one writer at
# full speed, four followers and one latest-frame reader on the writer's own mapping (docs/ipc.md).
#   scripts/tsan_ipc.sh            10 s (the issue's acceptance run)
#   scripts/tsan_ipc.sh 30         30 s
# Extra CMake arguments: FACEPIPE_CMAKE_ARGS. Parallel jobs: FACEPIPE_JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
build_dir=${FACEPIPE_TSAN_BUILD_DIR:-build-tsan}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFACEPIPE_SANITIZE=thread \
  -DFACEPIPE_CUDA=OFF -DFACEPIPE_BUILD_BENCH=OFF ${FACEPIPE_CMAKE_ARGS:-} >/dev/null
ninja -C "$build_dir" -j "${FACEPIPE_JOBS:-2}" ipc_stress_tests
# halt_on_error: the first report fails the run; TSAN's exit code is non-zero on any report.
FACEPIPE_IPC_STRESS_SECONDS=$seconds FACEPIPE_IPC_STRESS_PREVIEW=${FACEPIPE_IPC_STRESS_PREVIEW:-40x24} TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
  "$build_dir/bin/ipc_stress_tests"
echo "tsan_ipc: ${seconds} s stress under ThreadSanitizer passed"
