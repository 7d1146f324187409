"""Geometric self-ensemble: run an image-to-image network on flipped/rotated copies and average the results.

A network trained without a preferred orientation errs differently on each of the 8 dihedral transforms of an
image; undoing the transform and averaging cancels part of those errors (about +0.1 dB with 2 copies and
+0.25 dB with 8 for the shipped denoiser, see benchmarks/RESULTS.md) at N times the cost. Works for any
fully-convolutional network, including upscalers (the output is transformed back at its own size).

Example:
    >>> import torch
    >>> from imggan.ensemble import self_ensemble
    >>> x = torch.rand(1, 3, 8, 6)
    >>> torch.allclose(self_ensemble(lambda t: t * 2, x, 8), x * 2)
    True
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

SIZES = (1, 2, 4, 8)
# Transforms as (quarter turns, horizontal flip), ordered so any prefix of a size in SIZES is balanced:
# 2 = identity + mirror, 4 = adds the two 180-degree versions (shapes unchanged), 8 = adds the 90-degree ones.
_ORDER = ((0, False), (0, True), (2, False), (2, True), (1, False), (1, True), (3, False), (3, True))


def _forward(t: Tensor, turns: int, flip: bool) -> Tensor:
    t = torch.rot90(t, turns, (-2, -1)) if turns else t
    return t.flip(-1) if flip else t


def _inverse(t: Tensor, turns: int, flip: bool) -> Tensor:
    t = t.flip(-1) if flip else t
    return torch.rot90(t, -turns, (-2, -1)) if turns else t


def self_ensemble(fn: Callable[..., Tensor], x: Tensor, size: int = 8, **kwargs: object) -> Tensor:
    """The mean of ``inverse_k(fn(forward_k(x)))`` over the first ``size`` dihedral transforms.

    Args:
        fn: image-to-image function on ``N x C x H x W`` tensors (any output scale).
        x: the input batch.
        size: 1, 2, 4 or 8 transforms (1 = a plain call).
        **kwargs: passed to ``fn``; 4-D tensors among them (per-pixel maps) are transformed with ``x``.

    Raises:
        ValueError: ``size`` not in 1, 2, 4, 8.
    """
    if size not in SIZES:
        raise ValueError(f"ensemble size {size}: expected one of {', '.join(map(str, SIZES))}")
    total: Tensor | None = None
    for turns, flip in _ORDER[:size]:
        args = {k: _forward(v, turns, flip) if isinstance(v, Tensor) and v.ndim == 4 else v for k, v in kwargs.items()}
        y = _inverse(fn(_forward(x, turns, flip), **args), turns, flip)
        total = y if total is None else total.add_(y)
    assert total is not None
    return total / size if size > 1 else total
