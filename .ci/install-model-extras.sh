#!/usr/bin/env bash
# Install the model families' packages into the active Python environment (documented in docs/adapters.md).
#
#   bash .ci/install-model-extras.sh                  # every family: toto2 toto1 chronos moirai timesfm
#   bash .ci/install-model-extras.sh toto2 chronos    # some of them (also: stats)
#
# Steps, in this order:
#   1. torch==2.13.0 first ($TORCH_SPEC; $TORCH_INDEX_URL picks a wheel index, e.g. a CUDA build). The
#      extras only ask for torch>=2.1, so nothing later re-resolves it.
#   2. the extras' ordinary dependencies: pip install -e "<repo>[family,...]".
#   3. the packages whose declared requirements do not fit this stack, with --no-deps:
#        toto2:  toto-2==2.0.0 dd-unit-scaling==0.1.0, also --ignore-requires-python (they declare
#                Python >=3.12 but run on 3.11; the flag is never given to a resolving install, where it
#                would let pip pick wheels for the wrong Python)
#        toto1:  toto-ts==0.2.0   (pins torch==2.7.0 and ~30 exact versions)
#        moirai: uni2ts==2.0.0    (pins torch<2.5, numpy~=1.26, gluonts~=0.14)
#   4. checks: torch is still the step-1 version, and every family's module imports.
#
# Environment: PYTHON (default: python), TORCH_SPEC (default: torch==2.13.0), TORCH_INDEX_URL (optional),
# PROJECT_SPEC (default: -e <repo root>).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
PIP=("$PYTHON" -m pip install --disable-pip-version-check --no-input)

ALL=(toto2 toto1 chronos moirai timesfm)
VALID=" ${ALL[*]} stats "
if [ "$#" -eq 0 ]; then
  FAMILIES=("${ALL[@]}")
else
  FAMILIES=("$@")
fi
for family in "${FAMILIES[@]}"; do
  if [[ "$VALID" != *" $family "* ]]; then
    echo "install-model-extras: unknown family '$family'; valid: ${ALL[*]} stats" >&2
    exit 2
  fi
done

torch_version() {
  "$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null || true
}

needs_torch=0
for family in "${FAMILIES[@]}"; do
  [ "$family" != stats ] && needs_torch=1
done

echo "== 1. $TORCH_SPEC"
if [ "$needs_torch" -eq 1 ]; then
  wanted="${TORCH_SPEC#torch==}"
  have="$(torch_version)"
  if [ -n "$have" ] && [ "${have%%+*}" = "$wanted" ]; then
    echo "torch $have already installed"
  elif [ -n "${TORCH_INDEX_URL:-}" ]; then
    "${PIP[@]}" "$TORCH_SPEC" --index-url "$TORCH_INDEX_URL"
  else
    "${PIP[@]}" "$TORCH_SPEC"
  fi
fi
torch_before="$(torch_version)"

extras="$(IFS=,; echo "${FAMILIES[*]}")"
echo "== 2. toto-bench[$extras]"
if [ -n "${PROJECT_SPEC:-}" ]; then
  "${PIP[@]}" "${PROJECT_SPEC}[$extras]"
else
  "${PIP[@]}" -e "$ROOT[$extras]"
fi

echo "== 3. packages installed without their declared dependencies"
for family in "${FAMILIES[@]}"; do
  case "$family" in
    toto2) "${PIP[@]}" --no-deps --ignore-requires-python "toto-2==2.0.0" "dd-unit-scaling==0.1.0" ;;
    toto1) "${PIP[@]}" --no-deps "toto-ts==0.2.0" ;;
    moirai) "${PIP[@]}" --no-deps "uni2ts==2.0.0" ;;
    *) ;;
  esac
done

echo "== 4. checks"
torch_after="$(torch_version)"
if [ "$torch_before" != "$torch_after" ]; then
  echo "install-model-extras: torch changed from '$torch_before' to '$torch_after' during the install" >&2
  exit 1
fi
[ -n "$torch_after" ] && echo "torch $torch_after (unchanged)"
modules=()
for family in "${FAMILIES[@]}"; do
  case "$family" in
    toto2) modules+=(toto2) ;;
    toto1) modules+=(toto.model.toto) ;;
    chronos) modules+=(chronos) ;;
    moirai) modules+=(uni2ts.model.moirai uni2ts.model.moirai2) ;;
    timesfm) modules+=(timesfm) ;;
    stats) modules+=(statsforecast) ;;
  esac
done
"$PYTHON" - "${modules[@]}" <<'EOF'
import importlib
import sys
import warnings

warnings.simplefilter("ignore")
for name in sys.argv[1:]:
    importlib.import_module(name)
    print(f"import {name}: ok")
EOF
echo "model extras installed: ${FAMILIES[*]}"
