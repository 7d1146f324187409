"""The colour stages: the optimiser's (content with the reference's colours first) and a trained style's
fixed quantile map after the network; the instance-norm epsilon that keeps style training's gradients sane."""

from pathlib import Path

import cv2
import numpy as np
import torch

from imggan.metrics import multiscale_swd
from imggan_style.color import chroma_difference, to_lab, transfer_color
from imggan_style.models import ColorStage, StyleNet, build_style_net, quantile_map
from imggan_style.swd import StyleQuantiles, detail_band

DATA = Path(__file__).resolve().parents[1] / "imggan_style" / "data"


def _rgb(name: str, size: tuple[int, int]) -> np.ndarray:
    image = cv2.resize(cv2.imread(str(DATA / name), cv2.IMREAD_COLOR), size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def test_the_colour_stage_lowers_the_coarse_level_distance():
    photo, painting = _rgb("chelsea.jpg", (128, 96)), _rgb("wesnoth-mountains.jpg", (128, 96))

    def coarse(x: np.ndarray) -> float:  # the low-pass level of the benchmark's metric
        return multiscale_swd([_u8(x)], [_u8(painting)], levels=3, patches_per_image=512)["levels"][-1]

    assert coarse(transfer_color(photo, painting)) < 0.7 * coarse(photo)


def test_the_colour_stage_with_preserve_keeps_the_chroma_and_takes_the_lightness(photo, painting):
    out = transfer_color(photo, painting, preserve=True)
    assert chroma_difference(out, photo) < 2.0
    lightness = np.sort(to_lab(out)[..., 0].ravel())
    reference = np.quantile(to_lab(painting)[..., 0].ravel(), (np.arange(lightness.size) + 0.5) / lightness.size)
    before = np.abs(np.sort(to_lab(photo)[..., 0].ravel()) - reference).mean()
    assert np.abs(lightness - reference).mean() < 0.5 * before


def test_the_band_term_costs_grain_on_a_smooth_reference():
    g = torch.Generator().manual_seed(0)
    ramp = torch.linspace(0, 1, 48).view(1, 1, 1, 48).expand(1, 3, 48, 48).contiguous()  # smooth
    reference = StyleQuantiles(ramp, 1, 32, generator=g)
    grainy = (ramp + 0.05 * torch.randn(ramp.shape, generator=g)).clamp(0, 1)
    assert float(reference.band_loss(grainy, 512)) > 10 * float(reference.band_loss(ramp.flip(-1), 512))
    assert float(detail_band(ramp)[..., 4:-4, 4:-4].abs().max()) < 1e-5  # a linear ramp has no detail


def test_quantile_map_takes_the_reference_values_and_keeps_the_order():
    g = torch.Generator().manual_seed(0)
    y = torch.rand(2, 3, 9, 11, generator=g)
    reference = torch.rand(3, 40, 50, generator=g) ** 2
    stage = ColorStage(64)
    stage.set_reference(reference)
    out = stage.eval()(y)
    for ch in range(3):
        ranks_in = y[0, ch].flatten().argsort().argsort()
        ranks_out = out[0, ch].flatten().argsort().argsort()
        assert torch.equal(ranks_in, ranks_out)
        median = float(out[1, ch].median())
        assert abs(median - float(reference[ch].median())) < 0.05
    assert torch.allclose(quantile_map(y, stage.quantiles), out)


def test_the_colour_stage_maps_at_inference_and_leaves_training_crops_alone():
    stage = ColorStage(16)
    stage.set_reference(torch.rand(3, 8, 8) * 0.3)
    y = torch.rand(1, 3, 5, 5)
    assert torch.equal(stage.train()(y), y)
    assert float(stage.eval()(y).max()) <= 0.3


def test_a_style_net_with_a_colour_stage_keeps_its_quantiles_in_its_weights():
    arch = {"name": "style-net", "widths": [8, 8, 8], "blocks": 1, "norm_eps": 1e-2, "color_levels": 32}
    net = build_style_net(arch)
    net.color.set_reference(torch.rand(3, 16, 16) * 0.5)
    state = net.state_dict()
    assert "color.quantiles" in state
    again = build_style_net(arch)
    again.load_state_dict(state)
    with torch.no_grad():
        out = again.eval()(torch.rand(1, 3, 13, 17))
    assert out.shape == (1, 3, 13, 17) and float(out.max()) <= 0.5 + 1e-6
    assert "color.quantiles" not in build_style_net({"name": "style-net", "widths": [8, 8, 8]}).state_dict()


def test_a_larger_norm_epsilon_bounds_the_gradient_on_a_flat_crop():
    def grad_norm(eps: float) -> float:
        torch.manual_seed(0)
        net = StyleNet((8, 8, 8), 1, norm_eps=eps)
        net(torch.full((1, 3, 32, 32), 0.5)).square().mean().backward()
        return float(torch.sqrt(sum(p.grad.square().sum() for p in net.parameters())))

    assert grad_norm(1e-2) < 10.0
    assert grad_norm(1e-5) > 100 * grad_norm(1e-2)
