"""DiffAugment transforms (probability, differentiability, mask channel) and the ADA controller."""

from __future__ import annotations

import pytest
import torch

from imggan.train.augment import BUILTIN_AUGMENTATIONS, AdaController, compose

AUGS = {a.name: a for a in BUILTIN_AUGMENTATIONS}


@pytest.mark.parametrize("name", sorted(AUGS))
def test_p_zero_is_identity_and_p_one_changes_and_keeps_shape(name: str) -> None:
    torch.manual_seed(0)
    x = torch.rand(8, 3, 16, 16)
    assert torch.equal(AUGS[name].fn(x, 0.0), x)
    y = AUGS[name].fn(x, 1.0)
    assert y.shape == x.shape and not torch.equal(y, x)


@pytest.mark.parametrize("name", sorted(AUGS))
def test_differentiable(name: str) -> None:
    torch.manual_seed(1)
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    AUGS[name].fn(x, 1.0).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_probability_is_per_sample() -> None:
    torch.manual_seed(2)
    x = torch.rand(400, 3, 8, 8)
    changed = (AUGS["color"].fn(x, 0.25) != x).flatten(1).any(1).float().mean()
    assert 0.15 < float(changed) < 0.35


def test_color_leaves_extra_channels_but_translation_moves_them() -> None:
    torch.manual_seed(3)
    image = torch.rand(6, 3, 16, 16)
    mask = (torch.rand(6, 1, 16, 16) > 0.5).float()
    x = torch.cat([image, mask], 1)
    assert torch.equal(AUGS["color"].fn(x, 1.0)[:, 3:], mask)
    moved = AUGS["translation"].fn(x, 1.0)
    assert set(moved[:, 3:].unique().tolist()) <= {0.0, 1.0}


def test_translation_is_a_whole_pixel_shift_with_zero_fill() -> None:
    torch.manual_seed(4)
    x = torch.rand(16, 1, 16, 16) + 1.0  # strictly positive: zeros come only from the padding
    y = AUGS["translation"].fn(x, 1.0)
    for a, b in zip(x, y, strict=True):
        kept = b[b > 0]
        assert set(kept.tolist()) <= set(a.flatten().tolist())


def test_cutout_zeroes_a_square_of_half_the_side() -> None:
    torch.manual_seed(5)
    x = torch.ones(32, 1, 16, 16)
    zeros = (AUGS["cutout"].fn(x, 1.0) == 0).flatten(1).sum(1)
    assert int(zeros.max()) == 64 and int(zeros.min()) > 0  # 8x8 when inside, clipped at the border


def test_non_image_inputs_pass_through() -> None:
    x = torch.rand(5, 64)
    assert torch.equal(compose(list(BUILTIN_AUGMENTATIONS))(x, 1.0), x)


def test_ada_raises_p_when_d_is_overconfident_and_lowers_it_otherwise() -> None:
    ada = AdaController(target=0.6, interval=2, speed_kimg=1.0)
    for _ in range(2):
        ada.accumulate(sign_sum=90.0, count=100.0)  # r_t = 0.9 > 0.6
    assert ada.due()
    assert ada.adjust(images=500) == pytest.approx(0.5)
    for _ in range(2):
        ada.accumulate(sign_sum=10.0, count=100.0)  # r_t = 0.1 < 0.6
    assert ada.adjust(images=200) == pytest.approx(0.3)
    ada.accumulate(0.0, 100.0)
    state = ada.state_dict()
    other = AdaController()
    other.load_state_dict(state)
    assert other.state_dict() == state
    assert AdaController(p=0.0).adjust(images=10**6) == 0.0  # clamped at 0 (nothing accumulated: unchanged)
