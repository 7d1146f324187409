"""Patch statistics of images: Laplacian pyramids, 7x7 patch descriptors, multi-scale sliced Wasserstein.

The multi-scale sliced Wasserstein distance (SWD) follows ProGAN's (Karras et al. 2018): take a Laplacian
pyramid of each image, cut 7x7 patches at every level, normalise them, and compare the two sets of patches
level by level with the sliced Wasserstein distance (random unit projections, sorted, mean absolute gap).
It needs no trained network, so it serves every head: style distance (output vs reference), generator
quality (samples vs held-out images) and hole texture (fill vs original, patches centred in the hole).

Normalisation: both sets are scaled by the *reference* set's per-dimension mean and standard deviation (the
second argument), so a colour or contrast shift away from the reference counts as distance.

Example:
    >>> import numpy as np
    >>> from imggan.metrics.patches import multiscale_swd
    >>> rng = np.random.default_rng(0)
    >>> noise = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(2)]
    >>> flat = [np.full((64, 64, 3), 128, np.uint8) for _ in range(2)]
    >>> more_noise = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(2)]
    >>> multiscale_swd(more_noise, noise)["mean"] < multiscale_swd(flat, noise)["mean"]
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def laplacian_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """Laplacian pyramid of ``image`` (HxW or HxWxC, any dtype) as float32 arrays, finest level first.

    Levels ``0 .. levels-2`` are band-pass (a Gaussian level minus the upsampled next one); the last level is
    the low-pass remainder. Fewer levels are returned when the image gets smaller than 8 px.
    """
    current = image.astype(np.float32)
    pyramid: list[np.ndarray] = []
    for _ in range(levels - 1):
        if min(current.shape[:2]) < 16:
            break
        smaller = cv2.pyrDown(current)
        up = cv2.pyrUp(smaller, dstsize=(current.shape[1], current.shape[0]))
        pyramid.append(current - up)
        current = smaller
    pyramid.append(current)
    return [level if level.ndim == 3 else level[..., None] for level in pyramid]


def patch_descriptors(
    level: np.ndarray,
    size: int = 7,
    count: int | None = 256,
    rng: np.random.Generator | None = None,
    centres: np.ndarray | None = None,
) -> np.ndarray:
    """Flattened ``size``x``size`` patches of one pyramid level (HxWxC float), one row per patch.

    Args:
        level: the image or pyramid level.
        size: patch side (odd).
        count: how many patches to draw at random; ``None`` takes every valid centre.
        rng: the random generator for the draw (default: seeded with 0).
        centres: an HxW boolean map; only patches whose centre lies there are drawn.

    Returns:
        An N x (size*size*C) float32 array (N may be 0 when no centre is valid).
    """
    rng = rng or np.random.default_rng(0)
    h, w = level.shape[:2]
    half = size // 2
    valid = np.zeros((h, w), bool)
    valid[half : h - half, half : w - half] = True
    if centres is not None:
        valid &= centres.astype(bool)
    ys, xs = np.nonzero(valid)
    if len(ys) == 0:
        return np.zeros((0, size * size * level.shape[2]), np.float32)
    if count is not None and len(ys) > count:
        pick = rng.choice(len(ys), count, replace=False)
        ys, xs = ys[pick], xs[pick]
    windows = np.lib.stride_tricks.sliding_window_view(level, (size, size), axis=(0, 1))
    patches = windows[ys - half, xs - half]  # N x C x size x size
    return np.ascontiguousarray(patches.reshape(len(ys), -1), dtype=np.float32)


def _swd(a: np.ndarray, b: np.ndarray, projections: int, rng: np.random.Generator) -> float:
    n = min(len(a), len(b))
    a = a[rng.permutation(len(a))[:n]].astype(np.float64)
    b = b[rng.permutation(len(b))[:n]].astype(np.float64)
    directions = rng.normal(size=(a.shape[1], projections))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    return float(np.abs(np.sort(a @ directions, axis=0) - np.sort(b @ directions, axis=0)).mean())


def multiscale_swd(
    test: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    levels: int = 3,
    patch: int = 7,
    patches_per_image: int = 256,
    projections: int = 128,
    seed: int = 0,
    masks: Sequence[np.ndarray] | None = None,
) -> dict:
    """ProGAN's multi-scale sliced Wasserstein distance between two sets of images (lower = closer).

    Args:
        test: the images to score (HxWxC or HxW arrays; sizes may differ).
        reference: the images they should resemble; its patches set the normalisation.
        levels: Laplacian pyramid levels.
        patch: patch side.
        patches_per_image: patches drawn per image and level.
        projections: random unit directions of the sliced distance.
        seed: fixes the patch draw and the directions.
        masks: with pairs (``test[i]`` is an output of ``reference[i]``), HxW maps; patches are then taken
            only at centres inside the mask (resized to each level), at the same centres in both images.

    Returns:
        ``{"levels": [swd per level, finest first], "mean": mean over levels}``.
    """
    if masks is not None and not (len(masks) == len(test) == len(reference)):
        raise ValueError("masks need one test and one reference image each")
    rng = np.random.default_rng(seed)
    per_level_test: list[list[np.ndarray]] = [[] for _ in range(levels)]
    per_level_ref: list[list[np.ndarray]] = [[] for _ in range(levels)]
    if masks is None:
        for images, store in ((test, per_level_test), (reference, per_level_ref)):
            for image in images:
                for i, level in enumerate(laplacian_pyramid(image, levels)):
                    store[i].append(patch_descriptors(level, patch, patches_per_image, rng))
    else:
        for out, ref, mask in zip(test, reference, masks, strict=True):
            pyramids = zip(laplacian_pyramid(out, levels), laplacian_pyramid(ref, levels), strict=True)
            for i, (lo, lr) in enumerate(pyramids):
                hole = (mask > 0).astype(np.uint8)
                small = cv2.resize(hole, (lo.shape[1], lo.shape[0]), interpolation=cv2.INTER_NEAREST)
                draw_seed = int(rng.integers(1 << 31))  # one seed for both: the same centres in each image
                centres = small > 0
                per_level_test[i].append(
                    patch_descriptors(lo, patch, patches_per_image, np.random.default_rng(draw_seed), centres)
                )
                per_level_ref[i].append(
                    patch_descriptors(lr, patch, patches_per_image, np.random.default_rng(draw_seed), centres)
                )
    distances = []
    for a_parts, b_parts in zip(per_level_test, per_level_ref, strict=True):
        if not a_parts or not b_parts:
            continue
        a, b = np.concatenate(a_parts), np.concatenate(b_parts)
        if len(a) == 0 or len(b) == 0:
            continue
        mean, std = b.mean(axis=0), b.std(axis=0) + 1e-6
        distances.append(_swd((a - mean) / std, (b - mean) / std, projections, rng))
    return {"levels": distances, "mean": float(np.mean(distances)) if distances else float("nan")}
