"""The shipped models through the Python API: quality on a packaged image, shapes, dtypes, alpha, tiling."""

import cv2
import numpy as np
import pytest
import torch

from imggan.metrics import psnr
from imggan_enhance.api import denoise, upscale
from imggan_enhance.degrade import noise_image


def test_shipped_denoiser_raises_psnr_by_a_clear_margin(clean):
    noisy = noise_image(clean, 25.0, np.random.default_rng(0))
    before = psnr(clean, noisy)
    blind = psnr(clean, denoise(noisy))
    hinted = psnr(clean, denoise(noisy, sigma=25))
    assert blind > before + 6.0, (before, blind)
    assert hinted > before + 6.0, (before, hinted)


def test_denoiser_keeps_gray_and_16_bit(clean):
    gray = cv2.cvtColor(clean, cv2.COLOR_BGR2GRAY)[:37, :53]
    out = denoise(gray)
    assert out.shape == gray.shape and out.dtype == np.uint8
    deep = clean[:40, :30].astype(np.uint16) * 257
    out16 = denoise(deep)
    assert out16.dtype == np.uint16 and out16.shape == deep.shape and out16.max() > 255


@pytest.mark.parametrize("scale", [2, 4])
@pytest.mark.parametrize("size", [(17, 23), (32, 32)])
def test_upscale_shapes(scale, size, clean):
    image = clean[: size[0], : size[1]]
    out = upscale(image, scale=scale)
    assert out.shape == (size[0] * scale, size[1] * scale, 3) and out.dtype == np.uint8


def test_upscale_gray_rgba_and_16_bit(clean):
    gray = cv2.cvtColor(clean, cv2.COLOR_BGR2GRAY)[:21, :19]
    assert upscale(gray, scale=2).shape == (42, 38)
    rgba = np.dstack([clean[:20, :24], np.zeros((20, 24), np.uint8)])
    rgba[:, 12:, 3] = 255
    out = upscale(rgba, scale=4)
    assert out.shape == (80, 96, 4)
    assert (out[:, :40, 3] == 0).all() and (out[:, 56:, 3] == 255).all()  # alpha upscaled on its own
    deep = clean[:16, :16].astype(np.uint16) * 257
    out16 = upscale(deep, scale=2)
    assert out16.dtype == np.uint16 and out16.shape == (32, 32, 3) and out16.max() > 255


def test_upscale_beats_bicubic_on_the_packaged_image(clean):
    from imggan_enhance.degrade import downscale_image

    low = downscale_image(clean, 4)
    bicubic = cv2.resize(low, (128, 128), interpolation=cv2.INTER_CUBIC)
    assert psnr(clean, upscale(low, scale=4)) > psnr(clean, bicubic)


@pytest.mark.parametrize("task", ["denoise", "upscale"])
def test_tiled_and_untiled_agree_away_from_borders(task, clean):
    """Tiled inference at the overlap real use gets (128 px for denoise) leaves no seam."""
    from imggan.tensors import image_to_tensor
    from imggan_enhance.api import _model
    from imggan_enhance.inference import run

    model = _model(task, None, 2 if task == "upscale" else 1, "cpu")
    image = cv2.resize(clean, (320, 320), interpolation=cv2.INTER_CUBIC) if task == "denoise" else clean[:90, :100]
    if task == "denoise":
        image = noise_image(image, 20.0, np.random.default_rng(1))
    x = image_to_tensor(image)
    whole = run(model, x, tile=None)
    # both really tile: 320² in 256² tiles (keeps the full 128 px denoise overlap), 90x100 in 40² tiles
    tiled = run(model, x, tile=256 if task == "denoise" else 40)
    assert tiled.shape == whole.shape
    m = 8 * model.scale
    diff = (tiled - whole)[..., m:-m, m:-m].abs()
    # no visible seam: a tiny mean difference and no pixel off by more than a few levels
    assert float(diff.mean()) < 0.5 / 255, float(diff.mean()) * 255
    assert float(diff.max()) < 10.0 / 255, float(diff.max()) * 255


def test_bad_input_is_a_clear_error():
    from imggan.errors import ImgganError

    with pytest.raises(ImgganError, match="uint8 or uint16"):
        denoise(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ImgganError, match="scale must be 2 or 4"):
        upscale(np.zeros((4, 4, 3), np.uint8), scale=3)


def test_model_path_must_be_safetensors(tmp_path):
    from imggan.errors import ImgganError

    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not a model")
    with pytest.raises(ImgganError):
        denoise(np.zeros((8, 8, 3), np.uint8), model=str(bad))
    torch.manual_seed(0)


@pytest.mark.slow
def test_large_image_runs_in_tiles_automatically(clean):
    """Over 1 MP the automatic 512-pixel tiles kick in; the output matches the whole-image run closely."""
    from imggan.tensors import image_to_tensor
    from imggan_enhance.api import _model
    from imggan_enhance.inference import auto_tile, run

    big = cv2.resize(clean, (1100, 1000), interpolation=cv2.INTER_CUBIC)
    big = noise_image(big, 15.0, np.random.default_rng(2))
    assert auto_tile(*big.shape[:2], None) == 512
    out = denoise(big)
    assert out.shape == big.shape
    whole = run(_model("denoise", None, 1, "cpu"), image_to_tensor(big), tile=0)
    diff = np.abs(out.astype(int) - np.rint(whole[0].permute(1, 2, 0).numpy()[..., ::-1] * 255).astype(int))
    assert diff[8:-8, 8:-8].mean() < 0.5 and diff.max() <= 4


def test_self_ensemble_keeps_shapes_and_does_not_hurt(clean):
    noisy = noise_image(clean, 25.0, np.random.default_rng(1))
    single, double = psnr(clean, denoise(noisy)), psnr(clean, denoise(noisy, ensemble=2))
    assert double > single - 0.05, (single, double)
    odd = clean[:17, :23]
    assert upscale(odd, scale=2, ensemble=4).shape == (34, 46, 3)


def test_shipped_jpeg_model_removes_artefacts(clean):
    from imggan_enhance.degrade import jpeg_image

    compressed = jpeg_image(clean, 15)
    restored = denoise(compressed, model="jpeg")
    assert psnr(clean, restored) > psnr(clean, compressed) + 0.5, (psnr(clean, compressed), psnr(clean, restored))


def test_robust_upscaler_beats_the_default_on_a_degraded_small_image(clean):
    from imggan_enhance.degrade import robust_lowres_image

    low = robust_lowres_image(clean, 4, np.random.default_rng(0))  # blurred, noisy, JPEG-compressed LR
    default, robust = psnr(clean, upscale(low, scale=4)), psnr(clean, upscale(low, scale=4, model="robust"))
    assert robust > default + 0.1, (default, robust)


def test_sharp_upscaler_is_sharper_than_the_default_and_beats_bicubic(clean):
    from imggan.metrics import gradient_magnitude
    from imggan_enhance.degrade import downscale_image

    low = downscale_image(clean, 4)
    default, sharp = upscale(low, scale=4), upscale(low, scale=4, model="sharp")
    bicubic = cv2.resize(low, clean.shape[1::-1], interpolation=cv2.INTER_CUBIC)
    assert gradient_magnitude(sharp).mean() > 1.02 * gradient_magnitude(default).mean()
    assert psnr(clean, sharp) > psnr(clean, bicubic) + 0.5
