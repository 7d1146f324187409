"""The server's limits: upload size, pixel count, and one inference at a time per device with a bounded queue.

A model run can take seconds and gigabytes, so requests do not run side by side: an :class:`InferenceGate`
lets one run at a time on its device and keeps at most ``queue`` more waiting. A request arriving when the
queue is full is refused at once (the API answers 503 with a ``Retry-After`` estimate from the recent run
times) instead of piling up memory.

Example:
    >>> gate = InferenceGate(queue=0)
    >>> with gate.slot():
    ...     gate.state()["running"]
    1
    >>> gate.state()["running"]
    0
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from imggan.io import DEFAULT_MAX_PIXELS

DEFAULT_MAX_UPLOAD_MB = float(os.environ.get("IMGGAN_SERVE_MAX_UPLOAD_MB", 50))


@dataclass
class ServeConfig:
    """Settings of one server.

    Attributes:
        device: ``auto|cpu|cuda[:N]|mps``; every task runs there.
        max_upload_bytes: a request body larger than this is refused with 413 before it is decoded.
        max_pixels: an image whose header announces more pixels is refused with 413 before decoding.
        queue: requests allowed to wait while one runs; more get 503.
        tile: the tile side passed to every task (``None``: each task's own default strategy).
        allowed_hosts: the names requests must be addressed to (``Host``) and unsafe methods may come from
            (``Origin``); ``None`` checks neither. ``imggan serve`` sets the loopback names when it binds to
            this machine only.
    """

    device: str = "auto"
    max_upload_bytes: int = int(DEFAULT_MAX_UPLOAD_MB * 1024 * 1024)
    max_pixels: int = DEFAULT_MAX_PIXELS
    queue: int = 4
    tile: int | None = None
    allowed_hosts: tuple[str, ...] | None = None


class BusyError(Exception):
    """The gate's queue is full; ``retry_after`` is a whole number of seconds worth waiting."""

    def __init__(self, retry_after: int, waiting: int) -> None:
        super().__init__(f"the server is busy ({waiting} request(s) ahead); retry in about {retry_after} s")
        self.retry_after = retry_after


@dataclass
class InferenceGate:
    """One run at a time, ``queue`` more waiting, the rest refused (:class:`BusyError`).

    Attributes:
        queue: how many requests may wait behind the running one.
    """

    queue: int = 4
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _run: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _inside: int = 0  # running + waiting
    _running: int = 0
    _recent: list[float] = field(default_factory=list, repr=False)

    def _retry_after(self) -> int:
        """Seconds until a place is likely free: the mean recent run time times the requests ahead."""
        mean = sum(self._recent) / len(self._recent) if self._recent else 1.0
        return max(1, math.ceil(mean * max(1, self._inside - self.queue)))

    @contextmanager
    def place(self) -> Iterator[None]:
        """Hold a place in the queue for the block (decoding and checks run here, beside the running one).

        Raises:
            BusyError: one is running and ``queue`` are already waiting.
        """
        with self._lock:
            if self._inside >= 1 + self.queue:
                raise BusyError(self._retry_after(), self._inside)
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1

    @contextmanager
    def running(self) -> Iterator[None]:
        """Wait for the device (blocking the calling thread, inside :meth:`place`) and hold it for the block."""
        with self._run:
            with self._lock:
                self._running += 1
            started = time.perf_counter()
            try:
                yield
            finally:
                with self._lock:
                    self._running -= 1
                    self._recent = [*self._recent[-9:], time.perf_counter() - started]

    @contextmanager
    def slot(self) -> Iterator[None]:
        """:meth:`place` and :meth:`running` together."""
        with self.place(), self.running():
            yield

    def state(self) -> dict[str, int]:
        """``{"running": 0|1, "waiting": n, "queue": capacity}`` (for ``/api/v1/health``)."""
        with self._lock:
            return {"running": self._running, "waiting": self._inside - self._running, "queue": self.queue}
