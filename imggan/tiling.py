"""Tiled inference: run a fully convolutional model over an image larger than memory allows.

The image is cut into overlapping tiles; each output tile is weighted by a smooth window (a raised cosine
ramp across the overlap, flat in the middle) and the weighted tiles are summed and normalised, so tile
borders leave no seams. Inputs are padded by reflection to a multiple the model needs (e.g. 8 for three
down-scalings). On out-of-memory the tile side is halved and the image retried.

Example:
    >>> import torch
    >>> from imggan.tiling import tiled_apply
    >>> conv = torch.nn.Conv2d(3, 3, 3, padding=1)
    >>> x = torch.rand(1, 3, 100, 130)
    >>> with torch.no_grad():
    ...     y = tiled_apply(conv, x, tile=48, overlap=16)
    ...     torch.allclose(y[..., 8:-8, 8:-8], conv(x)[..., 8:-8, 8:-8], atol=1e-5)
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from imggan.device import is_out_of_memory


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad the bottom/right of ``x`` so H and W are multiples of ``multiple``.

    Returns the padded tensor and the original ``(H, W)`` to crop back to.
    """
    h, w = x.shape[-2:]
    ph = (-h) % multiple
    pw = (-w) % multiple
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


def _ramp(length: int, overlap: int, start: bool, end: bool, device: torch.device) -> torch.Tensor:
    """1-D blending weights of one tile along one axis.

    At an edge shared with a neighbour, the first quarter of the overlap gets weight 0 (the model saw
    padding there, not the neighbouring pixels), the middle half rises along a raised cosine, the rest is 1.
    Two neighbours' weights sum to 1 across the overlap.
    """
    weights = torch.ones(length, device=device)
    margin = overlap // 4
    rise_len = overlap - 2 * margin
    if overlap > 0:
        t = (torch.arange(rise_len, device=device, dtype=torch.float32) + 0.5) / max(rise_len, 1)
        rise = torch.cat([torch.zeros(margin, device=device), 0.5 - 0.5 * torch.cos(math.pi * t)])
        if start:
            weights[: rise.numel()] = rise
        if end:
            weights[length - rise.numel() :] = rise.flip(0)
    return weights


def _starts(size: int, tile: int, step: int) -> list[int]:
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, step))
    starts.append(size - tile)
    return sorted(set(starts))


def _tiled(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, tile: int, overlap: int, scale: int
) -> torch.Tensor:
    n, _, h, w = x.shape
    step = max(tile - overlap, 1)
    ys, xs = _starts(h, tile, step), _starts(w, tile, step)
    out: torch.Tensor | None = None
    norm = torch.zeros(1, 1, h * scale, w * scale, device=x.device)
    for y0 in ys:
        for x0 in xs:
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            piece = fn(x[..., y0:y1, x0:x1])
            if out is None:
                out = torch.zeros(n, piece.shape[1], h * scale, w * scale, device=x.device, dtype=piece.dtype)
            wy = _ramp((y1 - y0) * scale, overlap * scale, y0 > 0, y1 < h, x.device)
            wx = _ramp((x1 - x0) * scale, overlap * scale, x0 > 0, x1 < w, x.device)
            weight = (wy[:, None] * wx[None, :])[None, None]
            ys_, xs_ = slice(y0 * scale, y1 * scale), slice(x0 * scale, x1 * scale)
            out[..., ys_, xs_] += piece * weight.to(piece.dtype)
            norm[..., ys_, xs_] += weight
    assert out is not None
    return out / norm.clamp_min(1e-8).to(out.dtype)


def tiled_apply(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    tile: int | None = 512,
    overlap: int = 32,
    scale: int = 1,
    multiple: int = 1,
    min_tile: int = 64,
) -> torch.Tensor:
    """Apply ``fn`` (NxCxHxW -> NxC'x(H*scale)x(W*scale)) tile by tile with smooth blending.

    Args:
        fn: the model (fully convolutional; its output is ``scale`` times its input).
        x: input batch.
        tile: tile side in input pixels; ``None`` or ``0`` runs the whole image at once (still retried in
            tiles of 512 on out-of-memory).
        overlap: overlap between neighbouring tiles in input pixels; results agree with an untiled run
            away from image borders when ``overlap`` is at least 4x the model's receptive-field radius
            (the outer quarter of each overlap is discarded, the middle half cross-fades).
        scale: output/input size ratio (2 or 4 for upscalers).
        multiple: the model needs H and W divisible by this; input (and tiles) are padded to it.
        min_tile: smallest tile tried after repeated out-of-memory errors before giving up.

    Returns:
        The output, cropped to exactly ``scale`` times the input size.
    """
    h, w = x.shape[-2:]
    padded, _ = pad_to_multiple(x, multiple)
    if tile:
        tile = max(multiple, tile - tile % multiple)
        overlap = min(overlap - overlap % multiple if multiple > 1 else overlap, tile // 2)
    while True:
        try:
            if not tile or (padded.shape[-2] <= tile and padded.shape[-1] <= tile):
                y = fn(padded)
            else:
                y = _tiled(fn, padded, tile, overlap, scale)
            return y[..., : h * scale, : w * scale]
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            if x.device.type == "cuda":
                torch.cuda.empty_cache()
            next_tile = 512 if not tile else tile // 2
            next_tile -= next_tile % multiple
            if next_tile < min_tile or (tile and next_tile >= tile):
                raise
            tile = next_tile
            overlap = min(overlap, tile // 4)
