#!/usr/bin/env bash
# Runs the whole test suite: builds ./build if needed, runs ctest (GPU tests skip with a reason
# where no GPU exists), then a short fuzzing pass over the model parsers.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${FACEPIPE_BUILD_DIR:-build}
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release ${FACEPIPE_CMAKE_ARGS:-}
fi
cmake --build "$build_dir" --parallel "$(nproc)"
ctest --test-dir "$build_dir" --output-on-failure --parallel "$(nproc)" ${FACEPIPE_CTEST_ARGS:-}
if [ -x scripts/fuzz.sh ] && [ "${FACEPIPE_SKIP_FUZZ:-0}" != 1 ]; then
  scripts/fuzz.sh --seconds "${FACEPIPE_FUZZ_SECONDS:-20}"
fi
