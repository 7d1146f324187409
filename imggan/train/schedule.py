"""Learning-rate schedules: a factor of the base learning rates as a pure function of the step.

A pure function of ``(config, step)`` keeps exact resume exact: a resumed run recomputes the same factor for
the same step, with nothing to store. Both optimizers (G and D) follow the same factor, so the TTUR ratio holds.

Keys (see :data:`imggan.train.config.TRAINER_DEFAULTS`):
    ``lr_schedule``: ``constant`` | ``cosine`` | ``linear``.
    ``lr_warmup``: linear warm-up steps from 0, counted from step 0.
    ``lr_decay_start``: the step the decay starts from (useful when a run is resumed to fine-tune: the decay
    then spans ``lr_decay_start .. steps``).
    ``lr_min_factor``: the factor reached at ``steps``.

Example:
    >>> from imggan.train.schedule import lr_schedule_factor
    >>> config = {"lr_schedule": "cosine", "steps": 100, "lr_min_factor": 0.0}
    >>> lr_schedule_factor(config, 0), round(lr_schedule_factor(config, 50), 3), lr_schedule_factor(config, 100)
    (1.0, 0.5, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

SCHEDULES = ("constant", "cosine", "linear")


def lr_schedule_factor(config: Mapping[str, Any], step: int) -> float:
    """The multiplier of the base learning rates at ``step`` (0-based, before the step's update).

    Raises:
        ValueError: an unknown ``lr_schedule`` name.
    """
    name = str(config.get("lr_schedule") or "constant")
    if name not in SCHEDULES:
        raise ValueError(f"lr_schedule {name!r}: expected one of {', '.join(SCHEDULES)}")
    warmup = int(config.get("lr_warmup") or 0)
    factor = 1.0
    if warmup > 0 and step < warmup:
        factor = (step + 1) / warmup
    if name == "constant":
        return factor
    total = int(config.get("steps") or 1)
    start = max(int(config.get("lr_decay_start") or 0), warmup)
    floor = float(config.get("lr_min_factor") or 0.0)
    span = max(1, total - start)
    progress = min(1.0, max(0.0, (step - start) / span))
    if name == "cosine":
        decay = 0.5 * (1.0 + math.cos(math.pi * progress))
    else:
        decay = 1.0 - progress
    return factor * (floor + (1.0 - floor) * decay)
