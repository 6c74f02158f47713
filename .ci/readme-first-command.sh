#!/usr/bin/env bash
# Run the README's first command block literally, as a new user would: in a copy of this clone's tracked
# files under a fresh temporary folder (so ../shared does not exist beside it), with a fresh venv and no
# Hugging Face Hub access. Fails if an install step is missing or the demo needs our shared data.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/toto-bench"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$work/toto-bench"
if [ -e "$work/shared" ]; then
    echo "error: $work/shared exists; the check needs a folder without ../shared" >&2
    exit 1
fi
# the first ```bash block of README.md
awk '/^```bash$/ {inside=1; next} inside && /^```$/ {exit} inside {print}' README.md >"$work/first.sh"
if ! grep -q "toto-bench run --suite demo" "$work/first.sh"; then
    echo "error: README's first command block does not run the demo suite:" >&2
    cat "$work/first.sh" >&2
    exit 1
fi
echo "running in $work/toto-bench:"
cat "$work/first.sh"
(
    cd "$work/toto-bench"
    # no venv of the caller, no data roots, the Hub off (pip keeps its configuration)
    path="$(printf %s "$PATH" | tr ':' '\n' | grep -v "^${VIRTUAL_ENV:-/nonexistent}/bin$" | paste -sd:)"
    env -u VIRTUAL_ENV -u PYTHONPATH -u GIFT_EVAL -u BOOM -u TIME_DATASET -u LSF_DATA -u CI PATH="$path" \
        HF_HUB_OFFLINE=1 PIP_NO_INPUT=1 bash -euo pipefail "$work/first.sh" >"$work/out.txt" 2>&1 \
        || { tail -n 40 "$work/out.txt" >&2; echo "error: README's first command failed" >&2; exit 1; }
    test -s results/demo/seasonal-naive/all_results.csv
    test -s site/index.html
)
grep -E '^\| seasonal-naive' "$work/out.txt"
echo "README first command: ok"
