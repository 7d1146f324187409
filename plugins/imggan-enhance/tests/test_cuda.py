"""The shipped enhance models give the CPU's result on a CUDA device. Marked ``gpu`` (skipped without CUDA)."""

import cv2
import numpy as np
import pytest

from imggan.metrics import psnr
from imggan_enhance.api import denoise, upscale
from imggan_enhance.degrade import noise_image

pytestmark = pytest.mark.gpu


def test_denoise_on_cuda_matches_the_cpu(clean):
    noisy = noise_image(clean, 25.0, np.random.default_rng(0))
    on_cpu, on_gpu = denoise(noisy, device="cpu"), denoise(noisy, device="cuda")
    assert on_gpu.shape == on_cpu.shape and on_gpu.dtype == np.uint8
    assert np.abs(on_gpu.astype(int) - on_cpu.astype(int)).max() <= 2
    assert psnr(clean, on_gpu) > psnr(clean, noisy) + 6.0


@pytest.mark.parametrize("scale", [2, 4])
def test_upscale_on_cuda_matches_the_cpu(clean, scale):
    small = cv2.resize(clean, (32, 32), interpolation=cv2.INTER_AREA)
    on_cpu, on_gpu = upscale(small, scale, device="cpu"), upscale(small, scale, device="cuda")
    assert on_gpu.shape == (32 * scale, 32 * scale, 3)
    assert np.abs(on_gpu.astype(int) - on_cpu.astype(int)).max() <= 2


def test_tiled_cuda_denoise_agrees_with_untiled(clean):
    big = cv2.resize(clean, (512, 384), interpolation=cv2.INTER_CUBIC)
    noisy = noise_image(big, 15.0, np.random.default_rng(1))
    whole, tiled = denoise(noisy, device="cuda", tile=4096), denoise(noisy, device="cuda", tile=256)
    diff = np.abs(whole.astype(int) - tiled.astype(int))[16:-16, 16:-16]
    assert diff.mean() < 0.5 and diff.max() < 10  # the CPU seam test's bounds
