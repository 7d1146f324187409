"""Random multi-scale training crops from a folder of images, as float RGB batches.

Every image is decoded once with OpenCV and kept in memory at several scales (full, 1/2, 1/4, ...), so a
crop at scale 1/4 covers a whole scene while a crop at scale 1 shows fine texture. Crops are drawn with
probability proportional to each scaled image's area, flipped and rotated by multiples of 90 degrees.
Drawing a batch is pure NumPy slicing: no worker processes are needed to keep a CPU or GPU busy.

Example:
    >>> import numpy as np, tempfile, cv2
    >>> from pathlib import Path
    >>> from imggan.data.crops import CropSampler
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = cv2.imwrite(str(folder / "a.png"), np.random.randint(0, 255, (100, 120, 3), np.uint8))
    >>> sampler = CropSampler(folder, crop=32, scales=(1.0, 0.5), seed=0)
    >>> tuple(sampler.batch(4).shape)
    (4, 3, 32, 32)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def list_images(folder: Path, recursive: bool = True) -> list[Path]:
    """Image files under ``folder`` (sorted, so runs are reproducible)."""
    folder = Path(folder)
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


class CropSampler:
    """Draw random ``crop``x``crop`` RGB patches from every image under a folder at several scales.

    Args:
        folder: a folder of training images (``imggan data fetch`` writes one).
        crop: side of the square crops, in pixels.
        scales: downscale factors kept in memory; scales that leave an image smaller than ``crop`` are
            dropped for that image.
        seed: seed of the sampler's own random generator (crops are reproducible for a given seed).
        max_side: images are first shrunk so their longer side is at most this (memory bound).
        grayscale_fraction: probability that a crop is turned gray (replicated to 3 channels), so models
            see gray photos too.
    """

    def __init__(
        self,
        folder: Path,
        crop: int,
        scales: Sequence[float] = (1.0, 0.5, 0.25),
        seed: int = 0,
        max_side: int = 2560,
        grayscale_fraction: float = 0.0,
    ) -> None:
        self.crop = crop
        self.grayscale_fraction = grayscale_fraction
        self.rng = np.random.default_rng(seed)
        self.images: list[np.ndarray] = []
        for path in list_images(folder):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                continue
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            longest = max(image.shape[:2])
            if longest > max_side:
                f = max_side / longest
                image = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
            for scale in scales:
                scaled = (
                    image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                )
                if min(scaled.shape[:2]) >= crop:
                    self.images.append(scaled)
        if not self.images:
            raise FileNotFoundError(f"no image of at least {crop}x{crop} pixels under {folder}")
        areas = np.array([im.shape[0] * im.shape[1] for im in self.images], dtype=np.float64)
        self.weights = areas / areas.sum()

    def crop_one(self) -> np.ndarray:
        """One random HxWx3 uint8 RGB crop."""
        image = self.images[self.rng.choice(len(self.images), p=self.weights)]
        h, w = image.shape[:2]
        y = int(self.rng.integers(0, h - self.crop + 1))
        x = int(self.rng.integers(0, w - self.crop + 1))
        patch = image[y : y + self.crop, x : x + self.crop]
        if self.rng.random() < 0.5:
            patch = patch[:, ::-1]
        patch = np.rot90(patch, int(self.rng.integers(0, 4)))
        if self.grayscale_fraction and self.rng.random() < self.grayscale_fraction:
            patch = np.repeat(cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2GRAY)[..., None], 3, 2)
        return np.ascontiguousarray(patch)

    def batch(self, batch_size: int) -> torch.Tensor:
        """``batch_size`` crops as a Bx3xHxW float32 tensor in [0, 1]."""
        stack = np.stack([self.crop_one() for _ in range(batch_size)])
        return torch.from_numpy(stack).permute(0, 3, 1, 2).float().div_(255.0)

    def __iter__(self) -> Iterator[torch.Tensor]:
        raise TypeError("use batches(batch_size) to iterate")

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        """Endless iterator of batches."""
        while True:
            yield self.batch(batch_size)
