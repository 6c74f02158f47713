"""Where a run ran: toto-bench version and git state, Python, platform, host, CPU, package versions.

Part of the run record (:mod:`toto_bench.engine.record`); nothing here imports torch.
"""

from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from toto_bench import __version__

__all__ = ["PACKAGES", "cpu_model", "environment", "git_state", "package_versions"]

#: Distributions whose versions the record lists (when installed), in this order.
PACKAGES: tuple[str, ...] = (
    "numpy",
    "pandas",
    "pyarrow",
    "datasets",
    "huggingface_hub",
    "gluonts",
    "statsforecast",
    "numba",
    "torch",
    "transformers",
    "toto-2",
    "toto-ts",
    "chronos-forecasting",
    "uni2ts",
    "timesfm",
    "ray",
)


def package_versions(packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    """``{distribution: version}`` of the installed ones among ``packages`` (missing ones are left out)."""
    out: dict[str, str] = {}
    for package in packages:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return out


def _torch_cuda_version() -> str | None:
    """The CUDA version torch was built for (``None``: CPU build or no torch), without importing torch."""
    torch = sys.modules.get("torch")
    if torch is not None:
        version = getattr(getattr(torch, "version", None), "cuda", None)
        return None if version is None else str(version)
    try:
        source = Path(str(metadata.distribution("torch").locate_file("torch/version.py"))).read_text()
    except (metadata.PackageNotFoundError, OSError):
        return None
    return _cuda_from_version_file(source)


def _cuda_from_version_file(source: str) -> str | None:
    """``cuda`` of a ``torch/version.py`` text (``cuda: Optional[str] = '12.8'``; ``None`` on CPU builds)."""
    match = re.search(r"^cuda\b[^=\n]*=\s*['\"]([^'\"]+)['\"]", source, flags=re.MULTILINE)
    return match.group(1) if match else None


def _git(args: Sequence[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(cwd), *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(package_dir: Path | None = None) -> dict[str, Any]:
    """``{"git_sha": ..., "git_dirty": ...}`` of the toto-bench source checkout the code runs from.

    Both are ``None`` when the code is not a git checkout of toto-bench (an installed wheel, or a venv that
    happens to sit inside some other repository): the checkout's top level must hold the package folder and a
    ``pyproject.toml`` naming ``toto-bench``. ``git_dirty`` is True when tracked files differ from ``HEAD``.
    """
    here = (package_dir or Path(__file__).parent).resolve()
    none: dict[str, Any] = {"git_sha": None, "git_dirty": None}
    top = _git(["rev-parse", "--show-toplevel"], here)
    if top is None:
        return none
    root = Path(top.strip()).resolve()
    pyproject = root / "pyproject.toml"
    try:
        named = re.search(r"^name\s*=\s*['\"]toto-bench['\"]", pyproject.read_text(), flags=re.MULTILINE)
    except OSError:
        named = None
    if named is None or not here.is_relative_to(root):
        return none
    sha = _git(["rev-parse", "HEAD"], root)
    status = _git(["status", "--porcelain", "--untracked-files=no"], root)
    return {
        "git_sha": (sha.strip() or None) if sha is not None else None,
        "git_dirty": None if status is None else bool(status.strip()),
    }


def cpu_model() -> str | None:
    """The CPU's model name (``/proc/cpuinfo`` ``model name``; else ``platform.processor()``; else None)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def _usable_cpus() -> int | None:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def environment() -> dict[str, Any]:
    """Where the run happened: toto-bench version, git state, Python, platform, host, CPU, package versions.

    Returns:
        ``toto_bench_version``, ``git_sha`` / ``git_dirty`` (:func:`git_state`), ``python`` (version),
        ``python_implementation``, ``platform``, ``hostname``, ``cpu`` (:func:`cpu_model`), ``cpu_count``
        (CPUs this process may use), ``torch_cuda`` (the CUDA version of the installed torch build; None for
        a CPU build or without torch) and ``versions``: ``python``, ``toto-bench`` and every installed
        package of :data:`PACKAGES`.
    """
    return {
        "toto_bench_version": __version__,
        **git_state(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "cpu": cpu_model(),
        "cpu_count": _usable_cpus(),
        "torch_cuda": _torch_cuda_version(),
        "versions": {"python": platform.python_version(), "toto-bench": __version__, **package_versions()},
    }
