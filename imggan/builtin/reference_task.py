"""The built-in ``run`` task: a chain of stages and model tasks, ``imggan run a.jpg --steps 'denoise;clahe'``.

A step is a registered stage (OpenCV image -> image, ``imggan stages``) or any registered task with a model
(``denoise``, ``upscale``, ``inpaint``...). A task step takes its command's options by parameter name
(``upscale:scale=2``; a bare value goes to its first option, ``upscale:2``), ``model=NAME|PATH|RUN`` for
its own model, and its side inputs by name (``inpaint:mask=masks/``; else the sidecar or alpha as in
``imggan inpaint``). Each step's model is checked before any input is skipped and loaded once per run, on
the run's ``--device``, with the run's ``--tile`` and ``--batch-size``.

Example:
    >>> import numpy as np
    >>> from imggan.pipeline import process_image
    >>> out = process_image("run", np.full((8, 8, 3), 100, np.uint8), steps="gamma:2;resize:scale=2")
    >>> out.shape
    (16, 16, 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import click
import numpy as np

from imggan.errors import ImgganError, MaskError
from imggan.hookspecs import hookimpl
from imggan.stages import parse_steps
from imggan.task import Item, RunContext, Task

_TRUE = {"1", "true", "yes", "on"}


@dataclass
class Step:
    """One resolved step: a stage with its parameters, or a task with its context, side values and model."""

    name: str
    stage: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    task: Task | None = None
    ctx: RunContext | None = None
    sides: dict[str, str] = field(default_factory=dict)
    model: Any = None


def task_step_options(task: Task, params: dict[str, Any]) -> dict[str, Any]:
    """Turn a step's ``key=value`` parameters into the task's option values, exactly as its command parses
    them (types, choices, callbacks, defaults)."""
    options = [p for p in task.options if isinstance(p, click.Option)]
    by_name = {o.name: o for o in options}
    for o in options:
        for flag in o.opts:
            by_name.setdefault(flag.lstrip("-").replace("-", "_"), o)
    args: list[str] = []
    for key, value in params.items():
        if key == "value":
            plain = [o for o in options if not o.is_flag]
            if not plain:
                raise ImgganError(f"step {task.name!r}: a bare value needs an option to go to; use key=value")
            option = plain[0]
        elif key in by_name:
            option = by_name[key]
        else:
            known = sorted({o.name for o in options} | {"model"} | {s.name for s in task.side_inputs})
            raise ImgganError(f"step {task.name!r}: unknown parameter {key!r}; it takes {', '.join(known)}")
        longest = max(option.opts, key=len)
        if option.is_flag:
            if str(value).lower() in _TRUE:
                args.append(longest)
        else:
            args.extend([longest, str(value)])
    command = click.Command(task.name, params=list(task.options))
    try:
        with command.make_context(task.name, args) as parsed:
            return dict(parsed.params)
    except click.UsageError as exc:
        raise ImgganError(f"step {task.name!r}: {exc.format_message()}") from None


def plan_steps(ctx: RunContext) -> list[Step]:
    """Resolve ``--steps`` against the registered stages and tasks (nothing loaded yet)."""
    from imggan.plugins import get_registry

    spec = ctx.options.get("steps")
    if not spec:
        raise ImgganError("imggan run needs --steps, e.g. --steps 'resize:0.5;clahe' (see `imggan stages`)")
    if ctx.model:
        raise ImgganError(
            f"imggan run: --model {ctx.model} would be ambiguous; give each step its own, "
            "e.g. --steps 'denoise;upscale:model=sharp'"
        )
    registry = get_registry()
    stages, tasks = registry.stages, {n: t for n, t in registry.tasks.items() if n != "run" and t.takes_images}
    steps = []
    for name, params in parse_steps(spec):
        if name in stages:
            steps.append(Step(name, stage=stages[name], params=params))
            continue
        if name not in tasks:
            raise ImgganError(
                f"unknown step {name!r}; available: {', '.join(sorted(stages))} (stages); "
                f"{', '.join(sorted(tasks)) or 'none'} (tasks)"
            )
        task = tasks[name]
        params = dict(params)
        model = params.pop("model", None)
        sides = {s.name: str(params.pop(s.name)) for s in task.side_inputs if s.name in params}
        sub = RunContext(
            device=ctx.device,
            model=None if model is None else str(model),
            options=task_step_options(task, params),
            tile=ctx.tile,
            batch_size=ctx.batch_size,
            quiet=True,
        )
        steps.append(Step(name, task=task, ctx=sub, sides=sides))
    return steps


def _check(ctx: RunContext) -> None:
    """Every step known, its parameters valid and its model checked, before any input is skipped."""
    for step in plan_steps(ctx):
        if step.task is not None and step.task.check_model is not None:
            step.task.check_model(step.ctx)


def _load(ctx: RunContext) -> list[Step]:
    """Resolve the chain and load each task step's model once (a model named twice is shared)."""
    steps = plan_steps(ctx)
    loaded: dict[tuple, Any] = {}
    for step in steps:
        if step.task is None:
            continue
        key = (step.name, step.ctx.model, repr(sorted(step.ctx.options.items())))
        if key not in loaded:
            loaded[key] = step.task.load(step.ctx)
        step.model = loaded[key]
    return steps


def _sides(step: Step, item: Item) -> dict[str, np.ndarray | None]:
    """A task step's side inputs for ``item``: the step's value or a sidecar, decoded like the runner does."""
    from pathlib import Path

    from imggan.inputs import Job, find_side_file
    from imggan.io import mask_gray, read_image

    sides: dict[str, np.ndarray | None] = {}
    for side in step.task.side_inputs:
        value = step.sides.get(side.name)
        if value is not None and not Path(value).exists():
            raise ImgganError(f"step {step.name!r}: {side.name}={value}: no such file or folder")
        found = None
        if item.source is not None:
            job = Job(source=item.source, relative=item.relative, output=item.output or item.relative)
            found = find_side_file(side, None if value is None else Path(value), job)
        elif value is not None and Path(value).is_file():
            found = Path(value)
        if found is None:
            sides[side.name] = None
            continue
        image, _ = read_image(found)
        sides[side.name] = mask_gray(image) if side.grayscale else image
    return sides


def _run_task_step(step: Step, image: np.ndarray, item: Item) -> np.ndarray:
    sub = Item(
        source=item.source,
        relative=item.relative,
        image=image,
        alpha=item.alpha,
        info=item.info,
        sides=_sides(step, item),
        output=item.output,
    )
    if step.task.prepare is not None:
        try:
            sub = step.task.prepare(sub, step.ctx)
        except MaskError as exc:
            names = "|".join(side.name for side in step.task.side_inputs) or "mask"
            raise MaskError(f"{exc} (as a step: {step.name}:{names}=FILE|DIR)") from None
    results = step.task.process(step.model, [sub], step.ctx)
    sub.result = results[0]
    result = step.task.finish(sub, step.ctx) if step.task.finish is not None else sub.result
    item.alpha = sub.alpha  # a task may take the alpha for itself (inpaint: transparent = hole)
    from imggan.normalise import match_dtype, split_image

    rgb, _ = split_image(np.asarray(result))
    return match_dtype(rgb, image.dtype)


def _process(steps: list[Step], items: list[Item], ctx: RunContext) -> list[np.ndarray]:
    results = []
    for item in items:
        image = item.image
        for step in steps:
            if step.stage is not None:
                try:
                    image = step.stage.apply(image, **step.params)
                except TypeError as exc:
                    raise ImgganError(f"step {step.name!r}: bad parameters {step.params} ({exc})") from exc
            else:
                image = _run_task_step(step, image, item)
        results.append(image)
    return results


RUN_TASK = Task(
    name="run",
    help="""Run a chain of steps over images: OpenCV stages and model tasks.

    \b
    Steps are separated by ';', parameters by ',':
      imggan run photos/ --steps 'resize:0.5;nlmeans:h=7;clahe' -o out/
      imggan run scans/ --steps 'denoise;upscale:scale=2' -o big/   (upscale:model=sharp: x4)
    A task step (denoise, upscale, inpaint, ...) takes its command's options by name, model=NAME|PATH
    for its own model and its side inputs by name (inpaint:mask=masks/); each model loads once per run.
    `imggan stages` lists the stages, `imggan tasks` the tasks.
    """,
    load=_load,
    process=_process,
    check_model=_check,
    options=(
        click.Option(
            ["--steps"],
            required=True,
            metavar="SPEC",
            help="Steps to apply in order, e.g. 'nlmeans;clahe' or 'denoise;upscale:scale=2'.",
        ),
    ),
)


@hookimpl
def register_tasks(register) -> None:
    """Register the ``run`` task."""
    register(RUN_TASK)
