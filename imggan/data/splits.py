"""Evaluation splits: the most textured crops of held-out images, and object-shaped holes from silhouettes.

Benchmarks that pick crops at random from photos mostly get sky and blur, where any smooth fill looks good.
:func:`textured_crops` instead scores many candidate crops of each image by gradient energy (mean Sobel
magnitude of the gray crop) and keeps the most textured one, skipping candidates that are themselves strongly
periodic (a grating or a tiled panel: their fine-detail autocorrelation at 8-16 px above ``max_pattern``),
since the pattern score is meant to catch invented repetition, not to reward copying a grid.

Splits (folders written by ``imggan data fetch``, see :mod:`imggan.data.packages`):

- ``val``: ``ROOT/heldout`` (four wallpaper photos never trained on) for choosing checkpoints and weights;
- ``test``: ``ROOT/test`` (whole packages and sequences never trained on or tuned on), benchmark only.

Object-shaped holes (:func:`object_mask`) are tuxpaint stamps' alpha silhouettes from ``ROOT/masks/<split>``,
scaled to cover a drawn fraction of the crop, flipped or rotated, placed at random.

Example:
    >>> import numpy as np
    >>> from imggan.data.splits import object_mask
    >>> silhouette = np.zeros((50, 40), np.uint8); silhouette[5:45, 5:35] = 255
    >>> m = object_mask([silhouette], 128, np.random.default_rng(0), (0.15, 0.3))
    >>> m.shape, bool(0.14 <= (m > 0).mean() <= 0.31)
    ((128, 128), True)
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import cv2
import numpy as np

SPLIT_FOLDERS = {"val": ("heldout", "val"), "test": ("test", "test")}  # images folder, masks folder

# Evaluation images that show a picture also among the training images (found by
# :func:`imggan.data.duplicates.near_duplicates`; ``tests/test_data_duplicates.py`` rescans the data on disk):
# the split builder gives them no crop. Stem -> the training image it repeats.
TRAIN_DUPLICATES: dict[str, dict[str, str]] = {
    "test": {
        "visp-faces-1280px-Solvay_conference_1927": "visp-Solvay-Solvay_conference_1927_Version2_1024x705",
        "nexuiz-e7_e7walldesign01": "openarena-e7_e7walldesign01",
        "nexuiz-e7_e7panelwood": "openarena-e7_e7panelwood",
        "nexuiz-evil2_misc_crate_drtyow": "openarena-evil2_misc_crate_drtyow",
        "nexuiz-evil2_misc_ecrate_drty": "openarena-evil2_misc_crate_drtyow",  # the same crate, other dirt
        "nexuiz-evil8_wall_e8crete03c": "openarena-evil8_wall_e8crete03c",
        "nexuiz-evil8_base_e8crete03_blue": "openarena-cmp1-dm8_e8crete03",  # the same concrete, tinted blue
    },
    "val": {},
}


def gradient_energy(image: np.ndarray) -> float:
    """Mean Sobel gradient magnitude of the gray image (a cheap texture measure)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    gray = gray.astype(np.float32)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.sqrt(gx * gx + gy * gy).mean())


def _periodicity(crop: np.ndarray) -> float:
    from imggan.metrics.inpainting import image_pattern_score

    return image_pattern_score(crop, np.ones(crop.shape[:2], bool))


def textured_crops(
    folder: Path,
    count: int,
    size: int = 256,
    seed: int = 0,
    candidates: int = 24,
    scales: Sequence[float] = (1.0, 0.5),
    max_pattern: float = 0.1,
    min_energy: float = 12.0,
    exclude: Collection[str] = (),
) -> list[tuple[str, np.ndarray]]:
    """``count`` BGR crops, each the most textured of ``candidates`` random crops of one image of ``folder``.

    Images are visited in a seeded shuffled order (one crop per image while images last, then again); each
    candidate is cut at one of ``scales`` (INTER_AREA). An image whose best candidate has less gradient
    energy than ``min_energy`` (flat panels, sky) gives no crop. Deterministic for a given folder and ``seed``.
    Images whose stem is in ``exclude`` give no crop either, but keep their place in the visiting order and
    their draws of the seeded generator: every other image gets the crop it gets without the exclusion, and
    the next image in the order takes the excluded one's place.
    """
    files = sorted(p for p in Path(folder).glob("*.png"))
    if not files:
        raise FileNotFoundError(f"no images in {folder}; run `imggan data fetch` first")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(files))
    crops: list[tuple[str, np.ndarray]] = []
    attempts = 0
    while len(crops) < count and attempts < 4 * count + len(files):
        path = files[order[attempts % len(files)]]
        attempts += 1
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        excluded = path.stem in exclude
        best, best_energy = None, -1.0
        for _ in range(candidates):
            scale = float(scales[int(rng.integers(len(scales)))])
            scaled = (
                image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            )
            h, w = scaled.shape[:2]
            if h < size or w < size:
                continue
            y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
            if excluded:
                continue
            crop = scaled[y : y + size, x : x + size]
            energy = gradient_energy(crop)
            if energy > best_energy and _periodicity(crop) <= max_pattern:
                best, best_energy = crop.copy(), energy
        if best is not None and best_energy >= min_energy:
            crops.append((f"{path.stem}-{len(crops):02d}", best))
    return crops


def split_crops(
    split: str, root: Path | None = None, count: int = 36, size: int = 256, seed: int = 0
) -> list[tuple[str, np.ndarray]]:
    """The textured crops of a named split (``val`` or ``test``) under ``root`` (default data cache).

    Images that repeat a training picture (:data:`TRAIN_DUPLICATES`) give no crop.
    """
    from imggan.data.sources import DEFAULT_ROOT

    images, _ = SPLIT_FOLDERS[split]
    return textured_crops(Path(root or DEFAULT_ROOT) / images, count, size, seed, exclude=TRAIN_DUPLICATES[split])


def load_silhouettes(split: str, root: Path | None = None) -> list[np.ndarray]:
    """The object silhouettes (uint8, 255 = object) of a split's ``masks`` folder (``train``, ``val``, ``test``)."""
    from imggan.data.sources import DEFAULT_ROOT

    folder = Path(root or DEFAULT_ROOT) / "masks" / SPLIT_FOLDERS.get(split, (None, split))[1]
    files = sorted(folder.glob("*.png"))
    if not files:
        raise FileNotFoundError(f"no silhouettes in {folder}; run `imggan data fetch` first")
    return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in files]


def object_mask(
    silhouettes: Sequence[np.ndarray], size: int, rng: np.random.Generator, coverage: tuple[float, float] = (0.15, 0.3)
) -> np.ndarray:
    """One object-shaped hole (uint8 size x size, 255 = hole) covering a fraction drawn from ``coverage``.

    A silhouette is drawn, flipped / rotated by a multiple of 90 degrees, scaled so its area is the target
    fraction of the crop (capped so it fits), and placed at a random position entirely inside the crop.
    """
    for _ in range(32):  # thin shapes capped by the crop may fall short of the coverage: draw another
        mask = _place(silhouettes, size, rng, float(rng.uniform(*coverage)))
        if coverage[0] <= (mask > 0).mean() <= coverage[1]:
            break
    return mask


def _place(silhouettes: Sequence[np.ndarray], size: int, rng: np.random.Generator, fraction: float) -> np.ndarray:
    shape = silhouettes[int(rng.integers(len(silhouettes)))] > 127
    if rng.random() < 0.5:
        shape = shape[:, ::-1]
    shape = np.ascontiguousarray(np.rot90(shape, int(rng.integers(4)))).astype(np.uint8) * 255
    target = fraction * size * size
    h0, w0 = shape.shape
    cap = size / max(h0, w0)
    scale = np.sqrt(target / (max(float((shape > 0).mean()), 1e-3) * h0 * w0))
    for _ in range(4):  # resizing changes the area a little: correct the scale from the measured area
        s = min(scale, cap)
        h, w = max(1, round(h0 * s)), max(1, round(w0 * s))
        resized = cv2.resize(shape, (w, h), interpolation=cv2.INTER_LINEAR) > 127
        area = float(resized.sum())
        if s >= cap or area == 0 or abs(area - target) / target < 0.02:
            break
        scale = s * np.sqrt(target / area)
    mask = np.zeros((size, size), np.uint8)
    y, x = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
    mask[y : y + h, x : x + w] = np.where(resized, 255, 0)
    return mask
