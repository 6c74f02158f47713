"""``--shard I/N``: N job-array tasks cover every dataset exactly once, never clobber each other's journals,
and the last one writes the ``all_results.csv`` of one unsharded run, byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import run_fixtures

from toto_bench.cli import main
from toto_bench.engine.executors import Shard, parse_shard

NAMES = ",".join(run_fixtures.DATASETS)
#: the selection, in the order shards deal it (``--datasets`` order; hourly datasets have 3 terms)
ORDER = ["electricity/H", "us_births/D", "solar/H", "us_births/W", "LOOP_SEATTLE/H", "saugeenday/M"]


def _argv(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "run",
        *("--suite", "gift-eval", "--model", "seasonal-naive", "--data-dir", str(data)),
        *("--datasets", NAMES, "--output-dir", str(out), "--no-progress"),
        *extra,
    ]


def _csv(out: Path) -> Path:
    return out / "gift-eval" / "seasonal-naive" / "all_results.csv"


def _journal_configs(path: Path) -> list[str]:
    return [json.loads(line)["key"]["config"] for line in path.read_text().splitlines()]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return run_fixtures.write_datasets(tmp_path / "data")


@pytest.fixture
def unsharded(tmp_path: Path, data: Path) -> bytes:
    assert main(_argv(data, tmp_path / "whole")) == 0
    return _csv(tmp_path / "whole").read_bytes()


@pytest.mark.parametrize(
    ("shard", "expected"),
    [
        (Shard(1, 1), ["a", "b", "c", "d", "e", "f", "g"]),
        (Shard(1, 3), ["a", "d", "g"]),
        (Shard(2, 3), ["b", "e"]),
        (Shard(3, 3), ["c", "f"]),
        (Shard(5, 5), ["e"]),
        (Shard(8, 8), []),  # more shards than datasets: the extra ones have nothing to do
    ],
)
def test_shards_deal_datasets_round_robin_in_order(shard: Shard, expected: list[str]) -> None:
    assert shard.select(list("abcdefg")) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("0/4", "valid: 1..4"),
        ("5/4", "valid: 1..4"),
        ("-1/4", "valid: 1..4"),
        ("1/0", "positive integer, got 0"),
        ("2", "I/N"),
        ("a/b", "I/N"),
    ],
)
def test_bad_shards_are_refused_with_the_valid_range(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle.replace(".", r"\.")):
        parse_shard(text)


def test_bad_shard_flag_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(_argv(tmp_path, tmp_path / "out", "--shard", "0/3"))
    assert exit_info.value.code == 2
    assert "shard index 0 is out of range for 3 shards; valid: 1..3" in capsys.readouterr().err


def test_shards_one_after_another_give_the_unsharded_bytes(
    tmp_path: Path, data: Path, unsharded: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sharded"
    folder = out / "gift-eval" / "seasonal-naive"
    capsys.readouterr()
    for index in (1, 2):
        assert main(_argv(data, out, "--shard", f"{index}/3")) == 0
        assert not _csv(out).exists()  # shard 3 is missing
        message = capsys.readouterr().out
        assert "configs of the selection are not done yet" in message and "without --shard" in message
    assert main(_argv(data, out, "--shard", "3/3")) == 0
    assert _csv(out).read_bytes() == unsharded
    # each shard journaled exactly its round-robin datasets, and together every config once
    per_shard = [_journal_configs(folder / f"journal.shard-{i}-of-3.jsonl") for i in (1, 2, 3)]
    configs = [line.split(",")[0] for line in unsharded.decode().splitlines()[1:]]  # selection order
    sizes = [3 if name.endswith("/H") else 1 for name in ORDER]
    by_dataset = [configs[sum(sizes[:k]) : sum(sizes[: k + 1])] for k in range(len(ORDER))]
    assert per_shard == [[c for group in by_dataset[i::3] for c in group] for i in range(3)]
    everything = [c for configs in per_shard for c in configs]
    assert len(everything) == len(set(everything)) == run_fixtures.CONFIGS
    assert not (folder / "journal.jsonl").exists()
    record = json.loads((folder / "config.json").read_text())
    assert record["shard"] == "3/3" and record["pending_configs"] == 0

    # the CSV can always be rebuilt from the journals, without recomputing
    _csv(out).unlink()
    capsys.readouterr()
    assert main(_argv(data, out)) == 0
    assert "0 configs computed, 12 reused" in capsys.readouterr().out
    assert _csv(out).read_bytes() == unsharded


def test_an_unsharded_rerun_completes_what_the_shards_left(
    tmp_path: Path, data: Path, unsharded: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sharded"
    assert main(_argv(data, out, "--shard", "2/2")) == 0
    capsys.readouterr()
    assert main(_argv(data, out)) == 0
    done = sum(3 if name.endswith("/H") else 1 for name in ORDER[1::2])
    assert f"{run_fixtures.CONFIGS - done} configs computed, {done} reused" in capsys.readouterr().out
    assert _csv(out).read_bytes() == unsharded


def test_two_shards_running_at_once_give_the_unsharded_bytes(
    tmp_path: Path, data: Path, unsharded: bytes
) -> None:
    out = tmp_path / "sharded"
    cmd = [sys.executable, "-m", "toto_bench.cli"]
    procs = [
        subprocess.Popen(
            [*cmd, *_argv(data, out, "--shard", f"{i}/2")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for i in (1, 2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in results]
    assert _csv(out).read_bytes() == unsharded
    folder = out / "gift-eval" / "seasonal-naive"
    everything = [c for i in (1, 2) for c in _journal_configs(folder / f"journal.shard-{i}-of-2.jsonl")]
    assert len(everything) == len(set(everything)) == run_fixtures.CONFIGS
