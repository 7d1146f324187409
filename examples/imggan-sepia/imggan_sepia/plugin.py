"""Hook implementations only (entry point ``imggan_sepia = "imggan_sepia.plugin"`` in group ``imggan``).

Nothing here imports torch, so ``imggan --help`` stays fast: each hook imports its module when called, and
the task loads its network only when it runs. A misspelt hook name (``register_task``) would be reported
by ``imggan plugins``, naming this plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import imggan


@imggan.hookimpl
def register_tasks(register: Callable[[Any], None]) -> None:
    """``imggan sepia``."""
    from imggan_sepia.tasks import SEPIA_TASK

    register(SEPIA_TASK)


@imggan.hookimpl
def register_stages(register: Callable[[Any], None]) -> None:
    """``sepia-tone`` for ``imggan run --steps`` (a stage name must differ from every task name)."""
    from imggan_sepia.tasks import SEPIA_STAGE

    register(SEPIA_STAGE)


@imggan.hookimpl
def register_models(register: Callable[[Any], None]) -> None:
    """The models in ``weights/`` (read from their cards; no torch)."""
    from imggan_sepia.zoo import model_entries

    for entry in model_entries():
        register(entry)
