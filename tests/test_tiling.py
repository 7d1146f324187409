"""Tiled inference: matches the untiled model away from borders, scales, pads, and falls back on OOM."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from imggan.tiling import _ramp, pad_to_multiple, tiled_apply


def small_cnn(scale: int = 1, seed: int = 0) -> nn.Module:
    """Three 3x3 convolutions (receptive-field radius 3), optionally ending in a pixel shuffle."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = [
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 3 * scale * scale, 3, padding=1),
    ]
    if scale > 1:
        layers.append(nn.PixelShuffle(scale))
    return nn.Sequential(*layers).eval()


def interior(t: torch.Tensor, margin: int) -> torch.Tensor:
    return t[..., margin:-margin, margin:-margin]


@torch.no_grad()
@pytest.mark.parametrize("tile,overlap", [(32, 16), (40, 12), (24, 16)])
def test_tiled_matches_untiled_away_from_borders(tile, overlap):
    """A 3-layer CNN run in overlapping tiles equals the whole-image run within 1e-4 away from the borders."""
    model = small_cnn()
    x = torch.rand(2, 3, 70, 93, generator=torch.Generator().manual_seed(1))
    full = model(x)
    tiled = tiled_apply(model, x, tile=tile, overlap=overlap)
    assert tiled.shape == full.shape
    assert (interior(tiled, 4) - interior(full, 4)).abs().max() < 1e-4


@torch.no_grad()
def test_tiled_pixel_shuffle_scale_2_with_multiple_8():
    """With scale=2 (pixel shuffle) and multiple=8 on a 67x93 input, tiles match the untiled result."""
    model = small_cnn(scale=2)
    x = torch.rand(1, 3, 67, 93, generator=torch.Generator().manual_seed(2))
    padded, (h, w) = pad_to_multiple(x, 8)
    full = model(padded)[..., : 2 * h, : 2 * w]
    tiled = tiled_apply(model, x, tile=36, overlap=16, scale=2, multiple=8)
    assert tiled.shape == (1, 3, 134, 186)
    assert (interior(tiled, 8) - interior(full, 8)).abs().max() < 1e-4


@torch.no_grad()
def test_multiple_pads_each_tile_call():
    """With multiple=8 every call the model sees has H and W divisible by 8."""
    seen: list[tuple[int, int]] = []

    def fn(t: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(t.shape[-2:]))
        return t * 2

    x = torch.rand(1, 3, 50, 77)
    y = tiled_apply(fn, x, tile=30, overlap=8, multiple=8)
    assert y.shape == x.shape
    assert torch.allclose(y, x * 2, atol=1e-6)
    assert len(seen) > 1 and all(h % 8 == 0 and w % 8 == 0 for h, w in seen)


@torch.no_grad()
def test_small_image_or_no_tile_runs_whole():
    """An image no larger than the tile, or tile=None, is a single model call."""
    calls: list[tuple] = []

    def fn(t: torch.Tensor) -> torch.Tensor:
        calls.append(tuple(t.shape))
        return t + 1

    x = torch.rand(1, 3, 20, 30)
    assert torch.equal(tiled_apply(fn, x, tile=64), x + 1)
    assert torch.equal(tiled_apply(fn, x, tile=None), x + 1)
    assert calls == [(1, 3, 20, 30), (1, 3, 20, 30)]


@torch.no_grad()
def test_blending_weights_sum_to_one():
    """Tiling the identity reproduces the input everywhere (the blend weights normalise exactly)."""
    x = torch.rand(1, 1, 90, 61)
    assert torch.allclose(tiled_apply(lambda t: t, x, tile=32, overlap=16), x, atol=1e-6)
    rise = _ramp(32, 16, start=True, end=False, device=torch.device("cpu"))[:16]
    assert torch.allclose(rise + rise.flip(0), torch.ones(16))


@torch.no_grad()
def test_out_of_memory_falls_back_to_smaller_tiles():
    """A model that runs out of memory above 4096 pixels still yields the full, correct result via smaller tiles."""
    model = small_cnn()
    limit = 64 * 64
    sizes: list[tuple[int, int]] = []

    def fussy(t: torch.Tensor) -> torch.Tensor:
        sizes.append(tuple(t.shape[-2:]))
        if t.shape[-2] * t.shape[-1] > limit:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return model(t)

    x = torch.rand(1, 3, 150, 170, generator=torch.Generator().manual_seed(3))
    y = tiled_apply(fussy, x, tile=None, min_tile=32)
    assert y.shape == (1, 3, 150, 170)
    assert (interior(y, 4) - interior(model(x), 4)).abs().max() < 1e-4
    assert sizes[0] == (150, 170)  # tried whole first
    served = [(h, w) for h, w in sizes if h * w <= limit]
    assert len(served) >= 9  # the result came from many small tiles
    assert sizes[-len(served) :] == served  # once small enough, no tile failed again


@torch.no_grad()
def test_out_of_memory_message_variant_is_recognised():
    """A RuntimeError saying 'out of memory' (older torch, MPS) also triggers the fallback."""

    def fn(t: torch.Tensor) -> torch.Tensor:
        if t.shape[-1] > 64:
            raise RuntimeError("MPS backend out of memory")
        return t

    x = torch.rand(1, 3, 100, 100)
    assert torch.allclose(tiled_apply(fn, x, tile=128, overlap=16), x, atol=1e-6)


@torch.no_grad()
def test_out_of_memory_gives_up_below_min_tile():
    """When even min_tile runs out of memory, the OOM error is raised (no endless loop)."""

    def always_oom(t: torch.Tensor) -> torch.Tensor:
        raise torch.OutOfMemoryError("out of memory")

    with pytest.raises(torch.OutOfMemoryError):
        tiled_apply(always_oom, torch.rand(1, 3, 300, 300), tile=256, min_tile=64)


@torch.no_grad()
def test_other_errors_are_not_retried():
    """A non-memory error propagates at once, after one call."""
    calls = []

    def broken(t: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        raise ValueError("bad weights")

    with pytest.raises(ValueError, match="bad weights"):
        tiled_apply(broken, torch.rand(1, 3, 100, 100), tile=32)
    assert len(calls) == 1


def test_pad_to_multiple():
    """pad_to_multiple pads bottom/right by reflection and reports the original size; tiny inputs replicate."""
    x = torch.arange(12.0).reshape(1, 1, 3, 4)
    padded, size = pad_to_multiple(x, 4)
    assert size == (3, 4) and padded.shape == (1, 1, 4, 4)
    assert torch.equal(padded[..., 3, :], x[..., 1, :])  # reflection of the row above the border
    same, _ = pad_to_multiple(x, 1)
    assert same is x
    tiny, _ = pad_to_multiple(torch.rand(1, 1, 1, 1), 8)
    assert tiny.shape == (1, 1, 8, 8)
