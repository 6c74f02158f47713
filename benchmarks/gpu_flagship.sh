#!/usr/bin/env bash
# The flagship call measured on one GPU (or on CPU, to keep it from rotting): see docs/gpu.md.
#
#   benchmarks/gpu_flagship.sh OUTDIR [--device cuda|cpu] [--shapes full|small] [gpu_flagship.py options]
#
# 1. CUDA mode: refuses at once, with one line, when no NVIDIA driver is visible (nvidia-smi).
# 2. Installs what is missing into the active Python (skipped when torch, toto2 and gluonts import, or with
#    SKIP_INSTALL=1): torch pinned by TORCH_SPEC (default torch==2.13.0) from TORCH_INDEX_URL (CUDA mode
#    default https://download.pytorch.org/whl/cu128), then the toto2, toto1 and chronos extras, through
#    .ci/install-model-extras.sh.
# 3. Runs benchmarks/gpu_flagship.py under `timeout` so that the whole job fits BUDGET_S seconds
#    (default 480: 8 minutes including the installs), writing everything under OUTDIR and a copy of what
#    it prints to OUTDIR/flagship.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python}"
BUDGET_S="${BUDGET_S:-480}"
START="$(date +%s)"

if [ "$#" -lt 1 ] || [[ "$1" == -* ]]; then
  echo "usage: benchmarks/gpu_flagship.sh OUTDIR [--device cuda|cpu] [--shapes full|small] [...]" >&2
  exit 2
fi
OUT="$1"
shift
DEVICE=cuda
prev=""
for arg in "$@"; do
  [ "$prev" = "--device" ] && DEVICE="$arg"
  case "$arg" in --device=*) DEVICE="${arg#--device=}" ;; esac
  prev="$arg"
done
if [ "$DEVICE" != cuda ] && [ "$DEVICE" != cpu ]; then
  echo "gpu_flagship: --device must be cuda or cpu, got '$DEVICE'" >&2
  exit 2
fi

if [ "$DEVICE" = cuda ] && ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_flagship: error: --device cuda but no CUDA device is visible (nvidia-smi -L failed); use --device cpu" >&2
  exit 3
fi

if [ "${SKIP_INSTALL:-0}" != 1 ] && ! "$PYTHON" -c 'import torch, toto2, gluonts' >/dev/null 2>&1; then
  if [ "$DEVICE" = cuda ]; then
    export TORCH_INDEX_URL="${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cu128}"
  fi
  echo "== installing: ${TORCH_SPEC:-torch==2.13.0} ${TORCH_INDEX_URL:+from $TORCH_INDEX_URL}"
  "$PYTHON" -m pip install --disable-pip-version-check --no-input -q -e "$ROOT[test]"
  PYTHON="$PYTHON" bash "$ROOT/.ci/install-model-extras.sh" toto2 toto1 chronos
fi

mkdir -p "$OUT"
LEFT=$(( BUDGET_S - ($(date +%s) - START) ))
if [ "$LEFT" -lt 30 ]; then
  echo "gpu_flagship: error: the installs used the budget (${BUDGET_S} s); rerun with the packages installed" >&2
  exit 4
fi
set +e
timeout "$LEFT" "$PYTHON" "$ROOT/benchmarks/gpu_flagship.py" "$OUT" "$@" 2>&1 | tee "$OUT/flagship.log"
code="${PIPESTATUS[0]}"
set -e
if [ "$code" = 124 ]; then
  echo "gpu_flagship: error: over the ${BUDGET_S} s budget (killed after ${LEFT} s); see $OUT/flagship.log" >&2
fi
exit "$code"
