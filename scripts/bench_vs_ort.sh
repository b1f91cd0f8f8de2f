#!/usr/bin/env bash
# Side-by-side CPU speed of facepipe's engine and ONNX Runtime (onnxruntime-node, installed from npm
# with --ignore-scripts into the user cache) on the same model, shape and thread count. The two
# alternate for a few rounds so that machine load affects both alike.
#   scripts/bench_vs_ort.sh [MODEL.onnx] [NxCxHxW] [THREADS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-../shared/models/retinaface_mnet025.onnx}
shape=${2:-1x3x640x640}
threads=${3:-2}
rounds=${4:-3}
ort_dir=${XDG_CACHE_HOME:-$HOME/.cache}/facepipe/onnxruntime-node
if [ ! -d "$ort_dir/node_modules/onnxruntime-node" ]; then
  mkdir -p "$ort_dir"
  (cd "$ort_dir" && npm init -y >/dev/null && npm install --silent onnxruntime-node@1.30.0 --ignore-scripts)
fi
IFS=x read -r n c h w <<<"$shape"
input=$(build/bin/facepipe model inspect "$model" | awk '/^inputs:/{getline; print $2; exit}')
for r in $(seq "$rounds"); do
  echo "round $r"
  printf '  facepipe     '; build/bin/facepipe bench model "$model" --shape "$input=$shape" --threads "$threads" --iterations 30 --json
  printf '  onnxruntime  '; NODE_PATH="$ort_dir/node_modules" node bench/compare/ort_bench.js "$model" "$n" "$c" "$h" "$w" "$threads" 30
done
