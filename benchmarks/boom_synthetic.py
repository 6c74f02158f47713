"""A synthetic BOOM suite with BOOM's real shapes, in BOOM's on-disk layout.

The real ``Datadog/BOOM`` data cannot be downloaded here, but every shape that drives the cost of an
evaluation is published:

- the 2807 dataset names (``ds-<id>-<freq>``) and their terms: ``boom_properties.json``;
- per config, the number of test windows W and the true ``target_dim``:
  ``derived/windows_and_target_dim_per_config.csv`` (boom_protocol.md §1, §3).

Each synthetic dataset is one item ``[target_dim, L]`` (float32, NaN for gaps) whose length ``L`` is drawn
from the range that makes the GIFT-Eval window rule ``W = min(max(1, ceil(0.1·L/H)), 20)`` give the
published W of **every** term of the dataset (``H`` = 60/600/900 for 10S and 48/480/720 for T/5T/30T/H,
30 for D), and that leaves at least one season plus one step of context before the first window. The
draws add up to about 345 M points (the real suite has about 350 M).

Signals are observability-like: a daily/weekly periodic pattern plus noise, trend and spikes, shaped by the
dataset ``type`` (gauge, rate ≥ 0, integer counts with zeros, heavy-tailed distributions), with flat
stretches, some fully flat variates, NaN gaps and leading NaNs.

Layout: ``<root>/<name>/{data-00000-of-00001.arrow, dataset_info.json, state.json}``, i.e. what
``datasets.Dataset.save_to_disk`` writes (fields ``item_id``, ``start``, ``freq``, ``target``), written
directly with pyarrow for speed. ``<root>/_synthetic.json`` records the seed and a summary; a later call
with the same seed and sources is a no-op (the cache).

Run: ``python benchmarks/boom_synthetic.py [--root /tmp/toto-bench-boom-synth] [--seed 0] [--force]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

SHARED_BOOM = Path(__file__).resolve().parents[2] / "shared" / "data" / "boom"
DEFAULT_ROOT = Path("/tmp/toto-bench-boom-synth")
DEFAULT_PROPERTIES = SHARED_BOOM / "boom_properties.json"
DEFAULT_WINDOWS_CSV = SHARED_BOOM / "derived" / "windows_and_target_dim_per_config.csv"
MARKER = "_synthetic.json"
#: Bump when the generated data changes for the same seed (invalidates caches).
GENERATOR_VERSION = 1

#: BOOM frequency suffix → (base horizon, gluonts seasonality, period of the synthetic pattern).
FREQS: dict[str, tuple[int, int, int]] = {
    "10S": (60, 360, 360),
    "T": (48, 1440, 1440),
    "5T": (48, 288, 288),
    "30T": (48, 48, 48),
    "H": (48, 24, 24),
    "D": (30, 1, 7),
}
TERM_MULTIPLIER = {"short": 1, "medium": 10, "long": 15}

_FEATURES = {
    "item_id": {"dtype": "string", "_type": "Value"},
    "start": {"dtype": "timestamp[s]", "_type": "Value"},
    "freq": {"dtype": "string", "_type": "Value"},
}
_FLOAT = {"dtype": "float32", "_type": "Value"}


@dataclass(frozen=True)
class DatasetPlan:
    """The shape of one synthetic dataset.

    Attributes:
        name: ``ds-<id>-<freq>``.
        freq: the stored pandas alias (the name's suffix).
        type: BOOM ``type`` (gauge, rate, count, distribution), which shapes the signal.
        target_dim: variates of the single item (1: a 1-D target).
        windows: published W per term.
        min_length / max_length: the inclusive range of lengths that reproduces ``windows``.
        length: the drawn length.
    """

    name: str
    freq: str
    type: str
    target_dim: int
    windows: dict[str, int]
    min_length: int
    max_length: int
    length: int

    @property
    def points(self) -> int:
        """Stored values (``target_dim × length``)."""
        return self.target_dim * self.length


def window_count(length: int, horizon: int) -> int:
    """gift-eval ``Dataset.windows`` for a non-M4 dataset (same float expression as upstream)."""
    return min(max(1, math.ceil(0.1 * length / horizon)), 20)


def length_range(freq: str, windows: dict[str, int]) -> tuple[int, int]:
    """Inclusive ``[lo, hi]`` of lengths giving ``windows[term]`` for every term, with at least
    ``season + 1`` context steps before the first window (seasonal naive needs ``n >= season``).

    Raises:
        ValueError: when no length satisfies every term.
    """
    base, season, _ = FREQS[freq]
    lo, hi = 1, 10**9
    for term, w in windows.items():
        horizon = base * TERM_MULTIPLIER[term]
        if w >= 20:
            lo = max(lo, 190 * horizon + 1)
        else:
            lo = max(lo, 10 * (w - 1) * horizon + 1)
            hi = min(hi, 10 * w * horizon)
        lo = max(lo, horizon * w + season + 1)
    # The float expression can land on the other side of an exact boundary: tighten until it agrees.
    while lo <= hi and any(window_count(lo, base * TERM_MULTIPLIER[t]) != w for t, w in windows.items()):
        lo += 1
    while hi >= lo and any(window_count(hi, base * TERM_MULTIPLIER[t]) != w for t, w in windows.items()):
        hi -= 1
    if lo > hi:
        raise ValueError(f"no series length reproduces windows {windows} at frequency {freq}")
    return lo, hi


def plan(
    seed: int = 0,
    properties: Path = DEFAULT_PROPERTIES,
    windows_csv: Path = DEFAULT_WINDOWS_CSV,
) -> list[DatasetPlan]:
    """One :class:`DatasetPlan` per dataset of ``properties``, in file order."""
    props = json.loads(Path(properties).read_text())
    table = pd.read_csv(windows_csv)
    parts = table["config"].str.split("/", expand=True)
    table = table.assign(ds=parts[0], term=parts[2])
    by_ds = {ds: group for ds, group in table.groupby("ds", sort=False)}
    rng = np.random.default_rng([seed, 1])
    plans = []
    for name, entry in props.items():
        group = by_ds[name]
        freq = name.split("-", 2)[2]
        windows = dict(zip(group["term"], group["windows"].astype(int), strict=True))
        expected_terms = ["short", "medium", "long"] if entry["term"] == "long" else ["short"]
        if sorted(windows) != sorted(expected_terms):
            raise ValueError(
                f"{name}: terms {sorted(windows)} in {windows_csv} vs properties {expected_terms}"
            )
        dims = group["target_dim_implied"].unique()
        if len(dims) != 1:
            raise ValueError(f"{name}: several target_dim values {dims.tolist()}")
        lo, hi = length_range(freq, windows)
        length = int(lo + math.floor(rng.random() * (hi - lo + 1)))
        plans.append(DatasetPlan(name, freq, entry["type"], int(dims[0]), windows, lo, hi, length))
    return plans


# ----------------------------------------------------------------------------------------------------------
# Signals


def make_target(p: DatasetPlan, rng: np.random.Generator) -> np.ndarray:
    """A float32 ``[target_dim, length]`` observability-like signal for ``p`` (see the module docstring)."""
    n_var, length = p.target_dim, p.length
    period = FREQS[p.freq][2]
    x = np.arange(period, dtype=np.float32) * np.float32(2 * np.pi / period)
    pattern = (np.sin(x) + np.float32(0.3) * np.sin(2 * x) + np.float32(0.5) * (x > np.pi)).astype(np.float32)
    tiled = np.resize(pattern, length + period)
    offsets = rng.integers(0, period, n_var)
    level = rng.lognormal(2.0, 1.5, n_var).astype(np.float32)
    amp = (level * rng.uniform(0.05, 0.5, n_var)).astype(np.float32)
    noise = (amp * rng.uniform(0.05, 0.6, n_var)).astype(np.float32)

    y = rng.standard_normal((n_var, length), dtype=np.float32)
    y *= noise[:, None]
    for v in range(n_var):
        row = y[v]
        row += tiled[offsets[v] : offsets[v] + length] * amp[v]
        row += level[v]
    if rng.random() < 0.3:  # a level shift somewhere
        y[:, int(rng.integers(length // 4, length)) :] += level[:, None] * np.float32(rng.uniform(-0.3, 0.3))

    if p.type == "rate":
        np.abs(y, out=y)
    elif p.type == "count":
        np.floor(y * np.float32(0.2), out=y)
        np.maximum(y, 0, out=y)
    elif p.type == "distribution":
        np.square(y, out=y)
        y *= np.float32(0.1)

    for v in range(n_var):
        row = y[v]
        for i in rng.integers(0, length, int(rng.integers(0, 6))):  # spikes
            row[i] *= np.float32(rng.uniform(3, 20))
        u = rng.random()
        if u < 0.06:  # a flat variate (zero seasonal error)
            row[:] = 0.0 if rng.random() < 0.5 else np.float32(level[v])
        elif u < 0.3:  # flat stretches
            for _ in range(int(rng.integers(1, 4))):
                start = int(rng.integers(0, length))
                row[start : start + int(rng.integers(10, max(11, length // 20)))] = row[start]
        if rng.random() < 0.25:  # NaN gaps
            for _ in range(int(rng.integers(1, 5))):
                start = int(rng.integers(0, length))
                row[start : start + int(rng.integers(1, 200))] = np.nan
        if rng.random() < 0.05:  # leading NaNs
            row[: int(rng.integers(1, max(2, length // 50)))] = np.nan
        if np.isnan(row).all():  # the loaders reject all-NaN variates
            row[-1] = 0.0
    return y


# ----------------------------------------------------------------------------------------------------------
# Writing (the datasets.save_to_disk layout)


def _schema(multivariate: bool) -> pa.Schema:
    inner = {"feature": _FLOAT, "_type": "List"}
    target = {"feature": inner, "_type": "List"} if multivariate else inner
    features = {**_FEATURES, "target": target}
    value_type = pa.list_(pa.list_(pa.float32())) if multivariate else pa.list_(pa.float32())
    metadata = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.schema(
        [
            ("item_id", pa.string()),
            ("start", pa.timestamp("s")),
            ("freq", pa.string()),
            ("target", value_type),
        ],
        metadata=metadata,
    )


def write_save_to_disk(
    folder: Path, target: np.ndarray, *, item_id: str, start: pd.Timestamp, freq: str, fingerprint: str
) -> None:
    """Write one single-row ``save_to_disk`` folder; ``target`` is ``[V, T]`` (``V == 1`` → 1-D target)."""
    n_var, length = target.shape
    multivariate = n_var > 1
    values = pa.array(np.ascontiguousarray(target).reshape(-1), type=pa.float32())
    if multivariate:
        inner = pa.ListArray.from_arrays(pa.array(np.arange(n_var + 1, dtype=np.int32) * length), values)
        column = pa.ListArray.from_arrays(pa.array([0, n_var], type=pa.int32()), inner)
    else:
        column = pa.ListArray.from_arrays(pa.array([0, length], type=pa.int32()), values)
    schema = _schema(multivariate)
    table = pa.Table.from_arrays(
        [
            pa.array([item_id]),
            pa.array(np.array([start.to_datetime64()], dtype="datetime64[s]"), type=pa.timestamp("s")),
            pa.array([freq]),
            column,
        ],
        schema=schema,
    )
    folder.mkdir(parents=True, exist_ok=True)
    with (
        pa.OSFile(str(folder / "data-00000-of-00001.arrow"), "wb") as sink,
        pa.ipc.new_stream(sink, schema) as w,
    ):
        w.write_table(table)
    features = json.loads(schema.metadata[b"huggingface"])["info"]["features"]
    info = {"citation": "", "description": "", "features": features, "homepage": "", "license": ""}
    (folder / "dataset_info.json").write_text(json.dumps(info, indent=2))
    state: dict[str, object] = {
        "_data_files": [{"filename": "data-00000-of-00001.arrow"}],
        "_fingerprint": fingerprint,
        "_format_columns": None,
        "_format_kwargs": {},
        "_format_type": None,
        "_output_all_columns": False,
        "_split": None,
    }
    (folder / "state.json").write_text(json.dumps(state, indent=2))


def _source_digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def generate(
    root: Path = DEFAULT_ROOT,
    *,
    seed: int = 0,
    properties: Path = DEFAULT_PROPERTIES,
    windows_csv: Path = DEFAULT_WINDOWS_CSV,
    force: bool = False,
    limit: int | None = None,
    verbose: bool = True,
) -> dict[str, object]:
    """Write the synthetic suite under ``root`` (skipped when already there with the same seed and sources).

    Args:
        root: data root (never inside the repository).
        seed: generation seed (lengths and signals).
        properties: ``boom_properties.json`` (names, terms, types).
        windows_csv: per-config windows and target_dim.
        force: regenerate even when the cache marker matches.
        limit: only the first ``limit`` datasets (quick runs).
        verbose: print progress and the summary.

    Returns:
        The summary stored in ``<root>/_synthetic.json``.
    """
    root = Path(root)
    repo = Path(__file__).resolve().parents[1]
    if root.resolve().is_relative_to(repo):
        raise ValueError(f"refusing to write {root} inside the repository {repo}")
    key = {
        "seed": seed,
        "version": GENERATOR_VERSION,
        "sources": _source_digest(properties, windows_csv),
        "limit": limit,
    }
    marker = root / MARKER
    if not force and marker.is_file():
        cached: dict[str, Any] = json.loads(marker.read_text())
        if cached.get("key") == key:
            if verbose:
                print(
                    f"cached: {root} ({cached['datasets']} datasets, {cached['points'] / 1e6:.1f} M points)"
                )
            return cached
    if root.exists():
        marker.unlink(missing_ok=True)
        for child in root.iterdir():
            if child.is_dir() and child.name.startswith("ds-"):
                shutil.rmtree(child)
    root.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    plans = plan(seed, properties, windows_csv)[:limit]
    base_start = pd.Timestamp("2024-01-01")
    total = 0
    for i, p in enumerate(plans):
        rng = np.random.default_rng([seed, 2, i])
        target = make_target(p, rng)
        start = base_start + pd.Timedelta(minutes=int(rng.integers(0, 60 * 24 * 30)))
        start = start.floor(
            {"10S": "10s", "T": "min", "5T": "5min", "30T": "30min", "H": "h", "D": "D"}[p.freq]
        )
        fingerprint = hashlib.sha256(f"{seed}:{p.name}".encode()).hexdigest()[:16]
        write_save_to_disk(
            root / p.name, target, item_id=p.name, start=start, freq=p.freq, fingerprint=fingerprint
        )
        total += p.points
        if verbose and (i + 1) % 250 == 0:
            rate = total / (time.perf_counter() - started) / 1e6
            print(
                f"  {i + 1}/{len(plans)} datasets, {total / 1e6:.0f} M points ({rate:.0f} M points/s)",
                flush=True,
            )
    elapsed = time.perf_counter() - started
    summary: dict[str, object] = {
        "key": key,
        "datasets": len(plans),
        "points": total,
        "seconds": round(elapsed, 1),
        "plans": [asdict(p) for p in plans],
    }
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary))
    os.replace(tmp, marker)
    if verbose:
        print(f"generated {len(plans)} datasets, {total / 1e6:.1f} M points under {root} in {elapsed:.1f} s")
    return summary


def load_plans(root: Path = DEFAULT_ROOT) -> list[DatasetPlan]:
    """The plans recorded by :func:`generate` under ``root``."""
    summary = json.loads((Path(root) / MARKER).read_text())
    return [DatasetPlan(**p) for p in summary["plans"]]


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: generate (or reuse) the synthetic suite."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help=f"data root (default {DEFAULT_ROOT})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--properties", type=Path, default=DEFAULT_PROPERTIES)
    parser.add_argument("--windows-csv", type=Path, default=DEFAULT_WINDOWS_CSV)
    parser.add_argument("--limit", type=int, default=None, help="only the first N datasets")
    parser.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = parser.parse_args(argv)
    generate(
        args.root,
        seed=args.seed,
        properties=args.properties,
        windows_csv=args.windows_csv,
        force=args.force,
        limit=args.limit,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
