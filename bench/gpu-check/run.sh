#!/usr/bin/env bash
# The GPU check, in one go, for a Linux x64 machine with an NVIDIA GPU but no Node and no network.
# Carry: this repository's working tree and bench/gpu-check/bundle/ made by pack.sh (Node 20 binary,
# gpu.js, webgpu's linux-x64 dawn.node, tsx/esbuild, fp-ts, io-ts, wabt). The machine needs the
# Vulkan loader (Debian/Ubuntu: libvulkan1) and the NVIDIA driver's Vulkan ICD JSON; both are
# looked for in the usual places and reported. Then it runs
#   1. `hrm verify --backend gpu-webgpu`: every kernel against the float64 reference (fast-check),
#   2. `hrm trace … --compare` on both official-parity fixtures (the whole model on the GPU),
#   3. the training-step benchmark on tiny/small/medium/paper with per-step device counts, TFLOP/s
#      and the fraction of the float32 peak (`hrm bench --backend gpu --gpu-modes webgpu`),
#   4. the dense products [2592×512]·[512×1536] and smaller, tiled WGSL against gpu.js (bench/gpu-linear.ts),
#      then the per-kernel benchmark at paper width,
#   5. the device work of one step by kernel (bench/gpu-step-counts.ts --by-kernel) and SignSGD on a
#      puzzle table of ARC's size (bench/gpu-sign-sgd.ts),
# and prints a short table last. Logs go to bench/gpu-check/out/ (or $OUT when set). The curated
# record is one file per machine kind, bench/gpu-check/results/<gpu name>.md (e.g. nvidia-h200.md):
# its hand-written part (analysis, history) stays; everything below its marker line is replaced by
# this run's summary, tables and verdicts. Stage limits keep the whole check under 8 minutes.
#   bash bench/gpu-check/run.sh [--configs tiny,small,medium,paper] [--reps N]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
configs="tiny,small,medium,paper"; reps=3
while [ $# -gt 0 ]; do
  case "$1" in
    --configs) configs="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    *) echo "run.sh: unknown flag $1 (expected --configs LIST or --reps N)" >&2; exit 2 ;;
  esac
done
out="${OUT:-$here/out}"; mkdir -p "$out"
log() { echo "[gpu-check] $*" | tee -a "$out/summary.txt"; }
: > "$out/summary.txt"

# ---- Node and packages ----------------------------------------------------------------------
work="${TMPDIR:-/tmp}/hrm-gpu-check"; mkdir -p "$work"
node="$(command -v node || true)"
if [ -z "$node" ] || ! "$node" --version | grep -q '^v2[0-2]\.'; then
  [ -f "$here/bundle/node.xz" ] || { log "no Node 20 here and no bundle/node.xz (run pack.sh where npm ci ran)"; exit 1; }
  xz -dc "$here/bundle/node.xz" > "$work/node" && chmod +x "$work/node"; node="$work/node"
fi
log "node: $node $("$node" --version)"
if [ ! -e "$root/node_modules/gpu.js" ] || [ ! -e "$root/node_modules/tsx" ]; then
  [ -f "$here/bundle/node_modules.tar.xz" ] || { log "no node_modules and no bundle/node_modules.tar.xz"; exit 1; }
  (cd "$root" && xz -dc "$here/bundle/node_modules.tar.xz" | tar -xf -)
fi

# ---- Vulkan loader and the NVIDIA ICD --------------------------------------------------------
loader=""
for f in /usr/lib/x86_64-linux-gnu/libvulkan.so.1 /usr/lib64/libvulkan.so.1 /usr/lib/libvulkan.so.1 /usr/local/lib/libvulkan.so.1; do
  [ -e "$f" ] && { loader="$f"; break; }
done
[ -z "$loader" ] && loader="$(ldconfig -p 2>/dev/null | awk '/libvulkan\.so\.1/ {print $NF; exit}')"
log "vulkan loader: ${loader:-NOT FOUND (install libvulkan1)}"
icd=""
for f in ${VK_ICD_FILENAMES:-} ${VK_DRIVER_FILES:-} /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
         /usr/local/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json /etc/vulkan/icd.d/nvidia_icd.x86_64.json; do
  [ -f "$f" ] && { icd="$f"; break; }
done
if [ -z "$icd" ]; then
  glvnd="$(ls /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /usr/lib64/libGLX_nvidia.so.0 2>/dev/null | head -n 1)"
  if [ -n "$glvnd" ]; then
    # the driver is there but its ICD JSON is not: write one pointing at the driver library
    icd="$work/nvidia_icd.json"
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3"}}\n' "$glvnd" > "$icd"
    log "nvidia ICD JSON not found; wrote $icd for $glvnd"
  fi
fi
log "vulkan ICD: ${icd:-NOT FOUND (nvidia_icd.json of the NVIDIA driver)}"
[ -n "$icd" ] && export VK_ICD_FILENAMES="$icd"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/[gpu-check] gpu: /' | tee -a "$out/summary.txt"
export HRM_GPU_NAME="${HRM_GPU_NAME:-$(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1)}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$work/xdg}"; mkdir -p "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"

cd "$root"
# Each stage has its own time limit (seconds; env overrides) so the whole check fits in 8 minutes.
t_verify="${VERIFY_S:-100}"; t_trace="${TRACE_S:-60}"; t_steps="${STEPS_S:-120}"; t_linear="${LINEAR_S:-45}"; t_kernels="${KERNELS_S:-70}"; runs="${RUNS:-25}"
t_counts="${COUNTS_S:-20}"; t_sgd="${SGD_S:-25}"
# ---- 1. conformance on webgpu: every kernel vs the float64 reference (the property suite's cases)
log "conformance: hrm verify --backend gpu-webgpu --runs $runs"
timeout "$t_verify" "$node" bin/hrm.mjs verify --backend gpu-webgpu --runs "$runs" --model-runs "${MODEL_RUNS:-5}" --seed 1 2>&1 | grep -v '^Warning: max' | tee "$out/verify.txt"
conf=${PIPESTATUS[0]}
# ---- 2. official-parity fixtures through the whole model on webgpu
trace=0
for case in arc-learned sudoku-rope; do
  log "parity: hrm trace fixtures/official-parity/$case --backend gpu --gpu-mode webgpu --compare"
  timeout "$t_trace" "$node" bin/hrm.mjs trace "fixtures/official-parity/$case" --out "$work/trace-$case" --backend gpu --gpu-mode webgpu --compare 2>&1 \
    | grep -v '^Warning: max' | tee "$out/trace-$case.txt" | tail -n 5
  rc=${PIPESTATUS[0]}; [ "$rc" = 0 ] || trace=$rc
  log "parity $case: exit $rc"
done
# ---- 3. training steps
log "training steps: gpu webgpu on $configs ($reps reps)"
timeout "$t_steps" "$node" bin/hrm.mjs bench --backend gpu --gpu-modes webgpu --configs "$configs" --reps "$reps" \
  --no-kernels --no-memory --results "$out/steps.md" --json "$out/steps.json" 2>&1 | grep -v '^Warning: max' | tee "$out/steps.txt"
steps=${PIPESTATUS[0]}
# ---- 4. dense products side by side, then the kernels at paper width
log "dense products: tiled WGSL (vec4 loads) vs scalar loads vs gpu.js"
timeout "$t_linear" "$node" --import tsx bench/gpu-linear.ts --reps 5 --json "$out/linear.json" 2>&1 | grep -v '^Warning: max' | tee "$out/linear.txt"
linear=${PIPESTATUS[0]}
log "kernels at paper width"
timeout "$t_kernels" "$node" bin/hrm.mjs bench --backend gpu --gpu-modes webgpu --configs paper --reps "$reps" --budget-min 1 \
  --no-steps --no-memory --results "$out/kernels.md" --json "$out/kernels.json" 2>&1 | grep -v '^Warning: max' | tee "$out/kernels.txt"
kernels=${PIPESTATUS[0]}
# ---- 5. where a step's dispatches go; SignSGD at ARC's table size
log "dispatches by kernel, paper's structure"
timeout "$t_counts" "$node" --import tsx bench/gpu-step-counts.ts --sizes paper-shape,tiny-shape --steps 2 --by-kernel --json "$out/counts.json" 2>&1 | grep -v '^Warning: max' | tee "$out/counts.txt"
counts=${PIPESTATUS[0]}
log "SignSGD on the puzzle table: one WGSL pass over the batch's rows vs the gpu.js pass"
timeout "$t_sgd" "$node" --import tsx bench/gpu-sign-sgd.ts --cases 8000x512x384,100000x512x768 --reps 3 --json "$out/sign-sgd.json" 2>&1 | grep -v '^Warning: max' | tee "$out/sign-sgd.txt"
sgd=${PIPESTATUS[0]}

# ---- the curated results file of this machine kind: this run replaces what is below the marker ------
kind="$(printf '%s' "${HRM_GPU_NAME:-unknown gpu}" | tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9]+/-/g; s/^-+|-+$//g')"
curated="$here/results/${kind:-unknown-gpu}.md"
marker='<!-- run.sh: the latest run below, replaced by each run of bench/gpu-check/run.sh -->'
mkdir -p "$here/results"
{
  if [ -f "$curated" ] && grep -qxF "$marker" "$curated"; then awk -v m="$marker" '{ print } $0 == m { exit }' "$curated"
  elif [ -f "$curated" ]; then cat "$curated"; echo; echo "$marker"
  else echo "# GPU check results: ${HRM_GPU_NAME:-unknown GPU}"; echo; echo "$marker"
  fi
  echo
  echo "## Latest run: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "Exits: verify $conf, parity $trace, steps $steps, products $linear, kernels $kernels, counts $counts, sign-sgd $sgd (0 = pass; 124 = stage time limit)."
  echo
  echo '```'
  grep '^\[gpu-check\] \(node\|vulkan\|gpu\|parity .*exit\)' "$out/summary.txt"
  grep -E '^(all|[0-9]+ of|FAIL|.*failed)' "$out/verify.txt" | tail -n 3
  for case in arc-learned sudoku-rope; do echo "$case: $(grep -E 'checks pass|fail' "$out/trace-$case.txt" | tail -n 1)"; done
  echo '```'
  echo
  [ -f "$out/steps.md" ] && sed -n '/^### Training step/,/^### Where/p' "$out/steps.md" | sed '$d'
  echo
  grep -E '^(Dense|\|)' "$out/linear.txt"
  echo
  [ -f "$out/kernels.md" ] && sed -n '/^### Kernels/,/^### /p' "$out/kernels.md" | sed '$d'
  echo
  echo '### Dispatches per step by kernel, and SignSGD on the puzzle table'
  echo
  echo '```'
  cat "$out/counts.txt" 2>/dev/null
  echo '```'
  echo
  grep -E '^\|' "$out/sign-sgd.txt" 2>/dev/null
} > "$out/curated.md" 2>/dev/null
cp "$out/curated.md" "$curated"
log "curated results: $curated (below its marker; the hand-written part above it and bench/RESULTS.md's analysis are to be updated with these figures)"

# ---- summary, last -----------------------------------------------------------------------------
echo
echo "==== GPU check summary ===="
grep '^\[gpu-check\] \(node\|vulkan\|gpu\|parity .*exit\)' "$out/summary.txt"
grep -i -m2 -E 'webgpu on|adapter' "$out/verify.txt" || true
grep -E '^(all|[0-9]+ of|FAIL|.*failed)' "$out/verify.txt" | tail -n 3 || echo "verify: no verdict (exit $conf)"
grep -E 'train .* TFLOP/s|per step' "$out/steps.txt" | head -n 12 || echo "steps: no lines (exit $steps)"
grep -E '^\|' "$out/linear.txt" || echo "products: no table (exit $linear)"
echo "verify exit $conf, parity exit $trace, steps exit $steps, products exit $linear, kernels exit $kernels, counts exit $counts, sign-sgd exit $sgd; full logs in $out, curated results in $curated"
[ "$conf" = 0 ] && [ "$trace" = 0 ] && [ "$steps" = 0 ] && [ "$linear" = 0 ]
