"""A minimal supervised fitting loop for a recipe: used by the tests and for quick learning checks.

The shipped models are trained with the core trainer (``imggan train denoise|upscale``); this loop only
runs a recipe's generator with Adam on its reconstruction objective (L1), so a test can check in seconds
that a tiny model learns.

Example:
    >>> from imggan_enhance.quickfit import fit_fixed_batch
    >>> from imggan_enhance.models import build_model
    >>> import torch
    >>> torch.manual_seed(0) and None
    >>> net = build_model({"name": "upscale-res", "scale": 2, "width": 8, "blocks": 1})
    >>> x = torch.rand(2, 3, 16, 16)
    >>> losses = fit_fixed_batch(net, lambda G: G(x[..., ::2, ::2]), x, steps=5)
    >>> len(losses)
    5
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def fit_fixed_batch(
    model: nn.Module,
    forward: Callable[[nn.Module], torch.Tensor],
    target: torch.Tensor,
    steps: int = 30,
    lr: float = 1e-3,
) -> list[float]:
    """Fit ``model`` with Adam and L1 so that ``forward(model)`` approaches ``target``; returns the losses."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = (forward(model) - target).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses
