"""The pluggy plugin of imggan-style: registers the ``stylize`` task, shipped styles, recipes and loss terms.

Loaded through the entry point ``[project.entry-points.imggan] imggan_style = "imggan_style.plugin"``.
Nothing here imports torch: the task loads its networks (or the reference image) lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import imggan


@imggan.hookimpl
def register_tasks(register: Callable[[Any], None]) -> None:
    """``imggan stylize``."""
    from imggan_style.tasks import stylize_task

    register(stylize_task())


@imggan.hookimpl
def register_models(register: Callable[[Any], None]) -> None:
    """The shipped trained styles found in ``imggan_style/weights``."""
    from imggan_style.zoo import shipped_models

    for entry in shipped_models():
        register(entry)


@imggan.hookimpl
def register_recipes(register: Callable[[Any], None]) -> None:
    """``imggan train style`` and ``imggan train translate``."""
    from imggan_style.recipes import style_recipe, translate_recipe

    register(style_recipe())
    register(translate_recipe())


@imggan.hookimpl
def register_losses(register: Callable[[Any], None]) -> None:
    """``style_swd``, ``style_content``, ``cut_nce``, ``cycle_l1`` and ``cycle_identity``."""
    from imggan_style.losses import TERMS
    from imggan_style.translate import CYCLE_TERMS

    for term in (*TERMS, *CYCLE_TERMS):
        register(term)
