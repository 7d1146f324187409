"""The ``generate`` task: listed by ``imggan tasks``, run by its own command (it reads no input images).

The core's batch runner maps input images to output images; a generator has no inputs, so ``imggan generate``
is the click command in :mod:`imggan_generate.cli` and the task's ``process`` stage refuses images with a
clear message. ``load`` is real: ``run_task``-style callers get the generator named by ``--model``.
"""

from __future__ import annotations

from typing import Any

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


def process_refuse(model: Any, items: list[Item], ctx: RunContext) -> list[np.ndarray]:
    """``generate`` maps no images to images: point to the command that does what was meant."""
    from imggan.errors import ImgganError

    raise ImgganError("generate takes no input images: run `imggan generate -n N -o OUT` (see --help)")


def generate_task() -> Task:
    """The ``generate`` :class:`~imggan.task.Task`."""
    return Task(name="generate", help=HELP, load=load_generator_task, process=process_refuse, default_model="digits")
