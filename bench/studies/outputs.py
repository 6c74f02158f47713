"""Reading back what the studies wrote, for ``toto-bench report --studies-dir``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["STUDY_FILES", "StudyOutput", "read_study_outputs"]

#: study folder → (title, plot, CSV): the files each study writes in ``<studies-dir>/<study>/``.
STUDY_FILES: dict[str, tuple[str, str, str]] = {
    "latency": ("Latency vs horizon", "latency.svg", "latency.csv"),
    "long-horizon": ("Long-horizon stability", "long_horizon.svg", "long_horizon.csv"),
}


@dataclass(frozen=True)
class StudyOutput:
    """One study's plot (SVG text) and results table."""

    study: str
    title: str
    svg: str
    table: pd.DataFrame


def read_study_outputs(studies_dir: Path) -> list[StudyOutput]:
    """The studies found in ``studies_dir`` (a ``--output-dir`` of ``toto-bench study``, or one study folder).

    Raises:
        FileNotFoundError: no study's plot and CSV are there (names the folder and the expected files).
    """
    root = Path(studies_dir)
    out = []
    for study, (title, plot, csv) in STUDY_FILES.items():
        for folder in (root / study, root):
            if (folder / plot).is_file() and (folder / csv).is_file():
                svg = (folder / plot).read_text(encoding="utf-8")
                out.append(StudyOutput(study, title, svg, pd.read_csv(folder / csv)))
                break
    if not out:
        expected = ", ".join(f"{s}/{p} + {s}/{c}" for s, (_, p, c) in STUDY_FILES.items())
        raise FileNotFoundError(
            f"--studies-dir {root}: no study outputs there (expected {expected}, written by "
            "`toto-bench study latency|long-horizon --output-dir DIR`)"
        )
    return out
