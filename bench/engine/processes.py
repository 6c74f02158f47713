"""Worker processes of the local executor (``--workers N``): datasets spread over N processes of this machine.

Each worker builds its own model once (``job.build_model()``) and runs whole work units (one dataset's
pending configs) handed out by the driver one at a time, the next unit going to the first idle worker. Every
finished config is sent back at once and committed by the driver's one results store, as with the in-process
executor, so the journal has one writer and ``all_results.csv`` (written in suite order from the store) is
byte-identical whatever the worker count. The model's fallback records come back per unit and are put in
unit order, as one in-process model would have recorded them.

Start method: ``fork`` where the platform has it (Linux): the driver has already imported the engine and the
adapters, so a worker starts in milliseconds instead of re-importing them (2-3 s); the driver builds no
model before forking (a model that initialised CUDA must not be forked). Elsewhere ``spawn``, which needs a
picklable job (:class:`~toto_bench.engine.executors.ModelRecipe`).

Failure handling: an exception in a worker stops the run with that exception (finished configs are kept); a
worker that dies (killed, out of memory) stops it with a :class:`~toto_bench.engine.protocol.RunError`
naming the dataset. Workers ignore Ctrl-C (the driver stops them). A worker whose driver is killed dies with
it on Linux (``PR_SET_PDEATHSIG``), elsewhere at its next send or receive (a closed pipe); it never holds
the run folder's lock (:mod:`toto_bench.engine.lock` drops it in forked children) and never writes the
journal.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
from collections import deque
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from toto_bench.adapters.base import ReportsFallbacks
from toto_bench.engine.protocol import RunError
from toto_bench.engine.record import describe_model

if TYPE_CHECKING:
    from toto_bench.engine.units import UnitJob, WorkUnit

__all__ = ["run_in_processes", "start_method", "usable_cpus"]

#: Seconds the driver waits for a worker to exit after telling it to stop, before terminating it.
JOIN_TIMEOUT_S = 5.0


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def start_method() -> str:
    """``fork`` where available (workers inherit the imported engine), else ``spawn``."""
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def _die_with(driver: int) -> None:
    """Ask Linux to kill this process when its parent dies (``PR_SET_PDEATHSIG``; best effort elsewhere: the
    closed pipe ends the worker at its next send or receive); exit now if the driver is already gone."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != driver:
        os._exit(1)


def _worker_main(job: UnitJob, conn: Connection, inherited: Sequence[Connection], driver: int) -> None:
    """A worker's loop: receive ``(index, unit)``, send each ``("result", ConfigResult)``, then
    ``("done", index, new fallback records, model details)``; ``None`` ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    _die_with(driver)
    for other in inherited:  # the driver's ends of the other workers' pipes (fork copies them)
        other.close()
    model = None
    reported = 0  # fallback records already sent
    described = False
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:  # the driver is gone
                return
            if message is None:
                return
            index, unit = message
            try:
                if model is None:
                    model = job.build_model()
                for result in job.run(model, unit):
                    conn.send(("result", result))
                records = tuple(model.fallbacks) if isinstance(model, ReportsFallbacks) else ()
                details = None if described else describe_model(model)
                described = True
                conn.send(("done", index, records[reported:], details))
                reported = len(records)
            except (BrokenPipeError, EOFError):
                return
            except BaseException as exc:  # every error goes back to the driver
                conn.send(("error", index, _picklable(exc)))
                return
    finally:
        conn.close()


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (the driver re-raises it as is), else a :class:`RunError` with its
    type and message."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # any pickling failure
        return RunError(f"{type(exc).__name__}: {exc}")
    return exc


def run_in_processes(
    job: UnitJob, units: Sequence[WorkUnit], sink: Any, workers: int
) -> tuple[dict[str, Any] | None, tuple[Any, ...]]:
    """Run ``units`` on ``workers`` worker processes, committing each finished config through ``sink`` (the
    driver's :class:`~toto_bench.engine.executors.ResultSink`: ``commit(result)``, ``unit_done(unit)``).

    Returns:
        ``(details, fallbacks)``: the first worker's model description (``describe_model``) and every
        fallback record, in unit order.

    Raises:
        RunError: a worker died (its dataset is named; finished configs are committed).
        Exception: the first error a worker raised, as it raised it.
    """
    ctx: Any = multiprocessing.get_context(start_method())
    pipes: list[Connection] = []
    processes: list[Any] = []
    try:
        for _ in range(min(workers, len(units))):
            mine, theirs = ctx.Pipe(duplex=True)
            proc = ctx.Process(target=_worker_main, args=(job, theirs, list(pipes), os.getpid()), daemon=True)
            proc.start()
            theirs.close()
            pipes.append(mine)
            processes.append(proc)
        return _drive(pipes, processes, units, sink)
    finally:
        for conn in pipes:
            try:
                conn.send(None)
            except OSError:
                pass
            conn.close()
        for proc in processes:
            proc.join(JOIN_TIMEOUT_S)
            if proc.is_alive():
                proc.terminate()
                proc.join()


def _drive(
    pipes: list[Connection],
    processes: list[Any],
    units: Sequence[WorkUnit],
    sink: Any,
) -> tuple[dict[str, Any] | None, tuple[Any, ...]]:
    queue = deque(enumerate(units))
    idle = list(range(len(pipes)))
    running: dict[int, int] = {}  # worker → index of the unit it runs
    fallbacks: dict[int, tuple[Any, ...]] = {}
    details: dict[str, Any] | None = None
    while queue or running:
        while queue and idle:
            worker = idle.pop(0)
            index, unit = queue.popleft()
            pipes[worker].send((index, unit))
            running[worker] = index
        by_conn = {id(pipes[w]): w for w in running}
        for ready in wait([pipes[w] for w in running]):
            worker = by_conn[id(ready)]
            unit = units[running[worker]]
            try:
                message: Any = pipes[worker].recv()
            except EOFError:
                processes[worker].join(JOIN_TIMEOUT_S)
                code = processes[worker].exitcode
                raise RunError(
                    f"dataset {unit.name!r}: its worker process died (exit code {code}); finished configs "
                    f"are kept: rerun the same command to resume (with --workers 1 to run in this process)"
                ) from None
            kind = message[0]
            if kind == "result":
                sink.commit(message[1])
            elif kind == "done":
                _, index, records, described = message
                fallbacks[index] = tuple(records)
                if details is None and described is not None:
                    details = described
                del running[worker]
                idle.append(worker)
                sink.unit_done(unit)
            else:  # "error"
                raise message[2]
    ordered = tuple(record for index in sorted(fallbacks) for record in fallbacks[index])
    return details, ordered
