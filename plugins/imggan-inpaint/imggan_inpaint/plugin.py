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
    from imggan_inpaint.tasks import TASK

    register(TASK)


@hookimpl
def register_models(register: Callable[[Any], None]) -> None:
    """Register the shipped model(s); ``inpaint-small`` is the default."""
    from imggan_inpaint.zoo import model_entries

    for entry in model_entries():
        register(entry)


@hookimpl
def register_recipes(register: Callable[[Any], None]) -> None:
    """Register ``imggan train inpaint``."""
    from imggan_inpaint.recipes import build_recipe

    register(build_recipe())


class _HoleTerm:
    """A trainer loss term calling ``imggan_inpaint.losses.<name>(fake, real, hole)`` (imported when first used)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, ctx: Any) -> Any:
        from imggan_inpaint import losses

        return getattr(losses, self.name)(ctx.fake.float(), ctx.real.float(), ctx.batch["hole"])


HOLE_TERMS = {
    "hole_l1": "L1 inside the hole only, per hole pixel (inpainting).",
    "hole_grad": "L1 of Sobel gradients inside the hole (inpainting edges).",
    "hole_energy": "L1 of local mean gradient magnitudes inside the hole (detail).",
    "hole_detail": "Relative error of the mean gradient magnitude in large holes' interiors.",
    "hole_ssim": "1 - SSIM over the hole's band (its rim, not large holes' interiors).",
    "hole_pattern": "Excess fine-detail autocorrelation at 8-16 px in the hole over the original's (no grids).",
    "hole_swd": "Sliced Wasserstein distance of 7x7 Laplacian-pyramid patches in the hole, fill vs original.",
}


@hookimpl
def register_losses(register: Callable[[Any], None]) -> None:
    """Register the ``hole_*`` terms of :mod:`imggan_inpaint.losses` for ``--loss``."""
    from imggan.train.losses import LossTerm

    for name, help_text in HOLE_TERMS.items():
        register(LossTerm(name, help_text, _HoleTerm(name)))
