"""The pluggy plugin of imggan-enhance: registers the tasks, the shipped models and the training recipes.

Loaded through the entry point ``[project.entry-points.imggan] imggan_enhance = "imggan_enhance.plugin"``.
Nothing here imports torch: the tasks load their networks lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import imggan


@imggan.hookimpl
def register_tasks(register: Callable[[Any], None]) -> None:
    """``imggan denoise`` and ``imggan upscale``."""
    from imggan_enhance.tasks import denoise_task, upscale_task

    register(denoise_task())
    register(upscale_task())


@imggan.hookimpl
def register_models(register: Callable[[Any], None]) -> None:
    """The shipped weights found in ``imggan_enhance/weights``."""
    from imggan_enhance.zoo import shipped_models

    for entry in shipped_models():
        register(entry)


@imggan.hookimpl
def register_recipes(register: Callable[[Any], None]) -> None:
    """``imggan train denoise`` and ``imggan train upscale``."""
    from imggan_enhance.recipes import denoise_recipe, upscale_recipe

    register(denoise_recipe())
    register(upscale_recipe())
