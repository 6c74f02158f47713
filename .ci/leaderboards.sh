#!/usr/bin/env bash
# Regenerate the committed leaderboards from the published results (../shared/data/boom/results,
# ../shared/data/gift-eval/results) plus our own runs under results/<suite>/.  `--check` fails when a committed table is stale.
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
  if [ "$mode" = "--check" ]; then
    echo "leaderboards: SKIPPED the staleness check (no published results to regenerate from)" >&2
    exit 0
  fi
  exit 1
fi
dirs=(--results-dir "$published/results")
# our own BOOM runs join the board once there are any
if compgen -G "results/boom/*/all_results.csv" >/dev/null; then
  dirs+=(--results-dir results/boom)
fi
for suite in boom boomlet; do
  toto-bench leaderboard --suite "$suite" "${dirs[@]}" \
    --properties "$published/${suite}_properties.json" \
    --format md "${flag[@]}" "leaderboards/$suite.md"
done

# GIFT-Eval: the 121 published folders (../shared/data/gift-eval/results, read in place) plus our own runs
gift=../shared/data/gift-eval
if [ ! -d "$gift/results" ]; then
  echo "leaderboards: $gift/results not found (the shared data folder sits beside the repo)" >&2
  exit 1
fi
gift_dirs=(--results-dir "$gift/results")
if compgen -G "results/gift-eval/*/all_results.csv" >/dev/null; then
  gift_dirs+=(--results-dir results/gift-eval)
fi
toto-bench leaderboard --suite gift-eval "${gift_dirs[@]}" --format md "${flag[@]}" leaderboards/gift-eval.md
toto-bench leaderboard --suite gift-eval "${gift_dirs[@]}" --format csv "${flag[@]}" leaderboards/gift_eval_leaderboard.csv
for group in domain term frequency type; do
  toto-bench leaderboard --suite gift-eval "${gift_dirs[@]}" --breakdown "$group" --format csv \
    "${flag[@]}" "leaderboards/gift-eval/gift_eval_$group.csv"
done
