"""Patch sampling and the sliced Wasserstein losses."""

import torch

from imggan_style.swd import StyleQuantiles, grid_patches, patch_swd, sample_patches


def test_patches_are_the_image_pixels():
    x = torch.arange(2 * 3 * 10 * 12, dtype=torch.float32).reshape(2, 3, 10, 12)
    g = torch.Generator().manual_seed(0)
    patches = sample_patches(x, 5, 7, g)
    assert patches.shape == (10, 3 * 49)
    # each row is one 7x7 window of one image: its first channel starts at a valid top-left pixel
    first = patches[:, 0]
    row0 = patches[:, :7]
    assert torch.equal(row0 - first[:, None], torch.arange(7.0).expand(10, 7))


def test_grid_patches_cover_every_pixel_once_per_step():
    x = torch.rand(1, 3, 64, 64, requires_grad=True)
    patches = grid_patches(x, 64, 7, torch.Generator().manual_seed(1))
    patches.sum().backward()
    covered = x.grad[0, 0]
    assert covered.max() == 1  # stride 7: the windows tile the image without overlap
    assert (covered[6:-6, 6:-6] > 0).all()


def test_swd_is_smaller_for_the_same_distribution():
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(1, 3, 40, 40, generator=g), torch.rand(1, 3, 40, 40, generator=g)
    assert patch_swd(a, b, 512, generator=g) < patch_swd(a * 0.3, b, 512, generator=g)


def test_style_quantiles_loss_prefers_the_reference():
    g = torch.Generator().manual_seed(0)
    style = torch.rand(1, 3, 48, 48, generator=g)
    reference = StyleQuantiles(style, scales=2, projections=16, reference_patches=1024, generator=g, subspace=8)
    same = torch.rand(1, 3, 48, 48, generator=g)
    flat = torch.full((1, 3, 48, 48), 0.5)
    assert reference.loss(same, 512) < reference.loss(flat, 512)
    assert reference.color_loss(same) < reference.color_loss(flat)
