"""Pictures of samples: grids, strips and animations (OpenCV), written atomically.

Images are uint8 ``H x W x C`` arrays in RGB (C = 3) or grey (C = 1); the writers convert to OpenCV's BGR.

Example:
    >>> import numpy as np
    >>> from imggan_generate.render import grid
    >>> grid(np.zeros((5, 8, 8, 1), np.uint8), columns=3, pad=1).shape
    (19, 28, 1)
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from imggan.weights import atomic_write_bytes


def zoom(images: np.ndarray, factor: int) -> np.ndarray:
    """Enlarge N x H x W x C images ``factor`` times with nearest-neighbour (to look at small samples)."""
    if factor <= 1:
        return images
    return images.repeat(factor, axis=1).repeat(factor, axis=2)


def grid(images: np.ndarray, columns: int | None = None, pad: int = 2, value: int = 255) -> np.ndarray:
    """Tile N x H x W x C images into one picture, ``columns`` per row (default: a near square)."""
    n, h, w, c = images.shape
    columns = max(1, min(n, columns or int(np.ceil(np.sqrt(n)))))
    rows = int(np.ceil(n / columns))
    canvas = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad, c), value, np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        canvas[y : y + h, x : x + w] = image
    return canvas


def to_bgr(image: np.ndarray) -> np.ndarray:
    """RGB (or grey) H x W x C -> what OpenCV writes (BGR, or H x W grey)."""
    if image.shape[2] == 1:
        return np.ascontiguousarray(image[..., 0])
    return np.ascontiguousarray(image[..., ::-1])


def write_png(path: Path, image: np.ndarray) -> Path:
    """Write one RGB/grey image as PNG (or the suffix's format), atomically."""
    from imggan.io import write_image

    write_image(Path(path), to_bgr(image))
    return Path(path)


def write_animation(path: Path, frames: np.ndarray, ms_per_frame: int = 120, bounce: bool = True) -> Path:
    """Write frames as an animated GIF or WebP (by ``path``'s suffix) with OpenCV, looping forever.

    ``bounce`` plays the frames forward then backward, so the loop has no jump.
    """
    path = Path(path)
    sequence = list(frames) + (list(frames[-2:0:-1]) if bounce and len(frames) > 2 else [])
    animation = cv2.Animation()
    bgr = [cv2.cvtColor(to_bgr(f), cv2.COLOR_GRAY2BGR) if f.shape[2] == 1 else to_bgr(f) for f in sequence]
    animation.frames = bgr
    animation.durations = [int(ms_per_frame)] * len(bgr)
    animation.loop_count = 0
    ok, buffer = cv2.imencodeanimation(path.suffix.lower() or ".gif", animation)
    if not ok:
        raise OSError(f"{path}: OpenCV could not encode an animation in this format")
    atomic_write_bytes(path, buffer.tobytes())
    return path
