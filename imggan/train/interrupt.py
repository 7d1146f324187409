"""Save-before-exit on SIGINT/SIGTERM: the first signal asks the loop to stop after the current step.

The training loop polls :attr:`StopRequest.requested`, saves a checkpoint and returns; a second SIGINT
raises :class:`KeyboardInterrupt` at once for a user who really wants out. Handlers are installed only in
the main thread and the previous ones are restored on exit.

Example:
    >>> import os, signal
    >>> from imggan.train.interrupt import StopRequest
    >>> with StopRequest() as stop:
    ...     os.kill(os.getpid(), signal.SIGTERM)
    ...     stop.requested
    True
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any


class StopRequest:
    """Context manager turning SIGINT/SIGTERM into a polled flag."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self.signal_name: str | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        self.signal_name = signal.Signals(signum).name

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
