"""The ``stylize`` task run by the core's batch runner (``imggan stylize``).

Two ways to stylise, chosen by ``--model``:

* without ``--model`` (the default path): ``--style REF`` is required; each image is optimised so that
  its 7x7 patch statistics match the reference's (:mod:`imggan_style.optimize`), seconds per image;
* with ``--model NAME|FILE|RUN``: a trained feed-forward style or a translation (``--direction``),
  a fraction of a second per image, folders in batch.

Items arrive as ``HxWx3`` BGR uint8/uint16 and leave at the same size and dtype.
"""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from imggan.errors import ImgganError
from imggan.task import Item, RunContext, Task

STYLIZE_HELP = """Repaint images in the style of a reference image (--style), or with a trained style (--model).

\b
Default path (no --model): the photo with the reference's colours first, then multi-scale matching
of the reference's 7x7 patch distribution (sliced Wasserstein, coarse to fine, from the photo plus a
little seeded noise, so a smooth gradient gets texture, not rings) with a content term, then the
reference's fine-texture and colour histograms; no pretrained network.
  --strength 0..1   0 keeps the photo, 1 follows only the style statistics (default 0.5); the result
                    keeps a blurred-grayscale SSIM of at least 0.9 x (1 - strength) to the photo (0.45
                    at 0.5): below that its broad light and dark are moved toward the photo's
  --preserve-color  keep the photo's colours (Lab chroma), take lightness and texture from the style
  --size N          working resolution (long side, default 512); larger images are refined up to their
                    own size (the result plus the photo's finer detail), so the output size = input size
  --quality fast|best  best: twice the steps, more projections (about 2x the time; see the README)
  --seed N          same seed, same result
Trained models (--model NAME|FILE.safetensors|RUN_DIR): `imggan models --task stylize` lists the
shipped styles; `imggan train style` and `imggan train translate` make new ones (--direction a2b|b2a
picks the way of a CycleGAN model).

\b
Examples:
  imggan stylize photo.jpg --style painting.jpg -o out.png
  imggan stylize photos/ --style painting.jpg --strength 0.7 --preserve-color -o out/
  imggan stylize photos/ --model swamp -o out/
"""


def _read_style(path: Any) -> np.ndarray:
    """The reference as HxWx3 float32 RGB in [0, 1]; ImgganError (a usage error) when unreadable."""
    from pathlib import Path

    from imggan.io import decode_image, read_bytes
    from imggan.pipeline import split_image
    from imggan.tensors import image_to_tensor

    if path is None:
        raise ImgganError("--style REF is required (or pass --model NAME|RUN for a trained style)")
    path = Path(path)
    if not path.is_file():
        raise ImgganError(f"--style {path}: no such file")
    try:
        image, _ = decode_image(read_bytes(path), str(path))
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the user's file
        raise ImgganError(f"--style {path}: not a readable image ({exc})") from exc
    bgr, _ = split_image(image)
    return image_to_tensor(bgr)[0].numpy().transpose(1, 2, 0).copy()


def load_stylizer(ctx: RunContext) -> dict[str, Any]:
    """The trained network (``--model``, through the core's model cache) or the decoded reference (``--style``)."""
    direction = str(ctx.options.get("direction") or "a2b")
    if ctx.model:
        from imggan_style.inference import load_model

        return {"kind": "net", "model": load_model(ctx.model, ctx.device, direction)}
    if direction != "a2b":
        raise ImgganError("--direction goes with --model (a translation model)")
    return {"kind": "optimize", "style": _read_style(ctx.options.get("style"))}


def check_stylizer(ctx: RunContext) -> None:
    """Before any input is skipped: the model resolves and its card fits ``--direction`` (no weights loaded,
    :mod:`imggan.modelcache`), or the reference decodes; usage errors otherwise."""
    if ctx.model:
        from imggan_style.inference import check_model

        check_model(ctx.model, str(ctx.options.get("direction") or "a2b"))
        return
    _read_style(ctx.options.get("style"))


def _rgb(item: Item) -> np.ndarray:
    from imggan.tensors import image_to_tensor

    return image_to_tensor(item.image)[0].numpy().transpose(1, 2, 0)


def _back(rgb: np.ndarray, dtype: np.dtype) -> np.ndarray:
    import torch

    from imggan.tensors import tensor_to_image

    return tensor_to_image(torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))), dtype)


def _progress_bar(ctx: RunContext):
    if ctx.quiet:
        return None, None
    import sys

    from tqdm.auto import tqdm

    bar = tqdm(desc="  optimising", unit="step", leave=False, file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


def process_stylize(model: dict[str, Any], items: list[Item], ctx: RunContext) -> list[np.ndarray]:
    """Stylise a batch of same-size items."""
    opts = ctx.options
    dtype = items[0].image.dtype
    if model["kind"] == "net":
        from imggan.tensors import images_to_tensor, tensor_to_images
        from imggan_style.inference import apply

        x = images_to_tensor([item.image for item in items], ctx.device)
        y = apply(model["model"], x)
        strength = float(opts.get("strength") if opts.get("strength") is not None else 1.0)
        if strength < 1:
            y = x + strength * (y - x)
        outputs = tensor_to_images(y.clamp(0, 1).cpu(), dtype)
        if opts.get("preserve_color"):
            outputs = [_preserved(out, item) for out, item in zip(outputs, items, strict=True)]
        return outputs
    from imggan_style.optimize import DEFAULT_SIZE, DEFAULT_STRENGTH, stylize_array

    results = []
    for item in items:
        bar, update = _progress_bar(ctx)
        try:
            out = stylize_array(
                _rgb(item),
                model["style"],
                strength=float(opts.get("strength") if opts.get("strength") is not None else DEFAULT_STRENGTH),
                size=int(opts.get("size") or DEFAULT_SIZE),
                quality=str(opts.get("quality") or "fast"),
                seed=int(opts.get("seed") or 0),
                preserve_colors=bool(opts.get("preserve_color")),
                style_scale=float(opts.get("style_scale") or 1.0),
                device=ctx.device,
                progress=update,
            )
        finally:
            if bar is not None:
                bar.close()
        results.append(_back(out, dtype))
    return results


def _preserved(output: np.ndarray, item: Item) -> np.ndarray:
    from imggan_style.color import preserve_color

    styled = _rgb(Item(source=None, relative=item.relative, image=output))
    return _back(preserve_color(styled, _rgb(item)), output.dtype)


def stylize_options() -> list[click.Parameter]:
    """The options of ``imggan stylize`` (their values reach ``RunContext.options``)."""
    return [
        click.Option(
            ["--style", "style"],
            type=click.Path(exists=True, dir_okay=False),
            help="The style reference image (required without --model).",
        ),
        click.Option(
            ["--strength"],
            type=click.FloatRange(0, 1),
            default=None,
            help="Style/content balance, 0..1 (default 0.5; with --model: blend with the photo, default 1).",
        ),
        click.Option(["--preserve-color", "preserve_color"], is_flag=True, help="Keep the photo's colours."),
        click.Option(
            ["--size"], type=click.IntRange(16), default=512, show_default=True, help="Working resolution (long side)."
        ),
        click.Option(
            ["--quality"], type=click.Choice(["fast", "best"]), default="fast", show_default=True, help="Effort."
        ),
        click.Option(["--seed"], type=int, default=0, show_default=True, help="Random seed (reproducible results)."),
        click.Option(
            ["--style-scale", "style_scale"],
            type=click.FloatRange(0.1, 8),
            default=1.0,
            show_default=True,
            help="Size of the reference's textures (1 = reference at the picture's pixel area).",
        ),
        click.Option(
            ["--direction"],
            type=click.Choice(["a2b", "b2a"]),
            default="a2b",
            show_default=True,
            help="Way of a translation --model (b2a needs a CycleGAN model).",
        ),
    ]


def stylize_task() -> Task:
    """``imggan stylize INPUT... --style REF | --model NAME``."""
    return Task(
        name="stylize",
        help=STYLIZE_HELP,
        load=load_stylizer,
        process=process_stylize,
        options=stylize_options(),
        check_model=check_stylizer,
    )
