#!/usr/bin/env bash
# Regenerate the committed leaderboards from the published results (../shared/data/boom/results)
# plus our own runs under results/<suite>/.  `--check` fails when a committed table is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:---write}"
case "$mode" in
  --write) flag=(--output) ;;
  --check) flag=(--check) ;;
  *) echo "usage: $0 [--write|--check]" >&2; exit 2 ;;
esac
published=../shared/data/boom
if [ ! -d "$published/results" ]; then
  echo "leaderboards: $published/results not found (the shared data folder sits beside the repo)" >&2
  exit 1
fi
for suite in boom boomlet; do
  toto-bench leaderboard --suite "$suite" \
    --results-dir "$published/results" --results-dir results/boom \
    --properties "$published/${suite}_properties.json" \
    --format md "${flag[@]}" "leaderboards/$suite.md"
done
