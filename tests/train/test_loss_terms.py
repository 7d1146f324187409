"""The built-in generator terms (adv, l1, l2, ssim, fm) and their registration through the hook."""

from __future__ import annotations

import pytest
import torch

from imggan.plugins import get_registry
from imggan.train.losses import BUILTIN_TERMS, LossContext, LossTerm

TERMS = {term.name: term for term in BUILTIN_TERMS}


def ctx(**kw) -> LossContext:
    base = {"batch": {}, "fake": torch.zeros(1, 1, 2, 2), "real": torch.zeros(1, 1, 2, 2)}
    base.update(kw)
    return LossContext(**base)


def test_builtin_terms_are_registered_through_the_hook() -> None:
    losses = get_registry().losses
    for name in ("adv", "l1", "l2", "ssim", "fm"):
        assert isinstance(losses[name], LossTerm)
    assert losses["adv"].needs_discriminator and losses["fm"].needs_discriminator
    assert not losses["l1"].needs_discriminator
    assert get_registry().augmentations.keys() >= {"color", "translation", "cutout"}


def test_l1_l2_by_hand() -> None:
    fake = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    real = torch.tensor([[[[0.0, 2.0], [5.0, 4.0]]]])
    assert float(TERMS["l1"].fn(ctx(fake=fake, real=real))) == pytest.approx((1 + 0 + 2 + 0) / 4)
    assert float(TERMS["l2"].fn(ctx(fake=fake, real=real))) == pytest.approx((1 + 0 + 4 + 0) / 4)


def test_ssim_is_zero_for_identical_images_and_grows_with_noise() -> None:
    gen = torch.Generator().manual_seed(0)
    image = torch.rand(2, 3, 24, 24, generator=gen)
    same = float(TERMS["ssim"].fn(ctx(fake=image, real=image)))
    noisy = (image + 0.2 * torch.randn(image.shape, generator=gen)).clamp(0, 1)
    assert same == pytest.approx(0.0, abs=1e-5)
    assert 0.05 < float(TERMS["ssim"].fn(ctx(fake=noisy, real=image))) < 2.0


def test_adv_uses_the_configured_gan_loss() -> None:
    d_fake = torch.tensor([0.5, -3.0])
    assert float(TERMS["adv"].fn(ctx(d_fake=d_fake, gan_loss="hinge"))) == pytest.approx(1.25)
    expected = float(torch.nn.functional.softplus(-d_fake).mean())
    assert float(TERMS["adv"].fn(ctx(d_fake=d_fake, gan_loss="nonsaturating"))) == pytest.approx(expected)
    with pytest.raises(ValueError, match="discriminator"):
        TERMS["adv"].fn(ctx())


def test_feature_matching_by_hand() -> None:
    fake_feats = [torch.tensor([1.0, 2.0]), torch.tensor([[0.0, 4.0]])]
    real_feats = [torch.tensor([1.0, 0.0]), torch.tensor([[1.0, 1.0]])]
    value = TERMS["fm"].fn(ctx(d_fake_features=fake_feats, d_real_features=real_feats))
    assert float(value) == pytest.approx(((0 + 2) / 2 + (1 + 3) / 2) / 2)
    assert TERMS["fm"].needs_real_features
