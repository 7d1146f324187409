"""Random multi-scale training crops from a folder of images, as float RGB batches.

Every image is decoded once with OpenCV and kept in memory at several scales (full, 1/2, 1/4, ...), so a
crop at scale 1/4 covers a whole scene while a crop at scale 1 shows fine texture. Crops are drawn with
probability proportional to each scaled image's area, flipped and rotated by multiples of 90 degrees.
Drawing a batch is pure NumPy slicing: no worker processes are needed to keep a CPU or GPU busy.

Every file is decoded and checked when the sampler opens (:func:`imggan.io.read_image`: header size limit,
truncation, corrupt data): a bad one is skipped, counted, and named in a warning of the ``imggan.data``
logger (the trainer copies those into the run's log); a missing or empty folder, or one without a usable
image, is an :class:`~imggan.errors.ImgganError` that says so in one line.

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

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from imggan.errors import ImgganError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
DEFAULT_MAX_PIXELS = 100_000_000
log = logging.getLogger("imggan.data")
_REPORTED: set[str] = set()  # warnings already given in this process (a folder is opened more than once)


def read_training_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode one training image fully as HxWx3 uint8 RGB (gray replicated, alpha dropped, 16-bit scaled).

    Raises:
        ImgganError: unreadable, truncated, corrupt, or larger than ``max_pixels``.
    """
    from imggan.io import read_image

    try:
        image, _ = read_image(path, max_pixels=max_pixels)
    except ImgganError:
        raise
    except (cv2.error, MemoryError, OSError, ValueError) as exc:
        detail = (str(exc).strip().splitlines() or [""])[-1]
        raise ImgganError(f"{path}: not readable ({type(exc).__name__}: {detail})") from None
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, 2)
    if image.shape[2] == 4:
        image = image[..., :3]
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _warn_once(message: str) -> None:
    if message not in _REPORTED:
        _REPORTED.add(message)
        log.warning("%s", message)


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
        max_pixels: larger images (by their header) are skipped without being decoded.

    Attributes:
        skipped: ``[(path, reason), ...]`` of the files that could not be used.

    Raises:
        ImgganError: the folder is missing or empty, or holds no usable image.
    """

    def __init__(
        self,
        folder: Path,
        crop: int,
        scales: Sequence[float] = (1.0, 0.5, 0.25),
        seed: int = 0,
        max_side: int = 2560,
        grayscale_fraction: float = 0.0,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        self.crop = crop
        self.grayscale_fraction = grayscale_fraction
        self.rng = np.random.default_rng(seed)
        self.images: list[np.ndarray] = []
        self.skipped: list[tuple[Path, str]] = []
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise ImgganError(f"training data {folder}: no such folder (pass --data DIR, a folder of images)")
        paths = list_images(folder)
        if not paths:
            raise ImgganError(f"training data {folder}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
        for path in paths:
            try:
                image = read_training_image(path, max_pixels)
            except ImgganError as exc:
                self.skipped.append((path, str(exc)))
                _warn_once(f"skipped training image {exc}")
                continue
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
        if self.skipped:
            _warn_once(f"skipped {len(self.skipped)} of {len(paths)} training images under {folder}")
        if not self.images:
            raise ImgganError(
                f"training data {folder}: no readable image of at least {crop}x{crop} pixels "
                f"({len(paths)} file(s), {len(self.skipped)} unreadable)"
            )
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
