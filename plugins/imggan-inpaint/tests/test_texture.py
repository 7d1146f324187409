"""Texture synthesis: the noise inputs and texture head of the generator, and the hole_swd loss."""

from __future__ import annotations

import numpy as np
import torch

from imggan_inpaint import losses
from imggan_inpaint.models import InpaintGenerator, add_texture_head
from imggan_inpaint.recipes import smooth_field


def _pair() -> tuple[InpaintGenerator, InpaintGenerator]:
    torch.manual_seed(0)
    plain = InpaintGenerator(widths=(8, 16, 24), blocks=1)
    for p in plain.parameters():  # a "trained" head: non-zero residual
        torch.nn.init.normal_(p, std=0.05)
    textured = InpaintGenerator(widths=(8, 16, 24), blocks=1, noise=True)
    textured.load_state_dict(add_texture_head(plain.state_dict(), textured))
    return plain.eval(), textured.eval()


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(2, 3, 48, 56)
    hole = torch.zeros(2, 1, 48, 56)
    hole[..., 10:34, 12:40] = 1
    return x, hole


def test_adding_the_texture_head_keeps_the_fill_until_it_is_trained() -> None:
    plain, textured = _pair()
    x, hole = _batch()
    with torch.no_grad():
        assert torch.equal(plain(x, hole), textured(x, hole))
    assert textured.config["noise"] is True and "noise" not in {k for k, v in plain.config.items() if v is True}


def test_noise_is_fixed_in_eval_mode_and_fresh_in_training() -> None:
    _, g = _pair()
    torch.nn.init.normal_(g.texture[2].weight, std=0.1)  # a texture head that uses its noise
    torch.nn.init.normal_(g.noise_gain, std=0.1)
    x, hole = _batch()
    with torch.no_grad():
        a, b = g(x, hole), g(x, hole)
        assert torch.equal(a, b)  # eval: the same input always gives the same fill
        assert torch.equal(a * (1 - hole), x * (1 - hole))
        g.train()
        c, d = g(x, hole), g(x, hole)
    assert float((c - d).abs().max()) > 1e-4  # training: fresh noise, so the texture varies
    assert torch.equal(c * (1 - hole), x * (1 - hole))


def test_hole_swd_prefers_texture_of_the_wrong_phase_to_a_smooth_fill() -> None:
    torch.manual_seed(0)
    target = torch.rand(2, 3, 64, 64)
    hole = torch.zeros(2, 1, 64, 64)
    hole[..., 16:48, 16:48] = 1
    other = torch.where(hole > 0, torch.rand(2, 3, 64, 64), target)  # same statistics, other phase
    smooth = torch.where(hole > 0, torch.full_like(target, 0.5), target)
    assert float(losses.hole_swd(target, target, hole)) == 0.0
    assert float(losses.hole_swd(other, target, hole)) < 0.5 * float(losses.hole_swd(smooth, target, hole))


def test_hole_swd_teaches_the_hole_and_its_patches_reach_only() -> None:
    torch.manual_seed(0)
    target = torch.rand(1, 3, 96, 96)
    hole = torch.zeros(1, 1, 96, 96)
    hole[..., 40:56, 40:56] = 1
    fill = torch.where(hole > 0, torch.full_like(target, 0.5), target).requires_grad_(True)
    losses.hole_swd(fill, target, hole).backward()
    grad = fill.grad.abs()
    assert float((grad * hole).sum()) > 0  # the hole is taught
    # Patches centred in the hole reach 3 px at 1/4 scale (12 px) plus the pyramid's blur: no further.
    assert float(grad[..., :16, :].sum()) == 0.0 and float(grad[..., :, 80:].sum()) == 0.0


def test_hole_swd_without_a_hole_is_zero() -> None:
    t = torch.rand(1, 3, 32, 32)
    assert float(losses.hole_swd(t * 0.5, t, torch.zeros(1, 1, 32, 32))) == 0.0


def test_smooth_training_fields_are_smooth_with_at_most_faint_noise() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        f = smooth_field(64, rng)
        assert f.shape == (3, 64, 64) and f.min() >= 0 and f.max() <= 1
        # Neighbouring pixels differ by a ramp step plus noise of at most a few 8-bit levels.
        assert np.abs(np.diff(f, axis=-1)).max() < 12 / 255


def test_a_texture_head_can_start_from_faint_noise() -> None:
    plain, _ = _pair()
    g = InpaintGenerator(widths=(8, 16, 24), blocks=1, noise=True)
    g.load_state_dict(add_texture_head(plain.state_dict(), g, last_std=0.01))
    x, hole = _batch()
    with torch.no_grad():
        diff = (g.eval()(x, hole) - plain(x, hole)).abs()
    assert 0 < float(diff.max()) < 0.1 and float((diff * (1 - hole)).max()) == 0.0


def test_the_gated_noise_follows_the_surroundings_detail() -> None:
    from imggan_inpaint.fill import pyramid_fill
    from imggan_inpaint.models import detail_amplitude

    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 20:44, 20:44] = 1
    ramp = torch.linspace(0.2, 0.8, 64).expand(1, 3, 64, 64).contiguous()
    torch.manual_seed(0)
    noisy = (0.5 + 0.1 * torch.randn(1, 3, 64, 64)).clamp(0, 1)
    assert float(detail_amplitude(ramp, hole).max()) < 1e-3
    inside = float((detail_amplitude(noisy, hole) * hole).sum() / hole.sum())
    assert 0.03 < inside < 0.15  # about the RMS of the noise's fine detail (gray of 3 channels, less blur)
    # A gated generator adds (almost) nothing next to a ramp, and texture next to texture.
    g = InpaintGenerator(widths=(8, 16, 24), blocks=1, noise=True, texture_gate=True).eval()
    with torch.no_grad():
        smooth = g(ramp, hole) - pyramid_fill(ramp * (1 - hole), hole, iterations=g.fill_iterations)
        textured = g(noisy, hole) - pyramid_fill(noisy * (1 - hole), hole, iterations=g.fill_iterations)
    assert float(smooth.abs().max()) < 2e-3
    assert float((textured * hole).square().sum() / hole.sum() / 3) ** 0.5 > 0.01


def test_texture_strength_scales_the_gated_noise() -> None:
    torch.manual_seed(0)
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 20:44, 20:44] = 1
    noisy = (0.5 + 0.1 * torch.randn(1, 3, 64, 64)).clamp(0, 1)
    g = InpaintGenerator(widths=(8, 16, 24), blocks=1, noise=True, texture_gate=True).eval()
    with torch.no_grad():
        full = g(noisy, hole)
        g.texture_strength = 0.5
        half = g(noisy, hole)
        g.texture_strength = 0.0
        none = g(noisy, hole)
    # The untrained texture head is the linear noise filter alone: the texture scales exactly.
    assert torch.allclose(half - none, 0.5 * (full - none), atol=1e-6)
    assert float((full - none).abs().max()) > 0.01


def test_the_texture_head_on_the_holes_box_gives_the_whole_images_result_in_the_hole() -> None:
    g = InpaintGenerator(widths=(8, 16, 24), blocks=1, noise=True, texture_gate=True).eval()
    torch.manual_seed(3)
    for p in g.texture.parameters():
        torch.nn.init.normal_(p, std=0.3)
    filled = torch.rand(1, 3, 80, 96)
    hole = torch.zeros(1, 1, 80, 96)
    hole[..., 30:50, 20:44] = 1
    calls = []
    original = g._add_texture

    def spy(y, x, features, box):
        calls.append(box)
        return original(y, x, features, box)

    g._add_texture = spy
    with torch.no_grad():
        cropped = g.residual(filled, hole)
        g._add_texture = lambda y, x, features, box: original(y, x, features, (0, x.shape[-2], 0, x.shape[-1]))
        whole = g.residual(filled, hole)
    assert calls == [(28, 52, 18, 46)]  # the hole's box grown by the head's 2-px reach
    inside = hole.bool().expand_as(whole)
    # The same up to float rounding (a convolution's summation order may depend on its input's size).
    assert torch.allclose(cropped[inside], whole[inside], rtol=1e-5, atol=1e-5)
    assert not torch.equal(cropped, whole)  # outside the box the texture is not computed (never used)
