"""Built-in plugin: the trainer's loss terms and augmentations, two small recipes, and ``imggan train``.

Written like any third-party plugin. Nothing here imports torch: the terms, augmentations and recipes import
it when they run, and ``imggan train`` builds one subcommand per registered recipe only when invoked, so
``imggan --help`` stays fast. Built-in recipes: ``toy2d`` (8 Gaussians on a ring, the mode-collapse check)
and ``digits`` (the founding article's MLP GAN on scikit-learn's digits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import imggan


@imggan.hookimpl
def register_losses(register: Callable[[Any], None]) -> None:
    from imggan.train.losses import BUILTIN_TERMS

    for term in BUILTIN_TERMS:
        register(term)


@imggan.hookimpl
def register_augmentations(register: Callable[[Any], None]) -> None:
    from imggan.train.augment import BUILTIN_AUGMENTATIONS

    for aug in BUILTIN_AUGMENTATIONS:
        register(aug)


@imggan.hookimpl
def register_recipes(register: Callable[[Any], None]) -> None:
    from imggan.train import digits, toy2d

    register(toy2d.make_recipe())
    register(digits.make_recipe())


@imggan.hookimpl
def register_commands(cli: Any) -> None:
    from imggan.train.cli import train_group

    if "train" not in getattr(cli, "commands", {}):
        cli.add_command(train_group)
