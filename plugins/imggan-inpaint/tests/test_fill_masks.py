"""The classical pyramid fill and the synthetic masks."""

from __future__ import annotations

import numpy as np
import torch

from imggan_inpaint.fill import pyramid_fill
from imggan_inpaint.masks import blob_mask, rect_mask, stroke_mask, training_mask


def test_fill_keeps_known_pixels_and_continues_a_ramp() -> None:
    ramp = torch.linspace(0, 1, 96).expand(2, 3, 96, 96).contiguous()
    hole = torch.zeros(2, 1, 96, 96)
    hole[0, :, 30:60, 20:70] = 1
    hole[1, :, 10:90, 40:50] = 1
    out = pyramid_fill(ramp * (1 - hole) + hole * 0.7, hole)
    assert torch.equal(out * (1 - hole), ramp * (1 - hole))
    assert (out - ramp).abs().max() < 0.03


def test_fill_beats_the_hole_mean_on_a_smooth_image(image256, hole256) -> None:
    from imggan.tensors import image_to_tensor

    x = image_to_tensor(image256)
    hole = torch.from_numpy(hole256 > 0).float()[None, None]
    out = pyramid_fill(x * (1 - hole), hole)
    err_fill = ((out - x).abs() * hole).sum() / hole.sum()
    known_mean = (x * (1 - hole)).sum((-2, -1), keepdim=True) / (1 - hole).sum()
    err_mean = ((known_mean - x).abs() * hole).sum() / hole.sum()
    assert err_fill < 0.3 * err_mean


def test_benchmark_masks_follow_the_protocol() -> None:
    rng = np.random.default_rng(0)
    strokes = [(stroke_mask(256, 256, rng, (0.1, 0.3), (6, 22)) > 0).mean() for _ in range(30)]
    rects = [(rect_mask(256, 256, rng, (0.04, 0.11)) > 0).mean() for _ in range(30)]
    assert min(strokes) >= 0.1 and max(strokes) <= 0.31
    assert min(rects) >= 0.039 and max(rects) <= 0.111


def test_training_masks_cover_5_to_50_percent() -> None:
    rng = np.random.default_rng(1)
    cover = [(training_mask(128, 128, rng) > 0).mean() for _ in range(100)]
    assert min(cover) >= 0.04 and max(cover) <= 0.5
    assert (blob_mask(64, 64, rng) > 0).any()


def _reference_sweeps(x: torch.Tensor, hole: torch.Tensor, iterations: int) -> torch.Tensor:
    """Laplace Jacobi sweeps written plainly: every hole pixel becomes the mean of its 4 neighbours."""
    for _ in range(iterations):
        p = torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate")
        mean = (p[..., :-2, 1:-1] + p[..., 2:, 1:-1] + p[..., 1:-1, :-2] + p[..., 1:-1, 2:]) * 0.25
        x = torch.lerp(x, mean, hole)
    return x


def test_the_fast_sweeps_match_plain_jacobi_sweeps_bit_for_bit() -> None:
    from imggan_inpaint.fill import _sweeps, _sweeps_in_box, hole_box

    g = torch.Generator().manual_seed(0)
    for case in range(6):
        x = torch.rand(2, 3, 37, 52, generator=g)
        hole = torch.zeros(2, 1, 37, 52)
        hole[0, :, 5:17, 9:30] = 1
        hole[1, :, 20:24, 30:33] = 1
        if case % 3 == 1:
            hole[..., :, :2] = 1  # the hole touches the left border: its padding changes every sweep
        if case % 3 == 2:
            hole[..., -1:, 40:] = 1
        want = _reference_sweeps(x, hole, 7)
        assert torch.equal(_sweeps(x, hole, 7, biharmonic=False), want)
        assert torch.equal(_sweeps_in_box(x, hole, 7, biharmonic=False), want)
        assert torch.equal(_sweeps_in_box(x, hole, 5, biharmonic=True), _sweeps(x, hole, 5, biharmonic=True))
    assert hole_box(torch.zeros(1, 1, 4, 4)) is None
