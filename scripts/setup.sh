#!/usr/bin/env bash
# Installs every Debian package facepipe needs (as root on Debian 12, or with sudo) and builds it
# into ./build. Safe to run again: it only installs what is missing and rebuilds what changed.
#   scripts/setup.sh             install + build
#   scripts/setup.sh --no-build  install only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  clang libclang-rt-14-dev               # libFuzzer + sanitizer runtimes for the fuzz targets
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev                              # deflate members of .task bundles
  nlohmann-json3-dev libcli11-dev libtomlplusplus-dev
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavdevice-dev ffmpeg   # images, video in and out, V4L2
  libsdl2-dev xvfb x11-apps               # viewer and its headless test
  python3 python3-numpy                   # Python shared-memory reader
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ "${1:-}" = "--no-build" ] && exit 0

build_dir=${FACEPIPE_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release ${FACEPIPE_CMAKE_ARGS:-}
cmake --build "$build_dir" --parallel "$(nproc)"
echo "setup: built $build_dir/bin/facepipe"
