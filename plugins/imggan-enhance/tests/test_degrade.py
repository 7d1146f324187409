"""Degradations: noise statistics, gray noise, rounding, antialiased bicubic downscaling."""

import numpy as np
import torch

from imggan_enhance.degrade import add_noise, downscale, downscale_image, noise_image, quantize


def test_noise_level_matches_sigma():
    x = torch.full((2, 3, 64, 64), 0.5)
    noisy = add_noise(x, torch.tensor([25.0, 10.0]), generator=torch.Generator().manual_seed(0))
    std = (noisy - x).flatten(1).std(1) * 255
    assert abs(float(std[0]) - 25) < 1.0 and abs(float(std[1]) - 10) < 0.6
    assert torch.equal(noisy, quantize(noisy))  # 8-bit values


def test_gray_images_get_the_same_noise_in_every_channel():
    x = torch.full((2, 3, 16, 16), 0.5)
    noisy = add_noise(x, torch.tensor([20.0, 20.0]), torch.Generator().manual_seed(1), gray=torch.tensor([True, False]))
    assert torch.equal(noisy[0, 0], noisy[0, 1]) and torch.equal(noisy[0, 1], noisy[0, 2])
    assert not torch.equal(noisy[1, 0], noisy[1, 1])


def test_noise_image_rounds_and_clips():
    image = np.array([[[0, 128, 255]]], np.uint8).repeat(50, 0).repeat(50, 1)
    out = noise_image(image, 25.0, np.random.default_rng(0))
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert 20 < np.std(out[..., 1].astype(float) - 128) < 30


def test_downscale_is_antialiased_and_keeps_constants():
    flat = torch.full((1, 3, 32, 32), 0.25)
    assert torch.allclose(downscale(flat, 4), torch.full((1, 3, 8, 8), 0.25), atol=1e-6)
    # a 1-pixel checkerboard averages out (no aliasing), unlike point sampling
    board = (torch.arange(32)[:, None] + torch.arange(32)[None]) % 2
    low = downscale(board.float().expand(1, 3, 32, 32), 4)
    assert float((low - 0.5).abs().max()) < 0.05
    assert downscale_image(np.zeros((20, 12, 3), np.uint8), 4).shape == (5, 3, 3)
