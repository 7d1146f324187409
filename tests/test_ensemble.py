"""Geometric self-ensemble: exact for equivariant maps, averaging for the rest, any output scale."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from imggan.ensemble import self_ensemble


@pytest.mark.parametrize("size", [1, 2, 4, 8])
def test_equivariant_maps_are_unchanged_at_any_size_and_scale(size: int) -> None:
    x = torch.rand(2, 3, 7, 5)
    out = self_ensemble(lambda t: F.interpolate(t, scale_factor=2, mode="nearest") * 3, x, size)
    assert out.shape == (2, 3, 14, 10)
    assert torch.allclose(out, F.interpolate(x, scale_factor=2, mode="nearest") * 3)


def test_an_orientation_bias_is_averaged_out() -> None:
    x = torch.zeros(1, 1, 4, 6)

    def left_to_right_ramp(t: torch.Tensor) -> torch.Tensor:
        return t + torch.arange(t.shape[-1], dtype=t.dtype)

    plain = self_ensemble(left_to_right_ramp, x, 1)
    mirrored = self_ensemble(left_to_right_ramp, x, 2)
    assert torch.equal(plain[0, 0, 0], torch.arange(6.0))
    assert torch.allclose(mirrored, torch.full_like(x, 2.5))  # mean of the ramp and its mirror


def test_per_pixel_maps_follow_the_image_and_scalars_pass_through() -> None:
    x = torch.rand(1, 3, 6, 4)
    level = torch.rand(1, 1, 6, 4)
    out = self_ensemble(lambda t, level, k: t * level * k, x, 8, level=level, k=2.0)
    assert torch.allclose(out, x * level * 2.0, atol=1e-6)


def test_unknown_size_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="ensemble size 3"):
        self_ensemble(lambda t: t, torch.zeros(1, 1, 2, 2), 3)
