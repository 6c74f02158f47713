"""Benchmark: start-up time of ``toto-bench --help`` / ``list`` against a bare interpreter.

Each command runs ``--repeats`` times as a fresh ``python -m toto_bench.cli ...`` process (wall time from
``time.perf_counter`` around ``subprocess.run``; the child's user+system CPU from ``resource``), alternating
with the reference ``python -c pass``, so that machine load hits both alike. Prints min and median per
command, the overhead over the reference (min wall - reference min wall), whether the min wall meets the
goal (issue 15: < 0.25 s on an idle machine; on a loaded one read the CPU column), and ``ratio: X``
(reference min wall / slowest command's min wall, higher is better) as the last line.

The commands run under the interpreter that has toto-bench installed: ``--python PATH`` if given, else this
one if it imports ``toto_bench``, else the checkout's ``.venv/bin/python`` (so ``python3
benchmarks/cli_startup.py`` with the system interpreter measures the venv, not a crash).

The children run with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed from their environment), as
an installed package has its ``.pyc`` files: the first repeat writes ``__pycache__`` (git-ignored), the min
is over cached starts. ``--no-bytecode-cache`` keeps the variable, measuring compile-from-source starts.

Run: ``python benchmarks/cli_startup.py [--repeats 7] [--python .venv/bin/python] [--no-bytecode-cache]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS: list[list[str]] = [["--help"], ["run", "--help"], ["list", "suites"], ["list", "models"]]
#: Issue 15's start-up goal for each command, seconds of wall time.
GOAL_SECONDS = 0.25
#: The checkout's virtual environment (README: ``python3 -m venv .venv && pip install -e .``).
VENV_PYTHON = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "python"


def interpreter(given: str | None) -> str:
    """The Python that runs the commands: ``given``, this one if it has toto_bench, else the checkout's
    venv."""
    if given:
        return given
    if importlib.util.find_spec("toto_bench") is not None:
        return sys.executable
    if VENV_PYTHON.exists():
        return str(VENV_PYTHON)
    sys.exit(
        f"{sys.executable} cannot import toto_bench and {VENV_PYTHON} does not exist: install the checkout "
        f"(python3 -m venv .venv && .venv/bin/pip install -e .) or pass --python PATH"
    )


def _once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited with {done.returncode}:\n{done.stderr}")
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--python", metavar="PATH", help="interpreter with toto-bench installed (see above)")
    parser.add_argument(
        "--no-bytecode-cache", action="store_true", help="keep PYTHONDONTWRITEBYTECODE for the children"
    )
    args = parser.parse_args()
    env = dict(os.environ)
    if not args.no_bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    python = interpreter(args.python)
    cache = "off (--no-bytecode-cache)" if "PYTHONDONTWRITEBYTECODE" in env else "on"
    print(f"interpreter: {python}; bytecode cache: {cache}")
    reference = [python, "-c", "pass"]
    walls: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for label, argv in [("python -c pass", reference)] + [
            (" ".join(c), [python, "-m", "toto_bench.cli", *c]) for c in COMMANDS
        ]:
            wall, cpu = _once(argv, env)
            walls.setdefault(label, []).append(wall)
            cpus.setdefault(label, []).append(cpu)
    ref = min(walls["python -c pass"])
    header = f"{'command':<18} {'wall min':>9} {'wall med':>9} {'cpu min':>8} {'over ref':>9}"
    print(f"{header}  goal {GOAL_SECONDS} s")
    for label in walls:
        w, c = walls[label], cpus[label]
        goal = "" if label == "python -c pass" else ("met" if min(w) < GOAL_SECONDS else "MISSED")
        print(
            f"{label:<18} {min(w):9.3f} {statistics.median(w):9.3f} {min(c):8.3f} {min(w) - ref:9.3f}  {goal}"
        )
    slowest = max(min(walls[" ".join(c)]) for c in COMMANDS[:3])
    print(f"ratio: {ref / slowest:.3f}  (python -c pass / slowest of --help, run --help, list suites)")


if __name__ == "__main__":
    main()
