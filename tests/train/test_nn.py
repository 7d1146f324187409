"""Shared layers: PatchGAN (features, spectral norm), U-Net/ResNet generators, DCGAN, MLP."""

from __future__ import annotations

import pytest
import torch

from imggan.nn.dcgan import DCGANDiscriminator, DCGANGenerator
from imggan.nn.discriminator import PatchDiscriminator
from imggan.nn.generator import ResNetGenerator, UNetGenerator
from imggan.nn.mlp import MLP
from imggan.nn.spectral import apply_spectral_norm, is_spectral_normed


def test_patch_discriminator_features_and_spectral_norm() -> None:
    torch.manual_seed(0)
    d = PatchDiscriminator(in_channels=4, width=8, layers=3, spectral_norm=True)
    x = torch.randn(2, 4, 64, 64)
    logits, feats = d(x, return_features=True)
    assert logits.shape == (2, 1, 6, 6) and [f.shape[1] for f in feats] == [8, 16, 32, 64]
    assert isinstance(d(x), torch.Tensor)  # a plain call returns the logits only
    convs = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(is_spectral_normed(m) for m in convs)
    # Spectral norm: after enough power iterations every weight's largest singular value is ~1.
    d.train()
    with torch.no_grad():
        for _ in range(30):
            d(x)
    for conv in convs:
        sigma = torch.linalg.matrix_norm(conv.weight.detach().reshape(conv.weight.shape[0], -1), ord=2)
        assert float(sigma) == pytest.approx(1.0, abs=0.05)


def test_apply_spectral_norm_is_idempotent() -> None:
    d = MLP(2, [4], 1)
    apply_spectral_norm(d)
    apply_spectral_norm(d)
    assert len(d.out.parametrizations["weight"]) == 1
    old_api = torch.nn.Sequential(torch.nn.utils.spectral_norm(torch.nn.Conv2d(1, 2, 3)), torch.nn.Conv2d(2, 1, 1))
    apply_spectral_norm(old_api)  # the older hook-based API is recognised, not wrapped twice
    assert is_spectral_normed(old_api[0]) and not parametrize_is(old_api[0]) and parametrize_is(old_api[1])


def parametrize_is(module: torch.nn.Module) -> bool:
    return torch.nn.utils.parametrize.is_parametrized(module, "weight")


@pytest.mark.parametrize("cls", [UNetGenerator, ResNetGenerator])
def test_generators_shape_and_residual_identity(cls) -> None:
    torch.manual_seed(0)
    g = cls(in_channels=4, out_channels=3, width=8, depth=2, residual=True)
    x = torch.rand(2, 4, 32, 32)
    assert torch.equal(g(x), x[:, :3])
    plain = cls(in_channels=4, out_channels=3, width=8, depth=2, out_act="sigmoid")
    y = plain(x)
    assert y.shape == (2, 3, 32, 32) and float(y.detach().min()) >= 0 and float(y.detach().max()) <= 1
    y.mean().backward()
    assert all(p.grad is not None for p in plain.parameters())


def test_dcgan_and_mlp_shapes() -> None:
    g, d = DCGANGenerator(z_dim=8, width=4), DCGANDiscriminator(width=4)
    x = g(torch.randn(3, 8))
    assert x.shape == (3, 3, 64, 64) and d(x).shape == (3, 1)
    out, feats = MLP(5, [6, 7], 2)(torch.zeros(1, 5), return_features=True)
    assert out.shape == (1, 2) and [f.shape[1] for f in feats] == [6, 7]
