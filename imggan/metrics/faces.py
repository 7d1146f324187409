"""Face rate: does a generator draw faces, or textures with a face's outline? A detector trained here.

A distribution distance such as SWD on a few held-out faces cannot tell a blurry face from a grey texture
inside a face-shaped silhouette: both match the patch statistics about equally well. This module trains a small
binary CNN (the classifier of :mod:`imggan.metrics.generation`) on

- **positives**: the given real faces, jittered (mirror, shift, brightness / contrast, a little blur and noise,
  so that a smooth but well-formed face still counts);
- **negatives**: real non-face images when given (``lfw_subset()`` holds 100), plus four kinds made from the
  faces themselves that keep what a texture generator gets right and destroy the face:

  * ``phase``: the face's amplitude spectrum with random phases (the same texture statistics, no layout);
  * ``silhouette``: the face blurred to its outline (sigma = side / 8) plus the fine detail of a phase-scrambled
    face: the "texture in a face-shaped blob" failure;
  * ``blocks``: the face cut in a 4 x 4 grid of tiles, shuffled (local parts present, arrangement wrong);
  * ``blur``: the outline alone (sigma = side / 8): no eyes, nose or mouth.

:meth:`FaceDetector.face_rate` is the fraction of images it scores above 0.5. Compare a generator's rate with the
rate of real held-out faces (near 1) and of held-out negatives (near 0): the benchmark reports all three.

Example:
    >>> import numpy as np
    >>> from imggan.metrics.faces import face_negatives
    >>> faces = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 1), dtype=np.uint8)
    >>> sorted(face_negatives(faces, seed=0))
    ['blocks', 'blur', 'phase', 'silhouette']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from imggan.metrics.generation import ImageClassifier, as_nhwc, train_classifier

NEGATIVE_KINDS = ("phase", "silhouette", "blocks", "blur")


def _grey(images: np.ndarray) -> np.ndarray:
    """N x H x W float32 grey images of uint8 N x H x W x C (C = 1 or 3, RGB)."""
    images = as_nhwc(images)
    if images.shape[3] == 3:
        images = np.stack([cv2.cvtColor(np.ascontiguousarray(im), cv2.COLOR_RGB2GRAY) for im in images])[..., None]
    return images[..., 0].astype(np.float32)


def _match_stats(image: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``image`` with the mean and standard deviation of ``like``."""
    std = image.std()
    return (image - image.mean()) / (std if std > 1e-6 else 1.0) * like.std() + like.mean()


def _phase_scramble(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.fft2(image - image.mean())
    phases = np.angle(np.fft.fft2(rng.standard_normal(image.shape)))  # Hermitian: the inverse stays real
    scrambled = np.real(np.fft.ifft2(np.abs(spectrum) * np.exp(1j * phases)))
    return _match_stats(scrambled, image)


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def _blocks(image: np.ndarray, rng: np.random.Generator, grid: int = 4) -> np.ndarray:
    h, w = image.shape
    th, tw = h // grid, w // grid
    tiles = [image[i * th : (i + 1) * th, j * tw : (j + 1) * tw] for i in range(grid) for j in range(grid)]
    order = rng.permutation(len(tiles))
    out = image.copy()
    for k, src in enumerate(order):
        i, j = divmod(k, grid)
        out[i * th : (i + 1) * th, j * tw : (j + 1) * tw] = tiles[src]
    return out


def face_negatives(faces: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """The four made negatives of every face (uint8 N x H x W x 1 each, one per face), by kind.

    Args:
        faces: uint8 N x H x W x C faces (colour is converted to grey).
        seed: fixes the random phases and tile orders.
    """
    rng = np.random.default_rng(seed)
    grey = _grey(faces)
    sigma = grey.shape[1] / 8.0
    out: dict[str, list[np.ndarray]] = {kind: [] for kind in NEGATIVE_KINDS}
    for face in grey:
        outline = _blur(face, sigma)
        scrambled = _phase_scramble(face, rng)
        out["phase"].append(scrambled)
        out["silhouette"].append(outline + scrambled - _blur(scrambled, sigma))
        out["blocks"].append(_blocks(face, rng))
        out["blur"].append(outline)
    return {k: np.clip(np.rint(np.stack(v)), 0, 255).astype(np.uint8)[..., None] for k, v in out.items()}


def _jitter(images: np.ndarray, rng: np.random.Generator, shift: int) -> np.ndarray:
    """Mirror, shift (reflected border), brightness / contrast, light blur and noise: one variant per image."""
    out = []
    for image in _grey(images):
        if rng.random() < 0.5:
            image = image[:, ::-1]
        dy, dx = rng.integers(-shift, shift + 1, 2)
        padded = np.roll(np.pad(image, shift, mode="reflect"), (int(dy), int(dx)), axis=(0, 1))
        image = padded[shift:-shift, shift:-shift]
        mean = image.mean()
        image = (image - mean) * rng.uniform(0.7, 1.3) + mean + rng.uniform(-25, 25)
        if rng.random() < 0.5:
            image = _blur(np.ascontiguousarray(image, np.float32), rng.uniform(0.3, 1.0))
        image = image + rng.normal(0, rng.uniform(0, 6), image.shape)
        out.append(image)
    return np.clip(np.rint(np.stack(out)), 0, 255).astype(np.uint8)[..., None]


@dataclass
class FaceDetector:
    """A face / non-face CNN trained by :func:`train_face_detector`.

    Attributes:
        classifier: the binary :class:`~imggan.metrics.generation.ImageClassifier` (class 1 = face).
        negatives: how many training negatives of each kind it was trained on.
    """

    classifier: ImageClassifier
    negatives: dict[str, int]

    def probability(self, images: np.ndarray) -> np.ndarray:
        """P(face) of each image (uint8 N x H x W x C, any side: resized to the detector's)."""
        logits = self.classifier.logits(_grey(images).astype(np.uint8)[..., None])
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p[:, 1] / p.sum(axis=1)

    def face_rate(self, images: np.ndarray) -> float:
        """Fraction of ``images`` the detector calls faces (P(face) > 0.5)."""
        return float((self.probability(images) > 0.5).mean()) if len(images) else float("nan")

    def report(self, images: np.ndarray) -> dict[str, float]:
        """``{"face_rate", "mean_probability"}`` of ``images``."""
        p = self.probability(images)
        return {"face_rate": float((p > 0.5).mean()), "mean_probability": float(p.mean())}


def train_face_detector(
    faces: np.ndarray,
    non_faces: np.ndarray | None = None,
    variants: int = 12,
    steps: int = 1500,
    size: int = 24,
    seed: int = 0,
) -> FaceDetector:
    """Train the face / non-face detector of the module docstring.

    Args:
        faces: uint8 N x H x W x C real faces (the positives; only a train split, never a scored one).
        non_faces: uint8 real non-face images (resized to the faces' side), or ``None`` for made negatives only.
        variants: jittered copies of each face; the negatives are drawn to the same total count.
        steps: training steps of the CNN (batch 64).
        size: the CNN's input side (a multiple of 4).
        seed: fixes the negatives, the jitter and the training.

    Returns:
        The trained :class:`FaceDetector`.
    """
    faces = as_nhwc(np.asarray(faces))
    side = faces.shape[1]
    rng = np.random.default_rng(seed)
    positives = np.concatenate([_jitter(faces, rng, max(1, side // 16)) for _ in range(variants)])
    pools: list[np.ndarray] = []
    kinds: list[str] = []
    for r in range(max(1, variants // 2)):
        for kind, images in face_negatives(faces, seed=seed * 1000 + r).items():
            pools.append(_jitter(images, rng, 1))
            kinds += [kind] * len(images)
    if non_faces is not None and len(non_faces):
        real = _grey(non_faces)
        if real.shape[1:] != (side, side):
            real = np.stack([cv2.resize(im, (side, side), interpolation=cv2.INTER_AREA) for im in real])
        real = np.clip(np.rint(real), 0, 255).astype(np.uint8)[..., None]
        repeat = max(1, len(positives) // (2 * len(real)))  # jittered copies: about half as many as the positives
        pools += [_jitter(real, rng, 1) for _ in range(repeat)]
        kinds += ["non_faces"] * (repeat * len(real))
    keep = rng.permutation(len(kinds))[: len(positives)]  # as many negatives as positives, drawn from the pool
    negatives = np.concatenate(pools)[keep]
    picked = np.asarray(kinds)[keep]
    counts = {str(k): int((picked == k).sum()) for k in dict.fromkeys(kinds)}
    images = np.concatenate([positives, negatives])
    labels = np.concatenate([np.ones(len(positives), np.int64), np.zeros(len(negatives), np.int64)])
    clf = train_classifier(images, labels, steps=steps, size=size, seed=seed)
    return FaceDetector(clf, counts)


def face_rates(detector: FaceDetector, named: dict[str, np.ndarray]) -> dict[str, Any]:
    """:meth:`FaceDetector.report` of each named image set (e.g. real held-out faces, negatives, samples)."""
    return {name: detector.report(images) for name, images in named.items()}
