"""The NaN/inf guard: keep a recent known-good copy of the training state and roll back to it.

A GAN that produces a non-finite loss or gradient does not recover by itself: the next optimizer step writes
NaN into the weights. The trainer checks a finiteness flag every ``check_every`` steps; when it is set it
restores the snapshot (G, D, EMA, optimizers, scaler, ADA), multiplies both learning rates by
``guard_lr_factor`` and goes on with fresh batches. After ``guard_max_rollbacks`` rollbacks it stops with
:class:`TrainingDiverged` instead of looping forever.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from imggan.errors import ImgganError


class TrainingDiverged(ImgganError):
    """Training kept producing non-finite values after the allowed number of rollbacks."""


def _clone(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clone(v) for v in value)
    return copy.deepcopy(value)


class Snapshot:
    """An in-memory copy of named ``state_dict``-bearing objects (modules, optimizers, scalers, ADA)."""

    def __init__(self, step: int, objects: dict[str, Any]) -> None:
        self.step = step
        self.states = {name: _clone(obj.state_dict()) for name, obj in objects.items() if obj is not None}

    def restore(self, objects: dict[str, Any]) -> None:
        """Load the copies back (they stay valid for another rollback)."""
        for name, obj in objects.items():
            if obj is not None and name in self.states:
                obj.load_state_dict(_clone(self.states[name]))


class DivergenceGuard:
    """Stops a run whose generator loss grows by orders of magnitude (a fine-tune at too high a rate, say).

    Non-finite values are the rollback's job; a loss that stays finite but explodes (L1 from 0.02 to 1e7)
    is not caught by it and would export a broken model. The guard compares the magnitude of each logged
    mean of ``g/total`` with the run's first step: beyond ``growth`` times it (and an absolute floor, so a
    loss that starts near zero does not trip it), the run stops with :class:`TrainingDiverged`.

    Args:
        growth: the allowed factor; 0 switches the guard off.
        floor: the smallest reference magnitude used.

    Example:
        >>> guard = DivergenceGuard(1e3)
        >>> guard.check(10, {"g/total": 0.05}, {"g/total": 0.02}) is None
        True
        >>> "grew" in guard.check(20, {"g/total": 9e6}, {"g/total": 0.02})
        True
    """

    KEY = "g/total"

    def __init__(self, growth: float, floor: float = 1e-2) -> None:
        self.growth = float(growth)
        self.floor = floor

    def check(self, step: int, means: dict[str, float], first: dict[str, float] | None) -> str | None:
        """The reason to stop at ``step`` given the interval's ``means`` and the ``first`` step, or ``None``."""
        if self.growth <= 0 or not first or self.KEY not in means or self.KEY not in first:
            return None
        now, start = abs(means[self.KEY]), abs(first[self.KEY])
        if now != now or now <= self.growth * max(start, self.floor):  # NaN is the rollback's job
            return None
        return (
            f"the generator loss grew from {start:.4g} to {now:.4g} by step {step} (more than "
            f"guard_growth = {self.growth:g} times): training diverged; nothing is exported. Lower the learning "
            "rate (--set lr_g=...), add a warm-up (--set lr_warmup=200) or clip gradients (--set grad_clip=1)"
        )
