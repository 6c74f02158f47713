"""What both studies share: the resumable results store, keys, timing with device sync, the run record.

A study folder ``<output-dir>/<study>/`` holds the engine's :class:`~toto_bench.engine.store.ResultsStore`
journal (one committed row per finished cell, so a rerun after a crash or Ctrl-C resumes), the study's CSV,
markdown table and SVG plot(s), and ``config.json``: the engine's run record
(:func:`~toto_bench.engine.record.build_run_record`: versions, git state, host, resources) with the study's
options and every model's :func:`~toto_bench.engine.record.describe_model`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from toto_bench.engine.record import build_run_record, describe_model
from toto_bench.engine.resources import ResourceMonitor
from toto_bench.engine.store import EntryKey, spec_hash, write_json_atomic

__all__ = ["RECORD_NAME", "STUDY_VERSION", "cell_key", "synchronize", "timed_call", "write_study_record"]

#: Bump when a change to a study changes its numbers; stored rows of another version are recomputed.
STUDY_VERSION = "1"
RECORD_NAME = "config.json"


def horizon_table(frame: pd.DataFrame, value: str, labels: Sequence[str], index_name: str) -> pd.DataFrame:
    """``value`` of a study's rows pivoted to one row per label (a row's run, in first-seen order) and
    one column ``H=<horizon>`` per horizon."""
    table = frame.assign(run=list(labels)).pivot_table(
        index="run", columns="horizon", values=value, sort=False, aggfunc="first", dropna=False
    )
    table.columns = [f"H={h}" for h in table.columns]
    table.index.name = index_name
    return table


def cell_key(cell: str, settings: Mapping[str, Any], data: Mapping[str, Any]) -> EntryKey:
    """The store key of one study cell: its name, a hash of the model settings, a hash of the data recipe."""
    return EntryKey(config=cell, spec=spec_hash(settings), data=spec_hash(data), protocol=STUDY_VERSION)


def synchronize(device: str) -> None:
    """Wait for queued device work (``torch.cuda.synchronize``) so a timer measures finished work."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(torch.device(device))


def timed_call(call: Callable[[], Any], device: str) -> tuple[float, Any]:
    """``(seconds, result)`` of ``call()``, with the device synchronised before and after."""
    synchronize(device)
    start = time.perf_counter()
    result = call()
    synchronize(device)
    return time.perf_counter() - start, result


def write_study_record(
    folder: Path,
    *,
    study: str,
    options: Mapping[str, Any],
    monitor: ResourceMonitor,
    rows: int,
    models: Mapping[str, Any],
) -> Path:
    """``folder/config.json``: the engine's run record for a study (``models``: label → adapter)."""
    base = {"study": study, "study_version": STUDY_VERSION, "options": dict(options), "cells": rows}
    details = {label: describe_model(model) for label, model in models.items()}
    record = build_run_record(base=base, model=None, monitor=monitor, windows=rows, model_details=details)
    path = folder / RECORD_NAME
    write_json_atomic(path, record)
    return path
