"""pluggy hook implementations of the inpainting head (entry point ``imggan_inpaint`` in group ``imggan``).

Nothing here imports torch: the task, models, recipe and loss terms are described cheaply and build their
networks lazily, so ``imggan --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from imggan.hookspecs import hookimpl


@hookimpl
def register_tasks(register: Callable[[Any], None]) -> None:
    """Register the ``inpaint`` task."""
    from imggan_inpaint.task import TASK

    register(TASK)


@hookimpl
def register_models(register: Callable[[Any], None]) -> None:
    """Register the shipped model(s); ``inpaint-small`` is the default."""
    from imggan_inpaint.api import WEIGHTS_DIR, model_entries

    if not WEIGHTS_DIR.is_dir():
        return
    for entry in model_entries():
        register(entry)


@hookimpl
def register_recipes(register: Callable[[Any], None]) -> None:
    """Register ``imggan train inpaint``."""
    from imggan_inpaint.recipe import build_recipe

    register(build_recipe())


def _hole_l1(ctx: Any) -> Any:
    from imggan_inpaint.losses import hole_l1

    return hole_l1(ctx.fake.float(), ctx.real.float(), ctx.batch["hole"])


def _hole_grad(ctx: Any) -> Any:
    from imggan_inpaint.losses import hole_grad

    return hole_grad(ctx.fake.float(), ctx.real.float(), ctx.batch["hole"])


def _hole_energy(ctx: Any) -> Any:
    from imggan_inpaint.losses import hole_energy

    return hole_energy(ctx.fake.float(), ctx.real.float(), ctx.batch["hole"])


def _hole_detail(ctx: Any) -> Any:
    from imggan_inpaint.losses import hole_detail

    return hole_detail(ctx.fake.float(), ctx.real.float(), ctx.batch["hole"])


def _hole_ssim(ctx: Any) -> Any:
    from imggan_inpaint.losses import hole_ssim

    return hole_ssim(ctx.fake.float(), ctx.real.float(), ctx.batch["hole"])


@hookimpl
def register_losses(register: Callable[[Any], None]) -> None:
    """Register ``hole_l1``, ``hole_grad``, ``hole_energy``, ``hole_detail`` and ``hole_ssim`` for ``--loss``."""
    from imggan.train.losses import LossTerm

    register(LossTerm("hole_l1", "L1 inside the hole only, per hole pixel (inpainting).", _hole_l1))
    register(LossTerm("hole_grad", "L1 of Sobel gradients inside the hole (inpainting edges).", _hole_grad))
    register(LossTerm("hole_energy", "L1 of local mean gradient magnitudes inside the hole (detail).", _hole_energy))
    register(LossTerm("hole_detail", "Relative error of each hole's mean gradient magnitude.", _hole_detail))
    register(LossTerm("hole_ssim", "1 - SSIM over the hole and its 5-pixel rim (structure).", _hole_ssim))
