"""Exponential moving average of the generator's weights, used for samples and export.

Averaging G's weights over the last few thousand steps smooths out the oscillation of the adversarial
game; the averaged copy produces visibly cleaner samples than the live G (Karras et al. 2018, Yazici et al.
2019). Early in training the average would drag along the random initialisation, so the decay ramps up:
``beta_t = min(beta, (t + 1) / (t + 1 + rampup))``.

Example:
    >>> import torch
    >>> from imggan.train.ema import make_ema, update_ema
    >>> g = torch.nn.Linear(2, 2); ema = make_ema(g)
    >>> with torch.no_grad(): _ = g.weight.add_(1.0)
    >>> update_ema(ema, g, beta=0.0)     # beta 0: a plain copy
    >>> bool(torch.equal(ema.weight, g.weight))
    True
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema(module: nn.Module) -> nn.Module:
    """A frozen deep copy of ``module`` in eval mode."""
    ema = copy.deepcopy(module).eval()
    ema.requires_grad_(False)
    return ema


def ema_beta(step: int, beta: float, rampup: float) -> float:
    """The decay to use after ``step`` optimizer steps."""
    if rampup <= 0:
        return beta
    return min(beta, (step + 1.0) / (step + 1.0 + rampup))


@torch.no_grad()
def update_ema(ema: nn.Module, module: nn.Module, beta: float) -> None:
    """``ema <- beta * ema + (1 - beta) * module`` for parameters; buffers are copied (one foreach op each)."""
    ema_params = list(ema.parameters())
    params = [p.detach() for p in module.parameters()]
    if ema_params:
        if beta == 0.0:
            torch._foreach_copy_(ema_params, params)
        else:
            torch._foreach_lerp_(ema_params, params, 1.0 - beta)
    ema_bufs = list(ema.buffers())
    if ema_bufs:
        torch._foreach_copy_(ema_bufs, [b.detach() for b in module.buffers()])
