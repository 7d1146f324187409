"""Near-duplicate pictures between training images and an evaluation split (a leak check).

Two Debian packages can ship the same picture under different names: OpenArena reuses some Nexuiz textures
(some tinted), and ViSP ships two photographs of the 1927 Solvay conference (one in ``faces/``, taken a moment
apart from the one in ``Solvay/``). A benchmark image that is also a training image is not unseen, so
:func:`near_duplicates` finds such pairs in two steps, both on small grayscale thumbnails:

1. a coarse screen: the normalised correlation of 16x16 thumbnails (the picture's layout) of every pair, one
   matrix product for all of them; pairs at or above ``screen`` (0.7) go on;
2. the check: the normalised correlation of the fine detail (64x64 thumbnail minus its Gaussian blur, sigma
   2 px) of the evaluation image's central 48x48 region, searched over every shift and five scales
   (0.9-1.1) of the training image's thumbnail (``cv2.matchTemplate``). Copies, tints, re-crops and second
   exposures of one picture keep their edges in place: on the data here they score 0.95-1.0 (copied and
   tinted textures), 0.70 (the second Solvay photograph) and 0.59 (a crate texture redrawn with other dirt);
   different pictures that passed the screen (a wood floor and a checkerboard, a barrel lid and a retina
   photo, two green walls) score 0.52 and less.

A pair is a near-duplicate when the check reaches ``threshold`` (0.55).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> photo = cv2.GaussianBlur(rng.integers(0, 256, (300, 400)).astype(np.float32), (0, 0), 8)
    >>> recut = cv2.resize(photo[10:290, 12:390], (350, 260))  # another file of the same picture
    >>> other = cv2.GaussianBlur(rng.integers(0, 256, (300, 400)).astype(np.float32), (0, 0), 8)
    >>> [(a, b) for a, b, _ in near_duplicates({"test": recut}, {"same": photo, "other": other})]
    [('test', 'same')]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import cv2
import numpy as np

SCREEN_SIDE = 16  # coarse thumbnail side (layout only)
DETAIL_SIDE = 64  # fine thumbnail side for the aligned check
DETAIL_SIGMA = 2.0  # Gaussian blur removed from the fine thumbnail (px at DETAIL_SIDE)
SCALES = (0.9, 0.95, 1.0, 1.05, 1.1)  # training-thumbnail scales searched by the check


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY)


def coarse_signature(image: np.ndarray, side: int = SCREEN_SIDE) -> np.ndarray:
    """The zero-mean, unit-norm ``side``x``side`` gray thumbnail of ``image``, flattened (float32)."""
    t = cv2.resize(_gray(image), (side, side), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    t -= t.mean()
    return t / max(float(np.linalg.norm(t)), 1e-6)


def _detail(image: np.ndarray, side: int) -> np.ndarray:
    t = cv2.resize(_gray(image), (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
    return t - cv2.GaussianBlur(t, (0, 0), DETAIL_SIGMA)


def aligned_correlation(probe: np.ndarray, reference: np.ndarray) -> float:
    """Best normalised correlation of ``probe``'s central fine detail anywhere in ``reference`` (5 scales).

    Both images are squashed to square thumbnails first, so a re-crop of up to about 10 % per side, a
    rescale and a change of aspect ratio of that order still line up at some shift and scale.
    """
    margin = DETAIL_SIDE // 8
    template = _detail(probe, DETAIL_SIDE)[margin:-margin, margin:-margin]
    best = -1.0
    for scale in SCALES:
        scaled = _detail(reference, int(round(DETAIL_SIDE * scale)))
        if scaled.shape[0] < template.shape[0]:
            continue
        best = max(best, float(cv2.matchTemplate(scaled, template, cv2.TM_CCOEFF_NORMED).max()))
    return best


def near_duplicates(
    probes: Mapping[str, np.ndarray],
    references: Mapping[str, np.ndarray],
    threshold: float = 0.55,
    screen: float = 0.7,
) -> list[tuple[str, str, float]]:
    """Pairs (probe name, reference name, aligned correlation) that show the same picture, best first.

    Args:
        probes: evaluation images (gray or BGR uint8) by name.
        references: training images by name.
        threshold: least :func:`aligned_correlation` of a near-duplicate.
        screen: least coarse (16x16) correlation for a pair to be checked at all.
    """
    if not probes or not references:
        return []
    probe_names, ref_names = list(probes), list(references)
    coarse = (
        np.stack([coarse_signature(probes[n]) for n in probe_names])
        @ np.stack([coarse_signature(references[n]) for n in ref_names]).T
    )
    found = []
    for i, j in np.argwhere(coarse >= screen):
        score = aligned_correlation(probes[probe_names[i]], references[ref_names[j]])
        if score >= threshold:
            found.append((probe_names[i], ref_names[j], score))
    return sorted(found, key=lambda item: -item[2])


def folder_thumbnails(folder: Path, names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Gray 128x128 thumbnails (enough for both steps) of the PNGs of ``folder`` by stem (or only ``names``)."""
    wanted = None if names is None else set(names)
    out = {}
    for path in sorted(Path(folder).glob("*.png")):
        if wanted is not None and path.stem not in wanted:
            continue
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is not None:
            out[path.stem] = cv2.resize(image, (128, 128), interpolation=cv2.INTER_AREA)
    return out
