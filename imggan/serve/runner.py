"""One HTTP run of a task on uploaded bytes: decode, check, run through the core's pipeline, encode.

Decoding and encoding are the CLI's (``imggan.io``), and the run itself is
:func:`imggan.pipeline.process_image` (prepare -> model -> finish with gray, alpha and bit depth restored),
so the server gives back what ``imggan <task>`` would write. The heads load their networks through the
core's cache (:mod:`imggan.modelcache`), so a second request does not read the weights again.

Nothing here touches the file system on a client's behalf: uploads arrive as bytes, a file name is used only
to name the image in messages and to tell its format, and ``model`` must be a registered name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import cv2
import numpy as np

from imggan.errors import ImageReadError, ImgganError
from imggan.io import WRITE_FORMATS, decode_image, encode_image, mask_gray
from imggan.serve.schema import OptionError
from imggan.task import ImageInfo, Task

MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".bmp": "image/bmp",
}
OUTPUT_FORMATS = ("keep", "png", "jpg", "webp", "tif", "bmp")


class TaskFailure(Exception):
    """A task raised something other than a user-facing :class:`ImgganError` (a bug or a model failure)."""


@dataclass
class Encoded:
    """An encoded result: the bytes, their media type, the suffix, and the decoded shape and dtype."""

    data: bytes
    media_type: str
    suffix: str
    width: int
    height: int
    channels: int
    dtype: str


def safe_name(filename: str | None, fallback: str) -> str:
    """The last component of a client's file name (only ever used in messages and to read its suffix)."""
    name = PurePath((filename or "").replace("\\", "/")).name
    return name or fallback


def decode_upload(data: bytes, name: str, max_pixels: int | None) -> tuple[np.ndarray, ImageInfo]:
    """Decode an uploaded image (pixel limit checked from the header first; see :func:`imggan.io.decode_image`)."""
    if not data:
        raise ImageReadError(f"{name}: empty upload (0 bytes)")
    try:
        return decode_image(data, name, max_pixels=max_pixels)
    except cv2.error as exc:  # a malformed file that OpenCV's decoder rejects by raising
        raise ImageReadError(f"{name}: not a readable image ({exc.err or 'OpenCV could not decode it'})") from exc


def output_suffix(fmt: str, info: ImageInfo) -> str:
    """``keep`` -> the input's own format, else the named one (``jpg``, ``png``, ...)."""
    fmt = (fmt or "keep").lower()
    if fmt == "keep":
        return ".jpg" if info.format == ".jpeg" else info.format
    if fmt not in WRITE_FORMATS:
        raise OptionError(f"format {fmt!r}: choose one of {', '.join(OUTPUT_FORMATS)}")
    return WRITE_FORMATS[fmt]


def encode_result(image: np.ndarray, suffix: str, jpeg_quality: int = 95) -> Encoded:
    """Encode a result as the CLI would write it (JPEG drops alpha and 16-bit depth; PNG/TIFF keep them)."""
    data = encode_image(image, suffix, jpeg_quality=jpeg_quality)
    channels = 1 if image.ndim == 2 else image.shape[2]
    return Encoded(data, MEDIA_TYPES.get(suffix, "application/octet-stream"), suffix, image.shape[1], image.shape[0],
                   channels, str(image.dtype))  # fmt: skip


def check_model(task: Task, model: str | None, models: list[Any]) -> str | None:
    """``model`` must be empty (the task's default) or a name registered for ``task``; never a path."""
    if not model:
        return None
    names = sorted(m.name for m in models if m.task == task.name)
    if model not in names:
        raise OptionError(f"unknown model {model!r} for task {task.name!r} (models: {', '.join(names) or 'none'})")
    return model


def decode_sides(
    task: Task, uploads: dict[str, tuple[bytes, str]], shape: tuple[int, int], max_pixels: int | None
) -> dict[str, np.ndarray | None]:
    """Decode the task's side inputs (e.g. the mask); each must have the image's size.

    Raises:
        ImageReadError: a side input is not an image, or has another size than the image.
    """
    sides: dict[str, np.ndarray | None] = {}
    known = {side.name for side in task.side_inputs}
    extra = sorted(set(uploads) - known)
    if extra:
        raise OptionError(
            f"task {task.name!r} takes no file {extra[0]!r} (files: image{''.join(', ' + k for k in sorted(known))})"
        )
    for side in task.side_inputs:
        if side.name not in uploads:
            sides[side.name] = None
            continue
        data, name = uploads[side.name]
        image, _ = decode_upload(data, name, max_pixels)
        if image.shape[:2] != shape:
            raise ImageReadError(
                f"{name}: the {side.name} is {image.shape[1]}x{image.shape[0]} but the image is "
                f"{shape[1]}x{shape[0]}; send a {side.name} of the image's size"
            )
        sides[side.name] = mask_gray(image) if side.grayscale else image
    return sides


def run_upload(
    task: Task,
    image: np.ndarray,
    sides: dict[str, np.ndarray | None],
    options: dict[str, Any],
    *,
    device: str,
    model: str | None,
    tile: int | None,
) -> np.ndarray:
    """Run ``task`` on a decoded image through :func:`imggan.pipeline.process_image`.

    Raises:
        ImgganError: the task refused the input (its message is for the user).
        TaskFailure: anything else went wrong inside the task.
    """
    from imggan.pipeline import process_image

    try:
        return process_image(task, image, device=device, model=model, tile=tile, sides=sides, **options)
    except ImgganError:
        raise
    except Exception as exc:  # a model's failure must not take the server down
        raise TaskFailure(f"task {task.name!r} failed: {type(exc).__name__}: {exc}") from exc
