"""Feature spaces for the memorisation audit, trained here on the training images.

:func:`train_autoencoder` is a small convolutional autoencoder (its code is the audit's default feature
space for unlabelled sets). :func:`train_contrastive` is an augmentation-invariant embedding. The audit asks
"is this sample a (possibly slightly altered) copy of a training image?"; a feature space for that question
should keep a shifted, mirrored, re-lit, noised or slightly blurred copy of an image next to it, and put
distinct images apart. :func:`train_contrastive` trains a small CNN for exactly that by instance
discrimination (SimCLR's NT-Xent loss, Chen et al. 2020): two random light alterations of each training image
are a positive pair, every other image in the batch a negative. Its L2-normalised embedding is the feature
vector; flips are among the alterations, so the embedding is (nearly) mirror-invariant.

It is not the audit's feature space: it keeps altered copies next to their originals (100 % of light copies
counted on the lfw train faces), but it also spreads the few training images it tells apart over the sphere, so
that *new* faces land nearer to some training face than the training faces are to each other (10 of 10 val
faces counted, and all 70 train faces when each was held out of a fold: ``benchmarks/generate_audit_features.py``),
where the rate should be 2 / (n + 1). A feature network trained on the references themselves has to pass that
calibration before its counts mean anything; the autoencoder does (4 of 70 against 2.6 expected).

Example:
    >>> import numpy as np
    >>> from imggan_generate.features import train_contrastive
    >>> images = np.random.default_rng(0).integers(0, 256, (12, 16, 16, 1), dtype=np.uint8)
    >>> encode = train_contrastive(images, steps=3)
    >>> encode(images[:2]).shape
    (2, 64)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Alterations:
    """The light alterations a copy may carry (each drawn per image): what the embedding learns to ignore.

    Attributes:
        shift: largest translation in pixels (reflected border).
        flip: probability of a left-right mirror.
        brightness: largest brightness offset (on [-1, 1] values).
        contrast: largest relative contrast change.
        noise: largest standard deviation of added Gaussian noise (on [-1, 1] values).
        blur: probability of a light 3x3 blur.
    """

    shift: int = 2
    flip: float = 0.5
    brightness: float = 0.1
    contrast: float = 0.2
    noise: float = 0.04
    blur: float = 0.3


def alter(x: Any, rng: Any, how: Alterations = Alterations()) -> Any:
    """One random alteration of each image of the N x C x H x W tensor ``x`` (values in [-1, 1])."""
    import torch
    import torch.nn.functional as F

    n = len(x)
    s = how.shift
    if s:
        padded = F.pad(x, (s, s, s, s), mode="reflect")
        dy, dx = torch.randint(0, 2 * s + 1, (2, n), generator=rng)
        h, w = x.shape[2:]
        x = torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])
    mirror = torch.rand(n, generator=rng) < how.flip
    x = torch.where(mirror[:, None, None, None], x.flip(3), x)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    gain = 1.0 + (torch.rand(n, 1, 1, 1, generator=rng) * 2 - 1) * how.contrast
    offset = (torch.rand(n, 1, 1, 1, generator=rng) * 2 - 1) * how.brightness
    x = (x - mean) * gain + mean + offset
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), 3, 1)
    soft = torch.rand(n, generator=rng) < how.blur
    x = torch.where(soft[:, None, None, None], 0.5 * x + 0.5 * blurred, x)
    sigma = torch.rand(n, 1, 1, 1, generator=rng) * how.noise
    return (x + sigma * torch.randn(x.shape, generator=rng)).clamp(-1, 1)


def _tensor(images: np.ndarray) -> Any:
    """uint8 N x H x W x C images as a float N x C x H x W tensor on [-1, 1] (how the networks here see them)."""
    import torch

    return torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0)


def _network(channels: int, side: int, dim: int) -> Any:
    from torch import nn

    def block(cin: int, cout: int) -> list:
        return [nn.Conv2d(cin, cout, 3, 1, 1), nn.GroupNorm(8, cout), nn.ReLU(), nn.AvgPool2d(2)]

    final = side // 8
    return nn.Sequential(
        *block(channels, 16),
        *block(16, 32),
        *block(32, 64),
        nn.Flatten(),
        nn.Linear(64 * final * final, 256),
        nn.ReLU(),
        nn.Linear(256, dim),
    )


def _encoder(net: Any, post: Any = None) -> Any:
    """``encode(images) -> N x d`` float32 of a trained ``net`` (put in eval mode): uint8 N x H x W x C images
    scaled to [-1, 1] as in training, 512 at a time, each output passed through ``post`` when given."""
    import torch

    net.eval()

    def encode(batch_images: np.ndarray) -> np.ndarray:
        x = _tensor(batch_images)
        with torch.no_grad():
            parts = [net(x[i : i + 512]) for i in range(0, len(x), 512)]
            return torch.cat([p if post is None else post(p) for p in parts]).numpy()

    return encode


def train_contrastive(
    images: np.ndarray,
    steps: int = 800,
    dim: int = 64,
    batch: int = 64,
    temperature: float = 0.2,
    seed: int = 0,
    how: Alterations = Alterations(),
) -> Any:
    """Train the embedding of the module docstring on ``images`` (uint8 N x H x W x C, side a multiple of 8).

    Returns:
        ``encode(images) -> N x dim`` float32, unit-length rows.
    """
    import torch
    import torch.nn.functional as F

    from imggan.errors import ImgganError

    if images.shape[1] % 8 or images.shape[2] % 8:
        raise ImgganError(f"contrastive audit features need a side that is a multiple of 8, not {images.shape[1]}")
    torch.manual_seed(seed)
    x_all = _tensor(images)
    net = _network(images.shape[3], images.shape[1], dim)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    rng = torch.Generator().manual_seed(seed)
    size = min(batch, len(x_all))
    with torch.enable_grad():
        for _ in range(steps):
            x = x_all[torch.randperm(len(x_all), generator=rng)[:size]]
            z = F.normalize(net(torch.cat([alter(x, rng, how), alter(x, rng, how)])), dim=1)
            sim = z @ z.T / temperature
            sim.fill_diagonal_(float("-inf"))
            target = torch.cat([torch.arange(size, 2 * size), torch.arange(size)])
            loss = F.cross_entropy(sim, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return _encoder(net, lambda z: F.normalize(z, dim=1))


def train_autoencoder(images: np.ndarray, steps: int = 600, code: int = 64, seed: int = 0) -> Any:
    """A small convolutional autoencoder on ``images`` (uint8 N x H x W x C); returns ``encode(images)``.

    The encoder's code is the audit's feature space for unlabelled sets.
    """
    import torch
    from torch import nn

    x_all = _tensor(images)
    c, h, w = x_all.shape[1:]
    torch.manual_seed(seed)
    encoder = nn.Sequential(
        nn.Conv2d(c, 32, 3, 2, 1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, 2, 1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(64 * ((h + 3) // 4) * ((w + 3) // 4), code),
    )
    decoder = nn.Sequential(nn.Linear(code, 256), nn.ReLU(), nn.Linear(256, c * h * w), nn.Tanh())
    params = list(encoder.parameters()) + list(decoder.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    with torch.enable_grad():
        for _ in range(steps):
            batch = x_all[torch.randint(0, len(x_all), (min(64, len(x_all)),), generator=gen)]
            loss = ((decoder(encoder(batch)).view_as(batch) - batch) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return _encoder(encoder)
