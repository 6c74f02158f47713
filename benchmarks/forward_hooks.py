"""Instrumentation for the benchmarks: time a model's lowest-level forward call and count its batch rows.

One mechanism for ``adapter_throughput.py`` and ``gpu_flagship.py``: :class:`ForwardTimer` wraps
``owner.method`` — an adapter's model object (``model.model.forecast``) or a model *class*
(``toto2.Toto2Model.forecast``, which also catches the calls of the official gluonts wrapper and of a model
built deep inside ``toto-bench run``) — and accumulates

- the seconds spent inside it: CUDA events around each call on a GPU (no host synchronisation inside the
  timed loop, so the GPU's queue is not drained; events are read at the end), ``perf_counter`` with
  ``torch.cuda.synchronize`` when ``sync`` is asked for, plain ``perf_counter`` on CPU;
- the rows (contexts) of each call, from ``rows(args, kwargs)``, so the mean batch fill is
  ``mean(rows) / capacity`` with ``capacity`` the configured batch size;
- the wall-clock time of the first call (what a run spends before the model is first called: loading data
  and weights).

:data:`INNER_CALLS` says which attribute of each adapter holds the model object and which of its methods runs
the network (the first one present is timed).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

#: Adapter class → (attribute holding the model object, its method that runs the network).
INNER_CALLS: dict[str, list[tuple[str, str]]] = {
    "Toto2Forecaster": [("model", "forecast")],
    "ChronosBoltForecaster": [("pipeline", "predict")],
    "Chronos2Forecaster": [("pipeline", "predict_quantiles")],
    "MoiraiForecaster": [("model", "_get_distr"), ("model", "forward")],  # sampling itself is outside
    "Moirai2Forecaster": [("model", "predict")],
    "Moirai2PredictorForecaster": [("model", "forward")],
    "TimesFMForecaster": [("model", "forecast")],
    "Toto1Forecaster": [("_forecaster", "forecast")],
}


def toto2_rows(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """Rows of a ``Toto2Model.forecast(inputs, horizon, ...)`` call: ``inputs["target"]`` is ``[B, V, P]``."""
    inputs = args[0] if args else kwargs["inputs"]
    return int(inputs["target"].shape[0])


class ForwardTimer:
    """Wraps ``owner.method`` while :meth:`installed`; see the module docstring.

    Args:
        owner: an object or a class; on a class, every instance's calls are timed.
        method: the method name.
        cuda: time with CUDA events (the model runs on a GPU).
        sync: on CPU timing, call ``torch.cuda.synchronize`` around each call (for a GPU model timed with
            ``perf_counter``; ignored when ``cuda``).
        rows: ``rows(args, kwargs)`` → contexts in the call (without ``self``); ``None``: not counted.
    """

    def __init__(
        self,
        owner: Any,
        method: str,
        *,
        cuda: bool = False,
        sync: bool = False,
        rows: Callable[[tuple[Any, ...], dict[str, Any]], int] | None = None,
    ) -> None:
        self.owner, self.method, self.cuda, self.rows = owner, method, cuda, rows
        self.original = getattr(owner, method)
        self._sync: Callable[[], None] = lambda: None
        self._torch: Any = None
        if cuda or sync:
            import torch

            self._torch = torch
            self._sync = torch.cuda.synchronize
        self.reset()

    def reset(self) -> None:
        """Forget what was measured."""
        self._seconds = 0.0
        self._events: list[tuple[Any, Any]] = []
        self.batch_rows: list[int] = []
        self.calls = 0
        self.first_call: float | None = None  # perf_counter() at the first call

    @property
    def seconds(self) -> float:
        """Seconds inside the wrapped call so far (on CUDA: synchronises once and reads the events)."""
        if self._events:
            self._torch.cuda.synchronize()
            self._seconds += sum(start.elapsed_time(end) for start, end in self._events) / 1000.0
            self._events = []
        return self._seconds

    def batch_fill(self, capacity: int) -> float:
        """Mean rows per call / ``capacity`` (``nan`` without calls or without a ``rows`` function)."""
        if not self.batch_rows or capacity < 1:
            return float("nan")
        return sum(self.batch_rows) / len(self.batch_rows) / capacity

    def _timed(self, call: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.first_call is None:
            self.first_call = time.perf_counter()
        self.calls += 1
        if self.rows is not None:
            self.batch_rows.append(self.rows(args, kwargs))
        if self.cuda:
            start, end = (self._torch.cuda.Event(enable_timing=True) for _ in range(2))
            start.record()
            try:
                return call(*args, **kwargs)
            finally:
                end.record()
                self._events.append((start, end))
        self._sync()
        begin = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            self._sync()
            self._seconds += time.perf_counter() - begin

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The wrapper for an instance (``owner`` is not a class)."""
        return self._timed(self.original, args, kwargs)

    @contextlib.contextmanager
    def installed(self) -> Iterator[ForwardTimer]:
        """Install the wrapper on ``owner`` and restore the original afterwards."""
        if isinstance(self.owner, type):
            function = self.owner.__dict__[self.method]
            timer = self

            def wrapper(obj: Any, *args: Any, **kwargs: Any) -> Any:
                return timer._timed(lambda *a, **k: function(obj, *a, **k), args, kwargs)

            setattr(self.owner, self.method, wrapper)
            try:
                yield self
            finally:
                setattr(self.owner, self.method, function)
            return
        had_own = self.method in vars(self.owner)
        setattr(self.owner, self.method, self)
        try:
            yield self
        finally:
            if had_own:
                setattr(self.owner, self.method, self.original)
            else:
                delattr(self.owner, self.method)


def inner_timer(model: Any, *, cuda: bool) -> ForwardTimer | None:
    """A :class:`ForwardTimer` on ``model``'s inner call (:data:`INNER_CALLS`), synchronised on a GPU."""
    for attr, method in INNER_CALLS.get(type(model).__name__, []):
        obj = getattr(model, attr, None)
        if obj is not None and callable(getattr(obj, method, None)):
            return ForwardTimer(obj, method, sync=cuda)
    return None
