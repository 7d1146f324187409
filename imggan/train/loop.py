"""The training loop: it only orchestrates the :class:`~imggan.train.trainer.Trainer`'s public steps.

Per step it runs :meth:`Trainer.train_step` (which never waits for the device) and then, on its intervals:

- every ``check_every`` steps (default: the log interval), at the end, and as soon as a stop is requested:
  the one device sync of the interval -- everything finite? a stop asked for on any rank? A non-finite value
  rolls back to the last snapshot (learning rates lowered); otherwise ADA is adjusted and, once
  ``guard_every`` steps have passed, a new snapshot is taken;
- every ``log_every`` steps: the means go to ``log.jsonl`` / TensorBoard, and the divergence guard compares
  the G loss with the run's first step (:class:`~imggan.train.guard.DivergenceGuard`);
- every ``sample_every`` / ``ckpt_every`` steps: a sample grid / a checkpoint.

A stop request (SIGINT/SIGTERM) saves a checkpoint and returns; at the end the last checkpoint, grid and the
export are written -- except after a divergence, which raises before anything is exported.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from imggan.train.guard import DivergenceGuard, TrainingDiverged
from imggan.train.interrupt import StopRequest
from imggan.train.monitor import LogCapture, Monitor
from imggan.train.trainer import Trainer


def run_loop(
    trainer: Trainer, latest: Path | None, notes: list[str], started: float, capture: LogCapture | None = None
) -> dict[str, Any]:
    """Train ``trainer`` up to ``config["steps"]`` and return the run's stats (see :func:`imggan.train.api.train`).

    Args:
        trainer: a built trainer (restored from ``latest`` when resuming).
        latest: the checkpoint it resumed from, or ``None``.
        notes: warnings for the run's log (printed on stderr too), e.g. config keys a resume kept.
        started: ``time.perf_counter()`` when the run began.
        capture: the collector of the ``imggan`` loggers' warnings (skipped training images).

    Raises:
        TrainingDiverged: non-finite values after every allowed rollback, or a loss grown by orders of
            magnitude; nothing is exported then.
    """
    config = trainer.config
    total = int(config["steps"])
    log_every = max(1, int(config.get("log_every") or 1))
    check_every = trainer.check_every
    ckpt_every = int(config.get("ckpt_every") or 0)
    sample_every = int(config.get("sample_every") or 0)
    guard_every = max(1, int(config.get("guard_every") or 1))
    divergence = DivergenceGuard(float(config.get("guard_growth") or 0.0))
    monitor = Monitor(
        trainer.run_dir if trainer.writes else None,
        total=total,
        initial=trainer.step,
        progress=bool(config.get("progress", True)),
        tensorboard=config.get("tensorboard", "auto"),
    )

    def drain() -> None:
        for message in capture.drain() if capture is not None else []:
            monitor.warn(trainer.step, message)
        while trainer.pending_events:
            monitor.event(trainer.step, trainer.pending_events.pop(0))

    if trainer.writes and trainer.run_dir is not None:
        import json

        from imggan.weights import atomic_write_bytes

        text = json.dumps(config, indent=1, default=str) + "\n"
        atomic_write_bytes(trainer.run_dir / "config.json", text.encode())
    with monitor:
        for message in notes:
            monitor.warn(trainer.step, message)
        if latest is not None:
            monitor.event(trainer.step, f"resumed from {latest.name}")
        drain()
        trainer.take_snapshot()
        last_record: dict[str, float] = {}
        last_ckpt: Path | None = None
        saved_at = trainer.step if latest is not None else -1
        interrupted = False
        single = not trainer.info.enabled
        with StopRequest() as stop:
            while trainer.step < total:
                trainer.train_step()
                drain()
                monitor.advance()
                at_end = trainer.step >= total
                logging_now = trainer.step % log_every == 0 or at_end
                asked = single and stop.requested  # a host flag: no sync needed to see it in one process
                if trainer.step % check_every == 0 or logging_now or asked:
                    ok, stopping = trainer.check(stop)
                    if not ok:
                        message = trainer.rollback()
                        monitor.event(trainer.step, message, rollbacks=trainer.rollbacks)
                        continue
                    trainer.ada_update()
                    if trainer.step - trainer.snapshot_step >= guard_every:
                        trainer.take_snapshot()
                    if logging_now or stopping:
                        record = trainer.log_record()
                        if record:
                            monitor.log(trainer.step, record)
                            last_record = record
                            reason = divergence.check(trainer.step, record, trainer.rec.first_step)
                            if reason is not None:
                                monitor.event(trainer.step, reason)  # the CLI prints it as its error line
                                raise TrainingDiverged(reason)
                    if stopping:
                        interrupted = True
                        monitor.event(trainer.step, f"stopping on {stop.signal_name or 'request'}: saving")
                        last_ckpt = trainer.save_checkpoint()
                        saved_at = trainer.step
                        break
                if sample_every and trainer.step % sample_every == 0:
                    last_record.update(trainer.write_samples(monitor))
                if ckpt_every and trainer.step % ckpt_every == 0:
                    last_ckpt = trainer.save_checkpoint()
                    saved_at = trainer.step
        if not interrupted:
            if saved_at != trainer.step:
                last_ckpt = trainer.save_checkpoint()
            if not sample_every or trainer.step % sample_every:
                last_record.update(trainer.write_samples(monitor))
        exported = trainer.export() if (not interrupted and config.get("export", True)) else None
        drain()
    return {
        "step": trainer.step,
        "losses": last_record,
        "interrupted": interrupted,
        "rollbacks": trainer.rollbacks,
        "checkpoint": str(last_ckpt) if last_ckpt else None,
        "export": str(exported) if exported else None,
        "ada_p": trainer.aug.p,
        "seconds": time.perf_counter() - started,
        "run_dir": str(trainer.run_dir),
    }
