"""Build the embedded demo suite's data (``bench/demo_data/``) from the raw public files in ``../shared``.

A development script (not shipped in the package): it reads the unmodified upstream files in place and
writes one ``datasets.save_to_disk`` folder per demo dataset, in the GIFT-Eval on-disk layout, with the
derivation recipes of GIFT-Eval (``shared/docs/gift_eval_protocol.md`` §2):

- ``saugeenday/D``: the Monash ``saugeenday_dataset.tsf`` series as-is (23,741 days from 1915-01-01);
  ``/W``: 7-day block means from the first day (float32), the trailing partial block dropped (3,391);
  ``/M``: calendar-month means of the float32 values (780).
- ``us_births/D``: ``mosaicData::Births`` column ``births`` as-is (7,305 days from 1969-01-01);
  ``/W``: 7-day block sums from the first day, the trailing partial block dropped (1,043); ``/M``: monthly
  sums (240).

Run from the repository root: ``python tools/build_demo_data.py [--shared ../shared]``. The licences and
sources of both series are in ``bench/demo_data/SOURCES.md`` (written by hand, not by this script).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "demo_data"


def _saugeen_daily(shared: Path) -> tuple[pd.Timestamp, np.ndarray]:
    """The one series of the Monash TSF file: ``(start, float32 [23741])``."""
    text = (shared / "data" / "monash-saugeenday" / "saugeenday_dataset.tsf").read_text()
    body = text.split("@data", 1)[1].strip()
    name, start, values = body.split(":", 2)
    if name != "T1":
        raise ValueError(f"expected the single series T1 in the TSF file, found {name!r}")
    stamp = pd.Timestamp(start.split(" ")[0])
    return stamp, np.asarray([float(v) for v in values.split(",")], dtype=np.float32)


def _births_daily(shared: Path) -> tuple[pd.Timestamp, np.ndarray]:
    frame = pd.read_csv(shared / "data" / "rdatasets-mosaicdata" / "Births.csv", parse_dates=["date"])
    dates = pd.DatetimeIndex(frame["date"])
    if not (np.diff(dates.asi8) == 86_400 * 10**9).all():
        raise ValueError("Births.csv dates are not consecutive days")
    return dates[0], frame["births"].to_numpy(dtype=np.float64)


def _blocks(values: np.ndarray, size: int, how: str) -> np.ndarray:
    """Complete ``size``-step blocks from the first step (a trailing partial block is dropped)."""
    n = values.size // size
    blocks = values[: n * size].reshape(n, size)
    return blocks.sum(axis=1) if how == "sum" else blocks.mean(axis=1, dtype=values.dtype)


def _monthly(start: pd.Timestamp, values: np.ndarray, how: str) -> np.ndarray:
    series = pd.Series(values, index=pd.date_range(start, periods=values.size, freq="D"))
    grouped = series.resample("MS")
    return np.asarray(grouped.sum() if how == "sum" else grouped.mean())


def _write(path: Path, item_id: str, start: pd.Timestamp, freq: str, target: np.ndarray) -> None:
    import datasets

    features = datasets.Features(
        {
            "item_id": datasets.Value("string"),
            "start": datasets.Value("timestamp[s]"),
            "freq": datasets.Value("string"),
            "target": datasets.Sequence(datasets.Value("float32")),
        }
    )
    rows = {
        "item_id": [item_id],
        "start": [start.to_datetime64().astype("datetime64[s]")],
        "freq": [freq],
        "target": [np.asarray(target, dtype=np.float32)],
    }
    if path.exists():
        shutil.rmtree(path)
    datasets.disable_progress_bars()
    datasets.Dataset.from_dict(rows, features=features).save_to_disk(str(path))
    print(f"{path.relative_to(ROOT)}: {target.size} steps, freq {freq}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared folder")
    args = parser.parse_args()

    start, flow = _saugeen_daily(args.shared)  # float32, as GIFT-Eval aggregates it
    _write(OUT / "saugeenday" / "D", "T1", start, "D", flow)
    _write(OUT / "saugeenday" / "W", "T1", start, "W-FRI", _blocks(flow, 7, "mean"))
    _write(OUT / "saugeenday" / "M", "T1", start, "M", _monthly(start, flow, "mean"))

    start, births = _births_daily(args.shared)
    _write(OUT / "us_births" / "D", "births", start, "D", births)
    _write(OUT / "us_births" / "W", "births", start, "W-WED", _blocks(births, 7, "sum"))
    _write(OUT / "us_births" / "M", "births", start, "M", _monthly(start, births, "sum"))


if __name__ == "__main__":
    main()
