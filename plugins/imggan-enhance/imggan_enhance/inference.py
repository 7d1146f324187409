"""Loading models (through the core's checked cache) and running them over float tensors, tiled when large.

Example:
    >>> import torch
    >>> from imggan_enhance.inference import auto_tile
    >>> auto_tile(256, 256, None), auto_tile(4000, 3000, None), auto_tile(4000, 3000, 256), auto_tile(4000, 3000, 0)
    (None, 512, 256, None)
"""

from __future__ import annotations

from typing import Any

import torch

from imggan.modelcache import LoadedModel, load_network

AUTO_TILE_PIXELS = 1024 * 1024  # inputs larger than this run in tiles ...
AUTO_TILE = 512  # ... of this side (bounded memory, seamless blending in imggan.tiling)
OVERLAP = {1: 128, 2: 32, 4: 32}  # per scale, in input pixels: the denoiser's receptive field is wide


def load(task: str, model: str | None, device: torch.device | str = "cpu") -> LoadedModel:
    """The network ``--model`` names for ``task`` (name, file or run folder), checked and cached by the core."""
    from imggan_enhance.models import build_model
    from imggan_enhance.zoo import TASK_ARCHS

    return load_network(task, model, build_model, archs=TASK_ARCHS[task], device=device)


def auto_tile(height: int, width: int, tile: int | None) -> int | None:
    """The tile side to use: ``tile`` when given (0 = whole image, no tiling), else :data:`AUTO_TILE` for
    inputs over :data:`AUTO_TILE_PIXELS`, else ``None`` (whole image)."""
    if tile is not None:
        return int(tile) or None
    return AUTO_TILE if height * width > AUTO_TILE_PIXELS else None


def run(model: LoadedModel, x: torch.Tensor, tile: int | None = None, ensemble: int = 1, **kwargs: Any) -> torch.Tensor:
    """Apply the model to ``x`` (``N x 3 x H x W`` in [0, 1]); tiled with overlap when ``tile`` applies.

    ``ensemble`` > 1 averages over that many flipped/rotated copies (:func:`imggan.ensemble.self_ensemble`;
    2, 4 or 8: a little more quality for that many times the time). Keyword arguments (e.g. ``sigma``) are
    passed to the network. The output is clamped to [0, 1].
    """
    from imggan.ensemble import self_ensemble

    x = x.to(model.device)
    side = auto_tile(x.shape[-2], x.shape[-1], tile)

    def fn(t: torch.Tensor) -> torch.Tensor:
        return self_ensemble(model.net, t, int(ensemble), **kwargs)

    with torch.inference_mode():
        if side is None or (x.shape[-2] <= side and x.shape[-1] <= side):
            y = fn(x)
        else:
            from imggan.tiling import tiled_apply

            overlap = min(OVERLAP.get(model.scale, 32), side // 2)
            y = tiled_apply(fn, x, tile=side, overlap=overlap, scale=model.scale, multiple=model.multiple)
        return y.clamp_(0, 1)
