"""The ``inpaint`` task: ``imggan inpaint INPUT... [-m FILE|DIR] [--invert-mask] [--dilate PX] [-o PATH]``.

Mask resolution, per input: ``--mask`` (a file for every image, or a folder paired by stem), else a sidecar
``<stem>_mask.png`` / ``<stem>.mask.png`` (found by the core's runner), else the image's alpha channel
(transparent = hole; the output is then opaque), else a :class:`~imggan.errors.MaskError` that fails this
file only. Masks of another size are resized (nearest) and thresholded at 127.

Example (CLI):
    imggan inpaint photo.jpg -m photo_mask.png -o filled.png
"""

from __future__ import annotations

from typing import Any

import click
import cv2
import numpy as np

from imggan.errors import MaskError
from imggan.task import Item, RunContext, SideInput, Task

HELP = """Fill masked holes in photos with the shipped inpainting GAN.

\b
White mask pixels are filled; every other pixel is kept bit for bit:
  imggan inpaint photo.jpg -m photo_mask.png -o filled.png
  imggan inpaint photos/ -m masks/ -o out/        (masks paired by stem)
Without --mask, a sidecar <stem>_mask.png or <stem>.mask.png is used, else the alpha channel
(transparent = hole). Large photos are worked on in crops around each hole.
"""


def hole_from_mask(mask: np.ndarray, shape: tuple[int, int], invert: bool = False, dilate: int = 0) -> np.ndarray:
    """Turn a user mask into an HxW bool hole: resized (nearest), thresholded at 127, inverted, dilated.

    Args:
        mask: HxW, HxWx3 or HxWx4 array, uint8/uint16/bool/float; white (above half range) = hole.
        shape: the image's (height, width).
        invert: black = hole instead.
        dilate: grow the hole by this many pixels (elliptic structuring element).

    Raises:
        MaskError: the mask is empty or not an image.
    """
    mask = np.asarray(mask)
    if mask.ndim == 3:
        mask = mask[..., :3].max(axis=2)
    if mask.ndim != 2 or mask.size == 0:
        raise MaskError(f"a mask must be a 2-D image, got an array of shape {mask.shape}")
    if mask.dtype == bool:
        hole = mask
    elif mask.dtype.kind == "f":
        hole = mask > 0.5
    else:
        peak = 255 if mask.dtype == np.uint8 else int(np.iinfo(mask.dtype).max) if mask.dtype.kind == "u" else 255
        hole = mask > (127 if peak == 255 else peak // 2)
    if hole.shape != tuple(shape):
        hole = cv2.resize(hole.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    if invert:
        hole = ~hole
    if dilate > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1))
        hole = cv2.dilate(hole.astype(np.uint8), kernel) > 0
    return hole


def _prepare(item: Item, ctx: RunContext) -> Item:
    """Resolve the item's hole (mask, sidecar or alpha) and keep it in ``item.extra["hole"]``."""
    mask = item.sides.get("mask")
    if mask is None and item.alpha is not None:
        peak = np.iinfo(item.alpha.dtype).max if item.alpha.dtype.kind == "u" else 1.0
        mask = (item.alpha < peak / 2).astype(np.uint8) * 255
        item.alpha = None  # the transparent area is filled: the result is opaque
    if mask is None:
        where = item.source if item.source is not None else "image"
        raise MaskError(
            f"{where}: no mask found: pass -m/--mask FILE|DIR, put a <stem>_mask.png beside the image, "
            "or give it an alpha channel (transparent = hole)"
        )
    opts = ctx.options
    hole = hole_from_mask(
        mask, item.image.shape[:2], bool(opts.get("invert_mask", False)), int(opts.get("dilate", 0) or 0)
    )
    if hole.all():
        where = item.source if item.source is not None else "image"
        raise MaskError(f"{where}: the mask covers the whole image, so there is nothing to fill the hole from")
    item.extra["hole"] = hole
    return item


def _check_model(ctx: RunContext) -> None:
    """Resolve ``--model`` and check its card (task, architecture) without loading weights."""
    from imggan.modelcache import resolve_checked
    from imggan_inpaint.models import ARCH_NAME

    resolve_checked("inpaint", None if ctx.model is None else str(ctx.model), {ARCH_NAME})


def _load(ctx: RunContext) -> Any:
    from imggan_inpaint.inference import load_model

    return load_model(ctx.model, ctx.device)


def _process(model: Any, items: list[Item], ctx: RunContext) -> list[np.ndarray]:
    from imggan_inpaint.inference import inpaint_bgr

    # --tile N (the core's option) and --max-side N both bound the crop the network sees at once.
    max_side = int(ctx.tile or ctx.options.get("max_side") or 1024)
    return [inpaint_bgr(model, item.image, item.extra["hole"], max_side=max_side) for item in items]


TASK = Task(
    name="inpaint",
    help=HELP,
    load=_load,
    process=_process,
    check_model=_check_model,
    prepare=_prepare,
    options=(
        click.Option(["--invert-mask"], is_flag=True, help="Black mask pixels are the hole instead of white."),
        click.Option(["--dilate"], type=click.IntRange(0, 256), default=0, metavar="PX", help="Grow holes by PX."),
        click.Option(
            ["--max-side"],
            type=click.IntRange(64, 8192),
            default=1024,
            show_default=True,
            metavar="PX",
            help="Largest crop the network sees; bigger photos are worked on around each hole.",
        ),
    ),
    side_inputs=(
        SideInput(
            "mask",
            help="Mask image (white = hole) for every input, or a folder of masks paired by stem.",
            short="-m",
            sidecar_suffixes=("_mask", ".mask"),
        ),
    ),
    default_model="inpaint-small",
)
