"""What a run reports: a JSONL log of every term, TensorBoard scalars (when installed) and a progress bar.

Only rank 0 creates a :class:`Monitor` that writes; the others get a silent one.

Example:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from imggan.train.monitor import Monitor
    >>> run = Path(tempfile.mkdtemp())
    >>> with Monitor(run, total=10, progress=False, tensorboard=False) as mon:
    ...     mon.log(5, {"g/adv": 0.7})
    >>> json.loads((run / "log.jsonl").read_text())["g/adv"]
    0.7
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any

TENSORBOARD_MISSING = (
    "TensorBoard logging was asked for (tensorboard = true) but the tensorboard package is not installed: "
    "pip install tensorboard (or --set tensorboard=false); the run logs to log.jsonl only"
)


class Monitor:
    """Writes ``RUN/log.jsonl`` (appending across resumes), TensorBoard events and a tqdm bar.

    Args:
        run_dir: the run folder; ``None`` for a silent monitor (ranks other than 0, dry runs).
        total: number of steps of the run (for the bar).
        initial: the step the run starts from (resume).
        progress: show a tqdm bar.
        tensorboard: TensorBoard scalars under ``RUN/tb``: ``"auto"`` when the package is installed, ``True``
            also says how to install it when it is not (one warning line), ``False`` never.
    """

    def __init__(
        self,
        run_dir: Path | None,
        total: int,
        initial: int = 0,
        progress: bool = True,
        tensorboard: bool | str = "auto",
    ) -> None:
        self.run_dir = run_dir
        self.handle = None
        self.writer = None
        self.bar = None
        if run_dir is None:
            return
        run_dir.mkdir(parents=True, exist_ok=True)
        self.handle = open(run_dir / "log.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, dynamic_ncols=True, unit="step", leave=True)
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(run_dir / "tb"), purge_step=initial or None)
            except ImportError:  # not installed: JSONL still has everything
                self.writer = None
                if tensorboard is True:
                    self.warn(initial, TENSORBOARD_MISSING)

    def log(self, step: int, values: dict[str, Any]) -> None:
        """Append one record (``step``, wall time and ``values``) and update TensorBoard and the bar."""
        if self.handle is None:
            return
        record = {"step": step, "time": round(time.time(), 3)}
        record.update({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()})
        self.handle.write(json.dumps(record) + "\n")
        self.handle.flush()
        if self.writer is not None:
            for key, value in values.items():
                if isinstance(value, int | float) and math.isfinite(value):
                    self.writer.add_scalar(key, value, step)
        if self.bar is not None:
            shown = {k.split("/")[-1] if k.startswith("g/") else k: v for k, v in values.items()}
            keys = [k for k in ("total", "adv", "d/loss", "d/acc", "ada_p") if k in shown]
            self.bar.set_postfix({k: f"{shown[k]:.3g}" for k in keys}, refresh=False)

    def event(self, step: int, message: str, **extra: Any) -> None:
        """Log a non-scalar event (rollback, checkpoint, interrupt) in the JSONL and on the bar."""
        if self.handle is None:
            return
        self.handle.write(json.dumps({"step": step, "time": round(time.time(), 3), "event": message, **extra}) + "\n")
        self.handle.flush()
        if self.bar is not None:
            self.bar.write(f"[step {step}] {message}")

    def warn(self, step: int, message: str) -> None:
        """An event that is also printed on stderr (one line), with or without a progress bar."""
        if self.handle is None:
            return
        self.handle.write(json.dumps({"step": step, "time": round(time.time(), 3), "event": message}) + "\n")
        self.handle.flush()
        line = f"imggan train: warning: {message}"
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def image(self, step: int, tag: str, image: Any) -> None:
        """Add a CxHxW image to TensorBoard."""
        if self.writer is not None:
            self.writer.add_image(tag, image, step)

    def advance(self, steps: int = 1) -> None:
        """Move the bar."""
        if self.bar is not None:
            self.bar.update(steps)

    def close(self) -> None:
        """Flush and close everything."""
        if self.bar is not None:
            self.bar.close()
        if self.writer is not None:
            self.writer.close()
        if self.handle is not None:
            self.handle.close()
        self.handle = self.writer = self.bar = None

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LogCapture(logging.Handler):
    """Collects the warnings of the ``imggan`` loggers (skipped training images, say) for the run's log.

    Use as a context manager around the run; :meth:`drain` hands over what was collected since the last call.
    """

    def __init__(self, name: str = "imggan") -> None:
        super().__init__(logging.WARNING)
        self.logger = logging.getLogger(name)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record's message."""
        self.messages.append(record.getMessage())

    def drain(self) -> list[str]:
        """The messages collected so far (then forgotten)."""
        out, self.messages = self.messages, []
        return out

    def __enter__(self) -> LogCapture:
        self.logger.addHandler(self)
        self._propagate = self.logger.propagate
        self.logger.propagate = False  # the run prints them itself, once
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)
        self.logger.propagate = self._propagate
