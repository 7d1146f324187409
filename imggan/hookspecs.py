"""Every hook a plugin can implement. One function per hook, typed, with what it is for.

Plugins implement these with ``@imggan.hookimpl`` and are found through the ``imggan`` entry-point group
(``[project.entry-points.imggan] my_plugin = "my_plugin"``). Each hook receives a ``register`` callable
rather than returning values, so one plugin can contribute any number of things and the core can check
names for clashes as they arrive. None of the hooks is ``firstresult``: every plugin's implementation runs.

Example (a complete plugin module):
    >>> import imggan
    >>> from imggan.stages import Stage
    >>> class FlipPlugin:
    ...     @imggan.hookimpl
    ...     def register_stages(self, register):
    ...         register(Stage("flip", "Mirror left-right.", lambda image: image[:, ::-1]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from imggan.serve.sources import Source
    from imggan.stages import Stage
    from imggan.task import Task
    from imggan.train.augment import Augmentation
    from imggan.train.losses import LossTerm
    from imggan.train.recipe import TrainRecipe
    from imggan.weights import ModelEntry

hookspec = pluggy.HookspecMarker("imggan")
hookimpl = pluggy.HookimplMarker("imggan")


@hookspec
def register_tasks(register: Callable[[Task], None]) -> None:
    """Register tasks; each becomes a command ``imggan <task.name>`` with the common options.

    Call ``register(task)`` once per :class:`imggan.task.Task`. A task name already taken by another
    plugin is reported, naming both plugins, and the second one ignored. Every task is also a step of
    ``imggan run --steps`` (its options by name, ``model=`` for its model).
    """


@hookspec
def register_models(register: Callable[[ModelEntry], None]) -> None:
    """Register named weights (:class:`imggan.weights.ModelEntry`) usable as ``--model NAME``.

    Mark one entry per task ``default=True``: it is used when ``--model`` is not given. Listed by
    ``imggan models``. :func:`imggan.weights.entries_from_cards` builds entries from a folder of model cards
    without importing torch (card schema: :mod:`imggan.cards`).
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add extra click commands or groups to the root ``imggan`` command, e.g. ``cli.add_command(cmd)``."""


@hookspec
def register_stages(register: Callable[[Stage], None]) -> None:
    """Register pipeline stages (:class:`imggan.stages.Stage`) that ``imggan run --steps`` can chain.

    Step parameters arrive as keyword arguments; a bare value (``name:0.5``) arrives as ``value=0.5``. A stage
    may not take a task's name (tasks are steps too): such a stage is reported, naming both plugins, and ignored.
    """


@hookspec
def register_losses(register: Callable[[LossTerm], None]) -> None:
    """Register loss terms (:class:`imggan.train.losses.LossTerm`) usable in ``--loss name=weight,...``."""


@hookspec
def register_augmentations(register: Callable[[Augmentation], None]) -> None:
    """Register differentiable augmentations (:class:`imggan.train.augment.Augmentation`) for D's inputs."""


@hookspec
def register_recipes(register: Callable[[TrainRecipe], None]) -> None:
    """Register training recipes (:class:`imggan.train.recipe.TrainRecipe`): ``imggan train <task>``.

    A recipe says how to build the task's generator and discriminator, how to draw training batches and
    which loss terms (and weights) it uses by default, and how to export the trained generator as a model.
    """


@hookspec
def register_sources(register: Callable[[Source], None]) -> None:
    """Register image sources (:class:`imggan.serve.sources.Source`): tasks that make an image from options alone.

    A source carries the name of a registered task that takes no input image (a generator), its options and
    a function that makes the image. ``imggan serve`` offers such a task with no image field
    (``"inputs": []`` in ``GET /api/v1/tasks``); the task's summary, help and models come from the task.
    """
