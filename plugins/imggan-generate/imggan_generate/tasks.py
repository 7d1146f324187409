"""The ``generate`` task: listed by ``imggan tasks``, run by its own command (it reads no input images).

The core's batch runner maps input images to output images; a generator has no inputs, so ``imggan generate``
is the click command in :mod:`imggan_generate.cli`; the task sets ``takes_images=False`` (no ``imggan run``
step, no image input in ``imggan tasks --json``) and its ``process`` stage refuses images with a clear message.
``load`` is real (the core's model cache, :mod:`imggan.modelcache`): ``run_task``-style callers get the
generator named by ``--model``; ``check_model`` checks that name and its card without loading weights.
:func:`generate_source` is how ``imggan serve`` runs the task from options alone: one sample, or a grid of
``count`` samples.
"""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from imggan.task import Item, RunContext, Task

HELP = """Generate new images from noise: -n N images, a --grid, a latent --interpolate walk or an --explore grid.

\b
Takes no input images. Conditional models take --label K (a class index or name).
"""


def load_generator_task(ctx: RunContext) -> Any:
    """The generator named by ``ctx.model`` (default: the shipped default model)."""
    from imggan_generate.api import load_generator

    return load_generator(ctx.model, ctx.device)


def check_generator(ctx: RunContext) -> None:
    """Resolve ``ctx.model`` and check its card (no weights loaded): one line naming the file when it is wrong."""
    from imggan.modelcache import resolve_checked
    from imggan_generate.zoo import ARCHS

    resolve_checked("generate", ctx.model, ARCHS)


def process_refuse(model: Any, items: list[Item], ctx: RunContext) -> list[np.ndarray]:
    """``generate`` maps no images to images: point to the command that does what was meant."""
    from imggan.errors import ImgganError

    raise ImgganError("generate takes no input images: run `imggan generate -n N -o OUT` (see --help)")


def generate_task() -> Task:
    """The ``generate`` :class:`~imggan.task.Task`."""
    return Task(
        name="generate",
        help=HELP,
        load=load_generator_task,
        process=process_refuse,
        default_model="digits",
        check_model=check_generator,
        takes_images=False,
    )


SOURCE_OPTIONS = [
    click.Option(["-n", "--count", "count"], type=click.IntRange(1, 400), default=1, help="How many (> 1: a grid)."),
    click.Option(["--label"], help="Class index or name, for conditional models (empty: one class per column)."),
    click.Option(["--seed"], type=int, default=0, help="First seed (image i uses seed + i)."),
    click.Option(
        ["--truncation"],
        type=click.FloatRange(0.0, 2.0, min_open=True),
        default=1.0,
        help="Scale the latents by PSI (< 1: more typical, less varied).",
    ),
    click.Option(["--columns"], type=click.IntRange(1, 100), help="Grid columns (empty: automatic)."),
    click.Option(["--zoom"], type=click.IntRange(1, 16), default=4, help="Enlarge (nearest) by Z."),
]


def _columns(model: Any, options: dict[str, Any]) -> int:
    """Grid columns as ``imggan generate --grid`` chooses them: given, one class per column, or a near square."""
    count = int(options["count"])
    if options.get("columns"):
        return min(count, int(options["columns"]))
    if model.num_classes and options.get("label") is None:
        return min(count, model.num_classes)
    return min(count, int(np.ceil(np.sqrt(count))))


def source_size(model: Any, options: dict[str, Any]) -> tuple[int, int]:
    """(height, width) of the image :func:`make_from_options` would make (one sample, or the padded grid)."""
    side = model.resolution * int(options["zoom"])
    count = int(options["count"])
    if count == 1:
        return side, side
    columns = _columns(model, options)
    rows = -(-count // columns)
    return rows * (side + 2) + 2, columns * (side + 2) + 2


def make_from_options(model: Any, ctx: RunContext) -> np.ndarray:
    """One sample (``count`` 1) or the grid of ``count`` samples, as OpenCV writes it (BGR or grey)."""
    from imggan_generate import api, render

    o = ctx.options
    images = render.zoom(api.generate(model, int(o["count"]), o.get("label"), int(o["seed"]), o["truncation"]),
                         int(o["zoom"]))  # fmt: skip
    image = images[0] if len(images) == 1 else render.grid(images, _columns(model, o))
    return render.to_bgr(image)


def generate_source() -> Any:
    """How ``imggan serve`` runs ``generate`` without an input image (an :class:`imggan.serve.sources.Source`)."""
    from imggan.serve.sources import Source

    return Source("generate", options=SOURCE_OPTIONS, make=make_from_options, size=source_size)
