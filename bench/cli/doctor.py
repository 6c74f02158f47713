"""``toto-bench doctor``: what this installation has — Python, torch/CUDA, each model family (installed or
the one install command), the data roots of every suite and the caches — printed as ``key: value`` lines.

Nothing is downloaded or written; torch is imported (to ask it for CUDA) only when it is installed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path
from typing import Any

#: extra → the distribution whose version ``doctor`` reports.
EXTRA_DISTRIBUTIONS: dict[str, str] = {
    "toto2": "toto-2",
    "toto1": "toto-ts",
    "chronos": "chronos-forecasting",
    "moirai": "uni2ts",
    "timesfm": "timesfm",
    "stats": "statsforecast",
}


def _version(distribution: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _torch_lines() -> list[str]:
    import importlib.util

    from toto_bench.adapters.common import INSTALL_HINTS

    if importlib.util.find_spec("torch") is None:
        return [f"torch: not installed; {INSTALL_HINTS['torch']}"]
    try:
        import torch
    except Exception as exc:  # a broken torch install is reported, not raised
        return [f"torch: installed but fails to import ({type(exc).__name__}: {exc})"]
    cuda = torch.version.cuda or "none (CPU build)"
    lines = [f"torch: {torch.__version__} (CUDA build: {cuda})"]
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        lines.append(f"cuda devices: {torch.cuda.device_count()} ({names})")
    else:
        lines.append("cuda devices: none visible (runs use --device cpu)")
    return lines


def _root_line(suite: str, root: Path, env_var: str) -> str:
    origin = f"${env_var}" if os.environ.get(env_var) else f"default cache (${env_var} not set)"
    state = "exists" if root.is_dir() else "absent"
    return f"data {suite}: {root} [{origin}; {state}]"


def report_lines() -> list[str]:
    """The doctor report, one ``key: value`` line each (the CLI prints them)."""
    from toto_bench import __version__
    from toto_bench.adapters.common import (
        MODEL_EXTRAS,
        extra_installed,
        install_command,
        pip_install_command,
    )
    from toto_bench.engine.data import SOURCES, resolve_data_dir
    from toto_bench.suites import lsf
    from toto_bench.suites.metadata import METADATA_SUITES, packaged_path

    lines = [
        f"toto-bench: {__version__} ({Path(__file__).resolve().parents[1]})",
        f"python: {platform.python_version()} ({sys.executable})",
        f"platform: {platform.platform()}",
        *_torch_lines(),
    ]
    for extra in MODEL_EXTRAS:
        if extra_installed(extra):
            dist = EXTRA_DISTRIBUTIONS[extra]
            lines.append(f"family {extra}: installed ({dist} {_version(dist)})")
        else:
            lines.append(
                f"family {extra}: missing; install: {install_command(extra)} "
                f"(pip only: {pip_install_command(extra)})"
            )
    for suite in sorted(SOURCES):
        lines.append(_root_line(suite, resolve_data_dir(suite), SOURCES[suite].env_var))
    lsf_root = Path(os.environ[lsf.ENV_VAR]).expanduser() if os.environ.get(lsf.ENV_VAR) else None
    lines.append(_root_line("lsf", lsf_root or Path.home() / ".cache" / "toto-bench" / "lsf", lsf.ENV_VAR))
    try:
        from huggingface_hub import constants

        offline = "offline" if constants.HF_HUB_OFFLINE else "online"
        lines.append(f"cache huggingface: {constants.HF_HUB_CACHE} [{offline}]")
    except ImportError:
        lines.append("cache huggingface: huggingface_hub not installed")
    cache = Path.home() / ".cache" / "toto-bench"
    lines.append(f"cache toto-bench: {cache} [{'exists' if cache.is_dir() else 'absent'}]")
    for suite in METADATA_SUITES:
        lines.append(f"metadata {suite}: {packaged_path(suite)}")
    return lines


def _doctor(args: argparse.Namespace) -> int:
    for line in report_lines():
        print(line)
    return 0


def register(sub: Any) -> None:
    """Add the command to ``sub``, the ``toto-bench`` sub-parsers."""
    doc = sub.add_parser(
        "doctor",
        help="report Python, torch/CUDA, installed model families, data roots and caches",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    doc.set_defaults(func=_doctor)
