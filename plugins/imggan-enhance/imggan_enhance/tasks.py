"""The ``denoise`` and ``upscale`` tasks run by the core's batch runner (``imggan denoise|upscale``).

Items arrive as ``HxWx3`` BGR uint8/uint16 (the runner splits off alpha and expands gray); the tasks return
images of the same dtype: the same size for denoise, ``scale`` x the size for upscale.
"""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from imggan.task import Item, RunContext, Task

DENOISE_HELP = """Remove Gaussian-like noise from photos (blind, or with a --sigma hint).

\b
The shipped model handles noise levels 0-50 (8-bit scale) without being told the level; --sigma N
(the noise standard deviation on the 8-bit scale, also for 16-bit files) tells it the level instead.
--model jpeg removes JPEG blocking and ringing instead (qualities 10-70, blind; no --sigma).
Large images run in overlapping tiles (--tile N to choose the side).
"""

UPSCALE_HELP = """Upscale images x2 or x4 (super-resolution), output exactly scale x the input size.

\b
Models: the default is PSNR-oriented (faithful, slightly soft); --model sharp is fine-tuned adversarially
for crisper texture; --model robust (x4) is for small images that are also blurred, noisy or JPEG-compressed.
Alpha channels are upscaled separately (bicubic). Large images run in tiles.
"""


def _load(task: str, name: str | None, ctx: RunContext) -> Any:
    from imggan_enhance.inference import load

    return load(task, name, ctx.device)


def _to_tensor(items: list[Item]) -> tuple[Any, np.dtype]:
    from imggan.tensors import images_to_tensor

    dtype = items[0].image.dtype
    return images_to_tensor([item.image for item in items]), dtype


def _to_images(y: Any, dtype: np.dtype) -> list[np.ndarray]:
    from imggan.tensors import tensor_to_images

    return tensor_to_images(y.cpu(), dtype)


def _check(task: str, name: str | None) -> None:
    from imggan.modelcache import resolve_checked
    from imggan_enhance.zoo import TASK_ARCHS

    resolve_checked(task, name, TASK_ARCHS[task])


def check_denoiser(ctx: RunContext) -> None:
    """Resolve ``--model`` and check its card (no weights loaded): run before any input is skipped."""
    _check("denoise", ctx.model)


def check_upscaler(ctx: RunContext) -> None:
    """Resolve ``--model`` for ``--scale`` and check its card (no weights loaded)."""
    from imggan.errors import ModelNotFoundError

    scale = int(ctx.options.get("scale") or 4)
    try:
        _check("upscale", upscale_model_name(ctx.model, scale))
    except ModelNotFoundError:
        if ctx.model in ("sharp", "robust") and scale != 4:
            raise ModelNotFoundError(
                f"--model {ctx.model} is an x4 model only (there is no {ctx.model} x{scale}); "
                f"use --scale 4, or --model x{scale}"
            ) from None
        raise


def load_denoiser(ctx: RunContext) -> Any:
    """The denoiser named by ``--model`` (default: the shipped one; the core refuses other tasks' models)."""
    return _load("denoise", ctx.model, ctx)


def _ensemble(ctx: RunContext) -> int:
    return int(ctx.options.get("ensemble") or 1)


def ensemble_option() -> click.Option:
    """``--ensemble N``: geometric self-ensemble (shared by denoise and upscale)."""
    return click.Option(
        ["--ensemble", "ensemble"],
        type=click.Choice(["1", "2", "4", "8"]),
        default="1",
        show_default=True,
        callback=lambda _ctx, _param, value: int(value),
        help="Average over N flipped/rotated copies: N times slower, slightly better (denoise: +0.1 dB at 2).",
    )


def process_denoise(model: Any, items: list[Item], ctx: RunContext) -> list[np.ndarray]:
    """Denoise a batch of same-size items."""
    from imggan_enhance.inference import run

    x, dtype = _to_tensor(items)
    sigma = ctx.options.get("sigma")
    if sigma is not None and not 0 <= float(sigma) <= 255:
        from imggan.errors import ImgganError

        raise ImgganError(f"--sigma {sigma}: give the noise level on the 8-bit scale, 0-255 (trained 0-50)")
    y = run(model, x, ctx.tile, _ensemble(ctx), sigma=None if sigma is None else float(sigma))
    return _to_images(y, dtype)


def upscale_model_name(model: str | None, scale: int) -> str | None:
    """Map ``--model`` + ``--scale`` to a registered name: ``None`` -> ``x4``/``x2``; ``sharp`` -> ``sharp``
    at x4 and ``sharp-x2`` at x2; anything else (a path or another name) is passed through."""
    if model is None or model == "default":
        return f"x{scale}"
    if model == "sharp" and scale == 2:
        return "sharp-x2"
    return model


def load_upscaler(ctx: RunContext) -> Any:
    """The upscaler for ``--scale`` and ``--model``; errors when the weights' scale differs."""
    from imggan.errors import ImgganError

    scale = int(ctx.options.get("scale") or 4)
    loaded = _load("upscale", upscale_model_name(ctx.model, scale), ctx)
    if loaded.scale != scale:
        where = loaded.path if loaded.path is not None else loaded.name
        raise ImgganError(f"{where}: upscales x{loaded.scale}, but --scale {scale} was asked for")
    return loaded


def process_upscale(model: Any, items: list[Item], ctx: RunContext) -> list[np.ndarray]:
    """Upscale a batch of same-size items by the model's scale."""
    from imggan_enhance.inference import run

    x, dtype = _to_tensor(items)
    return _to_images(run(model, x, ctx.tile, _ensemble(ctx)), dtype)


def denoise_task() -> Task:
    """``imggan denoise INPUT... [--sigma N]``."""
    return Task(
        name="denoise",
        help=DENOISE_HELP,
        load=load_denoiser,
        process=process_denoise,
        check_model=check_denoiser,
        options=[
            click.Option(
                ["--sigma", "--strength", "sigma"],
                type=click.FloatRange(0, 255),
                default=None,
                help="Noise level hint (std. dev. on the 8-bit scale, e.g. 25); default: blind.",
            ),
            ensemble_option(),
        ],
        default_model="default",
    )


def upscale_task() -> Task:
    """``imggan upscale INPUT... [-s 2|4] [--model sharp|robust]``."""
    return Task(
        name="upscale",
        help=UPSCALE_HELP,
        load=load_upscaler,
        process=process_upscale,
        check_model=check_upscaler,
        options=[
            click.Option(
                ["-s", "--scale", "scale"],
                type=click.Choice(["2", "4"]),
                default="4",
                show_default=True,
                callback=lambda _ctx, _param, value: int(value),
                help="Upscaling factor.",
            ),
            ensemble_option(),
        ],
        default_model="x4",
    )
