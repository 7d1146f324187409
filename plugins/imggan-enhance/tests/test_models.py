"""Networks: shapes for any size, noise-level map modes, and a tiny model learning on a fixed batch."""

import pytest
import torch

from imggan_enhance.models import build_model

TINY_DENOISE = {"name": "denoise-unet", "width": 8, "blocks": [1, 1, 1]}


def fit_fixed_batch(model, forward, target, steps: int, lr: float) -> list[float]:
    """Adam on L1 so that ``forward(model)`` approaches ``target`` (a learning check, not a trainer)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = (forward(model) - target).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


@pytest.mark.parametrize("size", [(32, 32), (37, 51), (5, 3)])
def test_denoiser_keeps_the_size(size):
    net = build_model(TINY_DENOISE).eval()
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        assert net(x).shape == x.shape
        assert net(x, torch.tensor([10.0, -1.0])).shape == x.shape
        assert net(x, torch.full((2, 1, *size), 15.0)).shape == x.shape


def test_denoiser_starts_as_identity():
    x = torch.rand(1, 3, 24, 24)
    assert torch.allclose(build_model(TINY_DENOISE)(x), x)


@pytest.mark.parametrize("scale", [2, 4])
def test_upscaler_output_is_scale_times_input(scale):
    net = build_model({"name": "upscale-res", "scale": scale, "width": 8, "blocks": 1}).eval()
    with torch.no_grad():
        assert net(torch.rand(1, 3, 7, 11)).shape == (1, 3, 7 * scale, 11 * scale)


def test_tiny_denoiser_reduces_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    clean = torch.rand(4, 3, 8, 8).repeat_interleave(4, 2).repeat_interleave(4, 3)  # smooth-ish images
    noisy = (clean + 0.1 * torch.randn_like(clean)).clamp(0, 1)
    net = build_model(TINY_DENOISE)
    losses = fit_fixed_batch(net, lambda G: G(noisy), clean, steps=40, lr=2e-3)
    assert losses[-1] < 0.8 * losses[0]


def test_tiny_upscaler_reduces_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    hr = torch.rand(4, 3, 16, 16)
    lr = torch.nn.functional.avg_pool2d(hr, 2)
    net = build_model({"name": "upscale-res", "scale": 2, "width": 16, "blocks": 2})
    losses = fit_fixed_batch(net, lambda G: G(lr), hr, steps=40, lr=2e-3)
    assert losses[-1] < 0.9 * losses[0]


def test_discriminator_returns_features():
    """The patch discriminator gives a per-patch logit map and one feature map per block."""
    d = build_model({"name": "patch-d", "width": 8, "layers": 2})
    logits, feats = d(torch.rand(2, 3, 32, 32), return_features=True)
    assert logits.shape == (2, 1, 6, 6) and len(feats) == 3
    assert [f.shape[1] for f in feats] == [8, 16, 32]
