"""The pluggy plugin of imggan-generate: the ``generate`` task, its shipped models, its recipe and commands.

Loaded through ``[project.entry-points.imggan] imggan_generate = "imggan_generate.plugin"``. Nothing here
imports torch. ``generate`` takes no input images, so its command (``imggan generate``) is a click command of
its own, added through ``register_commands`` together with ``imggan audit``; the task is still registered so
that ``imggan tasks`` lists it and the Python pipeline can name it, and ``register_sources`` lets
``imggan serve`` run it from options alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import imggan


@imggan.hookimpl
def register_tasks(register: Callable[[Any], None]) -> None:
    """The ``generate`` task (listed by ``imggan tasks``)."""
    from imggan_generate.tasks import generate_task

    register(generate_task())


@imggan.hookimpl
def register_models(register: Callable[[Any], None]) -> None:
    """The shipped generators in ``imggan_generate/weights``."""
    from imggan_generate.zoo import shipped_models

    for entry in shipped_models():
        register(entry)


@imggan.hookimpl
def register_recipes(register: Callable[[Any], None]) -> None:
    """``imggan train generate``."""
    from imggan_generate.recipes import generate_recipe

    register(generate_recipe())


@imggan.hookimpl
def register_sources(register: Callable[[Any], None]) -> None:
    """``generate`` without input images, for ``imggan serve`` (one sample or a grid from options)."""
    from imggan_generate.tasks import generate_source

    register(generate_source())


@imggan.hookimpl
def register_commands(cli: Any) -> None:
    """``imggan generate`` (no input images) and ``imggan audit`` (memorisation check)."""
    from imggan_generate.cli import audit_command, generate_command

    for command in (generate_command, audit_command):
        if command.name not in getattr(cli, "commands", {}):
            cli.add_command(command)
