#!/usr/bin/env bash
# Soak test of the live runtime: `facepipe run` with 4 file cameras (the bundled sample video) on the
# CPU (or, with --gpu, on the GPU workers) for N minutes. Every 10 s it samples the resident memory (VmRSS, /proc) of the supervisor and
# of each worker process, and at the end prints first / last / max per process, the frames, drops,
# restarts, and the operator new calls of the cameras' capture and pipeline threads after warm-up
# (facepipe_camera_heap_allocations_total: the facepipe binary counts them per thread).
#
#   scripts/soak.sh [--minutes N] [--build DIR] [--cameras K] [--gpu] [--bin PATH] [--shared DIR]
#   (defaults: 10, build, 4, CPU, BUILD/bin/facepipe, ../shared; a scripts/gpu/make_carry.sh
#   folder on a GPU machine: --gpu --bin DIR/bin/facepipe --shared DIR/shared with the models in
#   DIR/models found through FACEPIPE_MODELS)
set -euo pipefail

minutes=10
build=build
cameras=4
placement=cpu
bin=""
shared=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --cameras) cameras="$2"; shift 2 ;;
    --gpu) placement=auto; shift ;;
    --bin) bin="$2"; shift 2 ;;
    --shared) shared="$2"; shift 2 ;;
    *) echo "usage: $0 [--minutes N] [--build DIR] [--cameras K] [--gpu] [--bin PATH] [--shared DIR]" >&2; exit 2 ;;
  esac
done
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${bin:-$root/$build/bin/facepipe}"
shared="${shared:-$root/../shared}"
video="$shared/testdata/video/talking_man_glasses_720x1280.mp4"
models="${FACEPIPE_MODELS:-$shared/models}"
[[ -x "$bin" ]] || { echo "soak: no $bin (build first)" >&2; exit 2; }
[[ -f "$video" ]] || { echo "soak: no sample video at $video" >&2; exit 2; }

work="$(mktemp -d)"
instance="soak-$$"
port=$(( 30000 + $$ % 20000 ))
{
  echo "instance = \"$instance\""
  echo "metrics_port = $port"
  for i in $(seq 0 $((cameras - 1))); do
    printf '[[camera]]\nid = "file%d"\nsource = "%s"\ngpu = "%s"\n' "$i" "$video" "$placement"
  done
} > "$work/soak.toml"

if [[ $placement == cpu ]]; then export FACEPIPE_SIMULATE_GPUS=0; fi
"$bin" run --config "$work/soak.toml" --models "$models" > "$work/run.log" 2>&1 &
sup=$!
cleanup() { kill "$sup" 2>/dev/null || true; wait "$sup" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
metrics() {
  if command -v curl > /dev/null; then curl -s --max-time 2 "http://127.0.0.1:$port/metrics" || true
  else python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/metrics', timeout=2).read().decode())" 2>/dev/null || true
  fi
}
sum_metric() { metrics | awk -v name="$1" 'index($0, name "{") == 1 {s += $NF} END {printf "%.0f\n", s}'; }

# Wait until every camera publishes (models loaded), then give the frame path 20 s to warm up.
for _ in $(seq 1 120); do
  live=$(metrics | grep -c 'facepipe_camera_source_state{.*state="live"} 1' || true)
  [[ "$live" -ge "$cameras" ]] && break
  sleep 0.5
done
sleep 20
alloc0=$(sum_metric facepipe_camera_heap_allocations_total)
frames0=$(sum_metric facepipe_camera_frames_total)
echo "soak: $cameras file cameras ($([[ $placement == cpu ]] && echo "on the CPU" || echo "on the GPU workers")) for $minutes min (instance $instance, metrics :$port)"
echo "soak: after warm-up: $frames0 frames published, $alloc0 operator new calls on the frame path so far"

samples="$work/rss.tsv"   # seconds pid role rss_kb
end=$(( $(date +%s) + minutes * 60 ))
t0=$(date +%s)
while [[ $(date +%s) -lt $end ]]; do
  now=$(( $(date +%s) - t0 ))
  echo -e "$now\t$sup\tsupervisor\t$(rss_kb "$sup")" >> "$samples"
  for w in $(pgrep -P "$sup"); do
    name=$(tr '\0' ' ' < "/proc/$w/cmdline" | awk '{for (i = 1; i < NF; ++i) if ($i == "--name") print $(i + 1)}')
    echo -e "$now\t$w\tworker-$name\t$(rss_kb "$w")" >> "$samples"
  done
  sleep 10
done
alloc1=$(sum_metric facepipe_camera_heap_allocations_total)
frames1=$(sum_metric facepipe_camera_frames_total)
drops=$(sum_metric facepipe_camera_drops_total)
restarts=$(sum_metric facepipe_worker_restarts_total)

echo "soak: resident memory (MiB), sampled every 10 s:"
awk -F'\t' '{ key = $3 " pid " $2
  if (!(key in first)) { first[key] = $4; order[++n] = key }
  last[key] = $4; if ($4 > max[key]) max[key] = $4; count[key]++ }
  END { printf "  %-28s %8s %8s %8s %8s\n", "process", "first", "last", "max", "samples"
        for (i = 1; i <= n; ++i) { k = order[i]
          printf "  %-28s %8.1f %8.1f %8.1f %8d\n", k, first[k] / 1024, last[k] / 1024, max[k] / 1024, count[k] } }' "$samples"
per_frame=$(awk -v a="$((alloc1 - alloc0))" -v f="$((frames1 - frames0))" 'BEGIN { if (f > 0) printf "%.4f", a / f; else print "n/a" }')
echo "soak: frames published during the soak: $((frames1 - frames0)); drops (whole run): $drops; worker restarts: $restarts"
echo "soak: operator new calls on the capture → pipeline path during the soak: $((alloc1 - alloc0)) ($per_frame per frame)"

start_stop=$(date +%s%N)
kill -TERM "$sup"
wait "$sup" && code=0 || code=$?
echo "soak: SIGTERM -> exit code $code in $(( ($(date +%s%N) - start_stop) / 1000000 )) ms; segments left: $(ls /dev/shm | grep -c "^facepipe\.$instance\." || true)"
trap - EXIT
rm -rf "$work"
