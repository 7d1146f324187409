"""Python functions mirroring ``imggan stylize`` (and, for training, ``imggan train style|translate``).

Images are OpenCV arrays (HxWx3 BGR, uint8 or uint16, or gray/BGRA as the pipeline accepts); results
have the input's size, dtype and channels.

Example:
    >>> import numpy as np
    >>> from imggan_style.api import stylize
    >>> rng = np.random.default_rng(0)
    >>> photo = np.full((33, 45, 3), 120, np.uint8)
    >>> painting = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    >>> stylize(photo, style=painting, size=32, device="cpu").shape
    (33, 45, 3)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imggan.errors import ImgganError


def _style_rgb(style: np.ndarray | str | Path) -> np.ndarray:
    from imggan.pipeline import split_image
    from imggan.tensors import image_to_tensor
    from imggan_style.tasks import _read_style

    if isinstance(style, str | Path):
        return _read_style(style)
    if not isinstance(style, np.ndarray) or style.ndim not in (2, 3):
        raise ImgganError("style: give an image array or a file path")
    bgr, _ = split_image(style)
    return image_to_tensor(bgr)[0].numpy().transpose(1, 2, 0).copy()


def stylize(
    image: np.ndarray,
    style: np.ndarray | str | Path | None = None,
    *,
    model: str | None = None,
    strength: float | None = None,
    preserve_color: bool = False,
    size: int = 512,
    quality: str = "fast",
    seed: int = 0,
    style_scale: float = 1.0,
    direction: str = "a2b",
    device: str = "auto",
) -> np.ndarray:
    """Stylise one image like ``imggan stylize``: with a reference (``style``) or a trained ``model``.

    Args:
        image: the photo (OpenCV layout).
        style: the reference, as an array (OpenCV layout) or a file path; needed without ``model``.
        model: a shipped style name, a ``.safetensors`` file or a training run folder.
        strength: style/content balance in [0, 1] (default 0.5 for the optimiser, 1 for a model); the
            optimiser's result keeps a blurred-gray SSIM of at least ``0.9 * (1 - strength)`` to the photo.
        preserve_color: keep the photo's chroma.
        size: working resolution (long side) of the optimiser.
        quality: ``fast`` or ``best``.
        seed: random seed of the optimiser.
        style_scale: texture scale of the reference.
        direction: ``a2b`` or ``b2a`` for translation models.
        device: ``auto``, ``cpu``, ``cuda``...
    """
    from imggan.device import resolve_device
    from imggan.pipeline import finish_item, split_image
    from imggan.task import ImageInfo, Item, RunContext
    from imggan_style.tasks import process_stylize, stylize_task

    options = {
        "strength": strength,
        "preserve_color": preserve_color,
        "size": size,
        "quality": quality,
        "seed": seed,
        "style_scale": style_scale,
        "direction": direction,
    }
    ctx = RunContext(device=resolve_device(device), model=model, options=options, quiet=True)
    if model:
        from imggan_style.inference import load_model

        loaded: dict[str, Any] = {"kind": "net", "model": load_model(model, ctx.device, direction)}
    else:
        if style is None:
            raise ImgganError("stylize: give style= (a reference image) or model=")
        loaded = {"kind": "optimize", "style": _style_rgb(style)}
    bgr, alpha = split_image(image)
    channels = 1 if image.ndim == 2 else image.shape[2]
    item = Item(source=None, relative=Path("image.png"), image=bgr, alpha=alpha,
                info=ImageInfo(dtype=str(image.dtype), channels=channels))  # fmt: skip
    item.result = process_stylize(loaded, [item], ctx)[0]
    return finish_item(item, stylize_task(), ctx)


def train_style(style: str | Path, data: str | Path, out: str | Path, **config: Any) -> dict[str, Any]:
    """``imggan train style --style STYLE --data DATA --out OUT`` (config keys as ``--set``); the run's stats."""
    from imggan.train.trainer import train
    from imggan_style.recipes import style_recipe

    return train(style_recipe(), {"style": str(style), "data": str(data), **config}, Path(out))


def train_translate(domain_a: str | Path, domain_b: str | Path, out: str | Path, **config: Any) -> dict[str, Any]:
    """``imggan train translate --domain-a A --domain-b B --out OUT`` (``mode="cyclegan"`` for CycleGAN)."""
    from imggan.train.trainer import train
    from imggan_style.recipes import translate_recipe

    return train(translate_recipe(), {"domain_a": str(domain_a), "domain_b": str(domain_b), **config}, Path(out))
