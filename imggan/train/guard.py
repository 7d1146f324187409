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
