"""Histogram matching in torch (colours and Laplacian bands), the colour stage with bands, and the
upsampling block computed per phase."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from imggan.metrics import multiscale_swd
from imggan_style.histmatch import from_bands, laplacian_bands, match_statistics, quantile_map, quantiles_of
from imggan_style.models import ColorStage, _Up, build_style_net
from imggan_style.recipes import _build_style_net

DATA = Path(__file__).resolve().parents[1] / "imggan_style" / "data"


def _tensor(name: str, size: tuple[int, int]) -> torch.Tensor:
    image = cv2.resize(cv2.imread(str(DATA / name), cv2.IMREAD_COLOR), size, interpolation=cv2.INTER_AREA)
    return torch.from_numpy(cv2.cvtColor(image, cv2.COLOR_BGR2RGB).transpose(2, 0, 1).copy())[None].float() / 255


def _u8(x: torch.Tensor) -> np.ndarray:
    return np.clip(np.rint(x[0].numpy().transpose(1, 2, 0) * 255), 0, 255).astype(np.uint8)


def test_the_pyramid_is_opencvs_inside_and_gives_the_image_back():
    x = torch.rand(1, 3, 37, 50, generator=torch.Generator().manual_seed(0))
    bands, low = laplacian_bands(x, 2)
    assert [tuple(b.shape[-2:]) for b in bands] == [(37, 50), (19, 25)] and tuple(low.shape[-2:]) == (10, 13)
    assert torch.allclose(from_bands(bands, low), x, atol=1e-6)
    channel = x[0, 0].numpy()
    expected = channel - cv2.pyrUp(cv2.pyrDown(channel), dstsize=(50, 37))
    assert np.abs(bands[0][0, 0].numpy() - expected)[3:-3, 3:-3].max() < 1e-5  # borders are handled alike


def test_a_band_map_takes_the_reference_band_distribution_and_keeps_the_order():
    g = torch.Generator().manual_seed(1)
    band = torch.randn(1, 3, 40, 40, generator=g) * 0.02  # signed, like a Laplacian band
    reference = torch.randn(3, 50, 50, generator=g) * 0.1
    out = quantile_map(band, quantiles_of(reference, 256), span=True)
    for ch in range(3):
        assert torch.equal(band[0, ch].flatten().argsort(), out[0, ch].flatten().argsort())
        assert abs(float(out[0, ch].std()) - float(reference[ch].std())) < 0.01
    assert torch.allclose(
        quantiles_of(reference, 5),
        torch.quantile(reference.reshape(3, -1), torch.linspace(0, 1, 5), dim=1).T,
        atol=1e-6,
    )


def test_matching_bands_and_colours_brings_the_image_closer_to_the_reference_than_colours_alone():
    photo, painting = _tensor("chelsea.jpg", (128, 96)), _tensor("wesnoth-mountains.jpg", (128, 96))
    colors = quantiles_of(painting[0], 256)
    bands = [quantiles_of(b[0], 256) for b in laplacian_bands(painting, 2)[0]]

    def distance(x: torch.Tensor) -> float:
        return multiscale_swd([_u8(x)], [_u8(painting)], levels=3, patches_per_image=512)["mean"]

    colored = quantile_map(photo, colors)
    assert distance(match_statistics(colored, colors, bands, 2)) < 0.9 * distance(colored)


def test_the_colour_stage_with_bands_keeps_them_in_its_weights_and_old_checkpoints_load():
    arch = {"name": "style-net", "widths": [8, 8, 8], "blocks": 1, "color_levels": 32, "color_bands": 2,
            "color_iterations": 2}  # fmt: skip
    net = build_style_net(arch)
    net.color.set_reference(torch.rand(3, 40, 40) * 0.5)
    state = net.state_dict()
    assert state["color.band_quantiles"].shape == (2, 3, 32) and float(state["color.band_quantiles"].abs().max()) > 0
    again = build_style_net(arch)
    again.load_state_dict(state)
    with torch.no_grad():
        out = again.eval()(torch.rand(1, 3, 33, 35))
    assert out.shape == (1, 3, 33, 35) and float(out.max()) <= 0.5 + 1e-6
    old = {k: v for k, v in state.items() if k != "color.band_quantiles"}
    with pytest.raises(RuntimeError, match="band_quantiles"):  # no reference set: the key is needed
        build_style_net(arch).load_state_dict(old)
    stage = ColorStage(32, bands=2)
    stage.set_reference(torch.rand(3, 40, 40))
    kept = stage.band_quantiles.clone()
    stage.load_state_dict({"quantiles": stage.quantiles.clone()})  # a checkpoint from before the bands
    assert torch.equal(stage.band_quantiles, kept)


def test_an_older_runs_config_builds_todays_colour_stage(tmp_path):
    cv2.imwrite(str(tmp_path / "ref.png"), (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8))
    config = {"style": str(tmp_path / "ref.png"), "widths": [8, 8, 8], "blocks": 1, "color_levels": 32}
    net = _build_style_net(config)
    assert net.color.bands == 3 and net.color.iterations == 3
    assert _build_style_net({**config, "color_bands": 0}).color.bands == 0


def test_the_upsampling_block_per_phase_equals_upsampling_then_convolving():
    torch.manual_seed(0)
    block = _Up(6, 5, 1e-2).eval()
    x = torch.randn(2, 6, 7, 10, requires_grad=True)
    reference = block.conv(F.interpolate(x, scale_factor=2, mode="nearest"))
    out = block(x)
    assert torch.allclose(out, reference, atol=1e-5)
    (grad,) = torch.autograd.grad(out.square().sum(), x)
    (expected,) = torch.autograd.grad(reference.square().sum(), x)
    assert torch.allclose(grad, expected, atol=1e-4)
