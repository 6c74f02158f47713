"""``toto-bench leaderboard --partial``: a board over the configs every model has, with counts on stderr.

The oracle for BOOM is the ordinary (complete) board computed from files and a properties file that were
cut down to the same datasets by hand: ``--partial`` must give exactly that table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from toto_bench.cli import main

SHARED_BOOM = Path(__file__).resolve().parents[2] / "shared" / "data" / "boom"
MODELS = ("seasonalnaive", "toto_2.0_4m", "chronos_2")


@pytest.fixture(scope="module")
def published() -> Path:
    if not (SHARED_BOOM / "results").is_dir():
        pytest.skip(f"published BOOM results not found at {SHARED_BOOM} (shared folder beside the repo)")
    return SHARED_BOOM


def _copy(published: Path, root: Path, keep: dict[str, set[str] | None]) -> Path:
    """``root/<model>/all_results.csv`` holding only the ``keep[model]`` configs (``None``: all)."""
    for model, configs in keep.items():
        frame = pd.read_csv(published / "results" / model / "all_results.csv", dtype={"dataset": str})
        if configs is not None:
            frame = frame[frame["dataset"].isin(configs)]
        (root / model).mkdir(parents=True)
        frame.to_csv(root / model / "all_results.csv", index=False)
    return root


def test_partial_boom_board_equals_the_complete_board_of_the_common_datasets(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    props = json.loads((published / "boom_properties.json").read_text())
    names = list(props)
    configs = {
        ds: [
            f"{ds}/{p['frequency']}/{t}"
            for t in (["short", "medium", "long"] if p["term"] == "long" else ["short"])
        ]
        for ds, p in props.items()
    }
    long_ds = next(ds for ds in names[10:] if len(configs[ds]) == 3)
    dropped = {*names[:4], long_ds}
    every = {c for cs in configs.values() for c in cs}
    # chronos_2 lacks four whole datasets and one term of a fifth
    partial_keep = every - {c for ds in names[:4] for c in configs[ds]} - {configs[long_ds][1]}
    partial = _copy(
        published,
        tmp_path / "partial",
        {"seasonalnaive": None, "toto_2.0_4m": None, "chronos_2": partial_keep},
    )
    kept = {ds: p for ds, p in props.items() if ds not in dropped}
    (tmp_path / "kept_properties.json").write_text(json.dumps(kept))
    kept_configs = {c for ds in kept for c in configs[ds]}
    complete = _copy(published, tmp_path / "complete", dict.fromkeys(MODELS, kept_configs))

    base = ["leaderboard", "--suite", "boom", "--format", "csv"]
    capsys.readouterr()
    assert (
        main([*base, "--results-dir", str(partial), "--properties", str(published / "boom_properties.json")])
        == 2
    )
    assert "missing" in capsys.readouterr().err
    args = [*base, "--results-dir", str(partial), "--properties", str(published / "boom_properties.json")]
    assert main([*args, "--partial"]) == 0
    got = capsys.readouterr()
    assert (
        main([*base, "--results-dir", str(complete), "--properties", str(tmp_path / "kept_properties.json")])
        == 0
    )
    assert got.out == capsys.readouterr().out
    n_configs = len(every)
    assert (
        f"--partial: the boom board uses the {len(kept)} of {len(props)} datasets ({len(kept_configs)} of "
        f"{n_configs} configs) complete for all 3 models" in got.err
    )
    assert f"chronos_2 has {len(partial_keep)} (drops {len(partial_keep) - len(kept_configs)})" in got.err


def test_partial_without_a_common_config_or_with_foreign_configs_is_an_error(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    props = json.loads((published / "boom_properties.json").read_text())
    first, second = list(props)[:2]
    a, b = (f"{ds}/{props[ds]['frequency']}/short" for ds in (first, second))
    disjoint = _copy(published, tmp_path / "disjoint", {"seasonalnaive": {a}, "chronos_2": {b}})
    base = [
        "leaderboard",
        "--suite",
        "boom",
        "--partial",
        "--properties",
        str(published / "boom_properties.json"),
    ]
    capsys.readouterr()
    assert main([*base, "--results-dir", str(disjoint)]) == 2
    err = capsys.readouterr().err
    assert "--partial: no boom config is present for every model (chronos_2 has 1 (drops 1);" in err
    foreign = _copy(published, tmp_path / "foreign", {"seasonalnaive": {a}, "chronos_2": {a}})
    csv = foreign / "chronos_2" / "all_results.csv"
    csv.write_text(csv.read_text().replace(a, "ds-not-in-boom/Short/short"))
    assert main([*base, "--results-dir", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert f"{csv}: 1 config(s) not in the boom suite, e.g. ['ds-not-in-boom/Short/short']" in err


def test_partial_is_refused_where_it_means_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "m").mkdir()
    assert main(["leaderboard", "--suite", "lsf", "--results-dir", str(tmp_path), "--partial"]) == 2
    assert "--partial is for the boom, boomlet, gift-eval, time boards, not 'lsf'" in capsys.readouterr().err
