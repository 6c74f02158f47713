"""Benchmark: start-up time of ``toto-bench --help`` / ``list`` against a bare interpreter.

Each command runs ``--repeats`` times as a fresh ``python -m toto_bench.cli ...`` process (wall time from
``time.perf_counter`` around ``subprocess.run``; the child's user+system CPU from ``resource``), alternating
with the reference ``python -c pass``, so that machine load hits both alike. Prints min and median per
command, the overhead over the reference (min wall - reference min wall), and ``ratio: X`` (reference min
wall / slowest command's min wall, higher is better) as the last line. The goal (issue 15) is < 0.25 s for
``--help`` and ``list suites`` on an idle machine; on a loaded one read the CPU column.

Run: ``python benchmarks/cli_startup.py [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time

COMMANDS: list[list[str]] = [["--help"], ["run", "--help"], ["list", "suites"], ["list", "models"]]


def _once(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    reference = [sys.executable, "-c", "pass"]
    walls: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for label, argv in [("python -c pass", reference)] + [
            (" ".join(c), [sys.executable, "-m", "toto_bench.cli", *c]) for c in COMMANDS
        ]:
            wall, cpu = _once(argv)
            walls.setdefault(label, []).append(wall)
            cpus.setdefault(label, []).append(cpu)
    ref = min(walls["python -c pass"])
    print(f"{'command':<18} {'wall min':>9} {'wall med':>9} {'cpu min':>8} {'over ref':>9}")
    for label in walls:
        w, c = walls[label], cpus[label]
        print(f"{label:<18} {min(w):9.3f} {statistics.median(w):9.3f} {min(c):8.3f} {min(w) - ref:9.3f}")
    slowest = max(min(walls[" ".join(c)]) for c in COMMANDS[:3])
    print(f"ratio: {ref / slowest:.3f}  (python -c pass / slowest of --help, run --help, list suites)")


if __name__ == "__main__":
    main()
