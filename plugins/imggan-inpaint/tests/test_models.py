"""The generator: exact known pixels, starts at the classical fill, and learns."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from imggan_inpaint import losses
from imggan_inpaint import recipes as recipe
from imggan_inpaint.fill import pyramid_fill
from imggan_inpaint.models import HoleDiscriminator, InpaintGenerator, PatchDiscriminator, shuffle_to_resize


def _tiny() -> InpaintGenerator:
    return InpaintGenerator(widths=(8, 16, 24), blocks=2)


def test_untrained_generator_is_the_classical_fill_and_keeps_known_pixels() -> None:
    torch.manual_seed(0)
    g = _tiny()
    x = torch.rand(2, 3, 40, 52)  # not a multiple of 8: padded inside
    hole = (torch.rand(2, 1, 40, 52) > 0.7).float()
    out = g(x, hole)
    assert out.shape == x.shape
    assert torch.equal(out * (1 - hole), x * (1 - hole))
    fill = pyramid_fill(x * (1 - hole), hole, iterations=g.fill_iterations)
    assert torch.allclose(out, fill, atol=1e-6)


def test_discriminator_returns_logits_and_features() -> None:
    d = PatchDiscriminator(width=8)
    logits, feats = d(torch.rand(2, 4, 64, 64), return_features=True)
    assert logits.shape[0] == 2 and len(feats) == 4


def test_a_few_dozen_steps_lower_the_hole_l1(tmp_path, make_image) -> None:
    """Train a tiny generator on the recipe's own batches (masks, fill, augmentation) for 40 steps.

    The images are textured (stripes over gradients) so the smooth classical fill leaves real error; the
    hole L1 on a batch seen in training must drop below the untrained generator's (= the classical fill).
    """
    import cv2

    y, x = np.mgrid[0:160, 0:160]
    for i in range(2):
        stripes = (np.sin((x + 2 * y) * (0.6 + 0.2 * i)) > 0)[..., None] * 80
        cv2.imwrite(str(tmp_path / f"img{i}.png"), (make_image(160, 160, seed=i) * 0.6 + stripes).astype(np.uint8))
    torch.manual_seed(0)
    config = {**recipe.DEFAULTS, "data": str(tmp_path), "crop": 48, "batch_size": 4, "scales": [1.0]}
    fixed = recipe.prepare_batch(next(recipe.make_batches(config, seed=0)), torch.device("cpu"))
    g = InpaintGenerator(widths=(8, 16, 24), blocks=1, fourier=False)

    def hole_l1() -> torch.Tensor:
        return losses.hole_l1(recipe.generate(g, fixed), fixed["target"], fixed["hole"])

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: one thread is faster, and robust on a busy machine
    try:
        with torch.no_grad():
            before = float(hole_l1())
        opt = torch.optim.Adam(g.parameters(), lr=2e-3)
        for _ in range(40):
            loss = hole_l1()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(g.parameters(), 0.5)
            opt.step()
        with torch.no_grad():
            after = float(hole_l1())
    finally:
        torch.set_num_threads(threads)
    assert after < 0.9 * before, (before, after)


def test_losses_are_zero_on_a_perfect_fill_and_positive_otherwise() -> None:
    t = torch.rand(1, 3, 16, 16)
    hole = torch.zeros(1, 1, 16, 16)
    hole[..., 4:12, 4:12] = 1
    assert float(losses.hole_l1(t, t, hole)) == 0.0
    assert float(losses.hole_grad(t, t, hole)) == 0.0
    worse = t.clone()
    worse[..., 4:12, 4:12] = 0.5
    assert float(losses.hole_grad(worse, t, hole)) > 0


def test_detail_and_ssim_terms_score_a_blurry_fill_worse_than_a_textured_one() -> None:
    torch.manual_seed(0)
    t = torch.rand(2, 3, 40, 40)
    hole = torch.zeros(2, 1, 40, 40)
    hole[..., 8:32, 8:32] = 1
    assert float(losses.hole_detail(t, t, hole)) == 0.0
    assert float(losses.hole_ssim(t, t, hole)) == pytest.approx(0.0, abs=1e-6)
    flat = t * (1 - hole) + 0.5 * hole
    textured = t * (1 - hole) + torch.rand(2, 3, 40, 40) * hole  # as much detail, wrong phase
    assert float(losses.hole_detail(flat, t, hole)) > 0.8
    assert float(losses.hole_detail(textured, t, hole)) < 0.1
    assert float(losses.hole_ssim(flat, t, hole)) > 0.1
    # Thin strokes have no interior: the detail term leaves them to the pixel losses.
    stroke = torch.zeros(2, 1, 40, 40)
    stroke[..., 10:26, 4:36] = 1  # 16 px wide
    assert float(losses.hole_interior(stroke).sum()) == 0.0
    assert float(losses.hole_detail(flat, t, stroke)) == 0.0
    assert float(losses.hole_interior(hole).sum()) == 2 * 8 * 8
    # ... and the SSIM term all but leaves the interior alone (free for detail), unlike the band around it
    # (an interior pixel only reaches it through the Gaussian tails of band windows).
    base = float(losses.hole_ssim(flat, t, hole))
    inside, band = flat.clone(), flat.clone()
    inside[..., 20, 20] = 1.0  # deep inside: at least 8 px from every known pixel
    band[..., 9, 20] = 1.0  # one pixel inside the hole's edge
    assert abs(float(losses.hole_ssim(inside, t, hole)) - base) < 0.05 * abs(
        float(losses.hole_ssim(band, t, hole)) - base
    )
    # The term is about the hole: pixels beyond the windows' reach get (numerically) no gradient.
    fill = flat.clone().requires_grad_(True)
    losses.hole_ssim(fill, t, hole).backward()
    far = fill.grad[..., :2, :2].abs().max()
    assert float(far) < 1e-6 * float(fill.grad.abs().max())


def test_every_loss_term_is_registered_for_the_trainer() -> None:
    from imggan.plugins import get_registry

    names = set(get_registry().losses)
    assert {"hole_l1", "hole_grad", "hole_energy", "hole_detail", "hole_ssim", "hole_pattern", "hole_swd"} <= names


def test_hole_discriminator_judges_only_the_hole() -> None:
    torch.manual_seed(0)
    d = HoleDiscriminator(width=8).eval()  # eval: spectral norm stops its power iteration between calls
    image = torch.rand(2, 3, 192, 192)
    hole = torch.zeros(2, 1, 192, 192)
    hole[..., 8:24, 8:24] = 1
    x = torch.cat([image, hole], 1)
    logits, feats = d(x, return_features=True)
    assert logits.shape == (2, 1) and len(feats) == 4
    patch, weight = d.patch_logits(x)
    assert weight.shape == patch.shape and float(weight.amax()) == 1.0 and float(weight.amin()) == 0.0
    expected = (patch * weight).sum((1, 2, 3)) / weight.sum((1, 2, 3))
    assert torch.allclose(logits[:, 0], expected, atol=1e-6)
    # Pixels far from the hole (outside every weighted patch's reach) do not move the logit.
    far = x.clone()
    far[:, :3, 150:, 150:] = torch.rand(2, 3, 42, 42)
    assert torch.allclose(d(far), logits, atol=1e-6)
    no_hole = torch.cat([image, torch.zeros_like(hole)], 1)
    assert torch.allclose(d(no_hole)[:, 0], d.patch_logits(no_hole)[0].mean((1, 2, 3)))


def test_the_resize_head_cannot_paint_a_two_pixel_checkerboard() -> None:
    torch.manual_seed(0)
    sign = torch.ones(64, 64)
    sign[1::2] *= -1
    sign[:, 1::2] *= -1
    for upsample, most in (("resize", 0.02), ("shuffle", None)):
        g = InpaintGenerator(widths=(8, 16, 24), blocks=1, upsample=upsample)
        torch.nn.init.normal_(g.head[0].weight, std=0.5)
        with torch.no_grad():
            res = g.residual(torch.rand(4, 3, 64, 64), (torch.rand(4, 1, 64, 64) > 0.5).float())
        share = float((res * sign).mean((-2, -1)).abs().mean() / res.abs().mean())  # its 2-px checkerboard part
        if most is not None:
            assert share < most, share
        else:
            assert share > 0.05, share  # an untied PixelShuffle head does produce one


def test_shuffle_weights_become_resize_weights_by_averaging_the_sub_pixel_filters() -> None:
    torch.manual_seed(0)
    old = InpaintGenerator(widths=(8, 16, 24), blocks=1, upsample="shuffle")
    torch.nn.init.normal_(old.head[0].weight, std=0.3)
    torch.nn.init.normal_(old.head[0].bias, std=0.3)
    new = InpaintGenerator(widths=(8, 16, 24), blocks=1, upsample="resize")
    new.load_state_dict(shuffle_to_resize(old.state_dict()))
    features = torch.rand(1, 8, 10, 10)
    shuffled = old.head(features)  # 1x3x20x20
    assert torch.allclose(new.head(features), F.avg_pool2d(shuffled, 2), atol=1e-5)
    assert new.config["upsample"] == "resize" and old.config["upsample"] == "shuffle"


def test_pattern_loss_punishes_invented_repetition_only() -> None:
    torch.manual_seed(0)
    target = torch.full((2, 3, 64, 64), 0.5) + 0.02 * torch.randn(2, 3, 64, 64)
    hole = torch.zeros(2, 1, 64, 64)
    hole[..., 12:52, 12:52] = 1
    smooth = target * (1 - hole) + 0.5 * hole
    y, x = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    plaid = 0.5 + 0.2 * (torch.sign(torch.sin(x * 2 * torch.pi / 2)) + torch.sign(torch.sin(y * 2 * torch.pi / 12)))
    invented = target * (1 - hole) + plaid.expand(2, 3, 64, 64) * hole
    assert float(losses.hole_pattern(target, target, hole)) == 0.0
    assert float(losses.hole_pattern(smooth, target, hole)) < 0.06  # noise-level correlations of the rim
    assert float(losses.hole_pattern(invented, target, hole)) > 0.1
    fill = invented.clone().requires_grad_(True)
    losses.hole_pattern(fill, target, hole).backward()
    assert float(fill.grad.abs().sum()) > 0


def test_the_recipe_exports_to_run_export_and_model_run_loads_it(tmp_path) -> None:
    """The recipe's export goes through the core's card writer; ``--model RUN`` then finds and checks it."""
    from imggan.weights import read_card
    from imggan_inpaint.inference import load_model

    g = _tiny()
    with torch.no_grad():
        next(g.parameters()).add_(0.01)  # not the default initialisation
    path = recipe.export(g, {"steps": 3, "data": "/somewhere/private"}, tmp_path / "run")
    assert path == tmp_path / "run" / "export" / "inpaint.safetensors"
    card = read_card(path)
    assert card["task"] == "inpaint" and card["arch"]["name"] == recipe.ARCH_NAME and "data" not in card["config"]
    loaded = load_model(tmp_path / "run")
    assert torch.equal(next(loaded.parameters()), next(g.parameters()))
