"""What a step logs, kept on the device: scalars are stacked per step and read only at the log interval.

Reading a loss with ``float()`` or ``.item()`` waits for the device to finish; doing that every step costs
more than a small model's arithmetic on a GPU. The recorder instead stacks each step's scalars into one
tensor (a handful of kernels, no synchronisation), folds their finiteness into one boolean tensor for the
NaN/inf guard, and turns everything into Python floats once per log interval (one copy, all-reduced over
the ranks under torchrun).

Example:
    >>> import torch
    >>> from imggan.train.recorder import StepRecorder
    >>> rec = StepRecorder(torch.device("cpu"))
    >>> for value in (1.0, 3.0):
    ...     rec.record("g/l1", torch.tensor(value)); rec.end_step()
    >>> rec.means(), bool(rec.finite)
    ({'g/l1': 2.0}, True)
"""

from __future__ import annotations

import time

import torch
from torch import Tensor

from imggan.train import distributed as dist_utils


class StepRecorder:
    """Per-step scalars and the finiteness flag of the guard, accumulated on ``device``.

    Args:
        device: where the scalars live.
        world_size: processes whose means are averaged (under torchrun).
    """

    def __init__(self, device: torch.device, world_size: int = 1) -> None:
        self.device = device
        self.world_size = world_size
        self.first_step: dict[str, float] | None = None  # the run's first recorded step (divergence guard)
        self.reset()

    def reset(self) -> None:
        """Forget everything since the last read (after a log, a rollback or a warm-up step)."""
        self.history: list[tuple[tuple[str, ...], Tensor]] = []
        self._checked: list[tuple[str, Tensor]] = []
        self._unchecked: list[tuple[str, Tensor]] = []
        self.finite = torch.ones((), dtype=torch.bool, device=self.device)
        self.interval_start = time.perf_counter()
        self.interval_steps = 0

    def record(self, key: str, value: Tensor, check: bool = True) -> None:
        """Remember a scalar for the log; ``check`` ones also feed the NaN/inf guard (no sync here)."""
        (self._checked if check else self._unchecked).append((key, value.detach().float().reshape(())))

    def end_step(self) -> None:
        """Stack the step's scalars into one tensor and fold their finiteness into :attr:`finite`."""
        self.interval_steps += 1
        pairs = self._checked + self._unchecked
        if not pairs:
            return
        values = torch.stack([v for _, v in pairs])
        if self._checked:
            self.finite &= torch.isfinite(values[: len(self._checked)]).all()
        self.history.append((tuple(k for k, _ in pairs), values))
        self._checked, self._unchecked = [], []

    def means(self) -> dict[str, float]:
        """Mean of every scalar since the last read (over steps and ranks); clears the history."""
        if not self.history:
            return {}
        flat = torch.cat([values for _, values in self.history])
        if self.world_size > 1:
            flat = dist_utils.all_reduce_sum(flat) / self.world_size
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        listed = flat.tolist()  # the one device-to-host copy of the interval
        if self.first_step is None:
            keys = self.history[0][0]
            self.first_step = dict(zip(keys, listed[: len(keys)], strict=True))
        numbers = iter(listed)
        for keys, _ in self.history:
            for key in keys:
                sums[key] = sums.get(key, 0.0) + next(numbers)
                counts[key] = counts.get(key, 0) + 1
        self.history = []
        return {key: sums[key] / counts[key] for key in sorted(sums)}

    def throughput(self, images_per_step: int) -> float:
        """Images per second since the interval began; starts the next interval."""
        elapsed = max(time.perf_counter() - self.interval_start, 1e-9)
        value = self.interval_steps * images_per_step / elapsed
        self.interval_start = time.perf_counter()
        self.interval_steps = 0
        return value
