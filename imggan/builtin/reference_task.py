"""The built-in ``run`` task: a chain of registered stages, ``imggan run photo.jpg --steps 'denoise;clahe'``.

It needs no model and no GAN head, so it proves the pipeline (IO, batch runner, plugins) on its own; heads
can add stages that the same chains then use.
"""

from __future__ import annotations

import click
import numpy as np

from imggan.errors import ImgganError
from imggan.hookspecs import hookimpl
from imggan.stages import parse_steps
from imggan.task import Item, RunContext, Task


def _load(ctx: RunContext) -> list:
    """Resolve the step names against the registered stages once per run."""
    from imggan.plugins import get_registry

    spec = ctx.options.get("steps")
    if not spec:
        raise ImgganError("imggan run needs --steps, e.g. --steps 'resize:0.5;clahe' (see `imggan stages`)")
    stages = get_registry().stages
    chain = []
    for name, params in parse_steps(spec):
        if name not in stages:
            raise ImgganError(f"unknown step {name!r}; available: {', '.join(sorted(stages))}")
        chain.append((stages[name], params))
    return chain


def _process(chain: list, items: list[Item], ctx: RunContext) -> list[np.ndarray]:
    results = []
    for item in items:
        image = item.image
        for stage, params in chain:
            try:
                image = stage.apply(image, **params)
            except TypeError as exc:
                raise ImgganError(f"step {stage.name!r}: bad parameters {params} ({exc})") from exc
        results.append(image)
    return results


RUN_TASK = Task(
    name="run",
    help="""Run a chain of OpenCV stages over images.

    \b
    Steps are separated by ';', parameters by ',':
      imggan run photos/ --steps 'resize:0.5;denoise:h=7;clahe' -o out/
    List the available steps with `imggan stages`.
    """,
    load=_load,
    process=_process,
    options=(
        click.Option(
            ["--steps"], required=True, metavar="SPEC", help="Stages to apply in order, e.g. 'denoise;clahe'."
        ),
    ),
)


@hookimpl
def register_tasks(register) -> None:
    """Register the ``run`` task."""
    register(RUN_TASK)
