"""What a task head registers: a :class:`Task`, run by the core's pipeline as load -> prepare -> model ->
finish -> save.

A task never reads or writes files itself: the batch runner (``imggan.pipeline``) decodes each input with
``imggan.io``, resolves side inputs such as masks, calls the task's stages and writes the result atomically.

What a task sees is normalised so every head handles one kind of array: ``item.image`` is always
``HxWx3`` BGR (OpenCV's order), dtype ``uint8`` or ``uint16`` (``imggan.tensors`` scales either to float
RGB in [0, 1] and back). An alpha channel is split off into ``item.alpha`` and re-attached by the runner
after ``finish`` (resized with the image when the output size differs); a grayscale input is expanded to
three channels and turned back to one channel on save. A task that wants the alpha for itself (inpaint
uses it as a mask) reads ``item.alpha`` and may set it to ``None``.

Example:
    >>> import numpy as np
    >>> from imggan.task import Task
    >>> invert = Task(
    ...     name="invert",
    ...     help="Invert the colours of each image.",
    ...     load=lambda ctx: None,
    ...     process=lambda model, items, ctx: [np.iinfo(i.image.dtype).max - i.image for i in items],
    ... )
    >>> invert.name
    'invert'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np


@dataclass(frozen=True)
class SideInput:
    """A second file a task needs per image (a mask, a style reference).

    The runner resolves it for every input, in this order: the option's value (one file serving every
    image, or a folder paired by stem), then a sidecar file next to the input named ``<stem><suffix>.<ext>``
    for each of ``sidecar_suffixes``. When nothing is found the item's ``sides[name]`` is ``None`` and the
    task's ``prepare`` decides (inpaint falls back to the alpha channel, then raises a clear error).

    Attributes:
        name: key in :attr:`Item.sides` and the long option name (``mask`` -> ``--mask``).
        help: help text of the option.
        short: optional short flag, e.g. ``-m``.
        sidecar_suffixes: stem suffixes tried next to each input (``_mask`` pairs ``cat.jpg`` with
            ``cat_mask.png``).
        grayscale: reduce the side image to one HxW channel (``imggan.io.mask_gray``: the brightest channel,
            or for an alpha-only image, transparent = hole).
    """

    name: str
    help: str
    short: str | None = None
    sidecar_suffixes: tuple[str, ...] = ()
    grayscale: bool = True


@dataclass
class ImageInfo:
    """What the reader learnt about an input, so the writer can give back the same kind of image."""

    format: str = ".png"  # extension of the source, lower case, with the dot
    dtype: str = "uint8"
    channels: int = 3
    exif_rotated: bool = False


@dataclass
class Item:
    """One input travelling through the stages of a task.

    Attributes:
        source: the input file (``None`` for generated items).
        relative: path relative to the input root, mirrored under ``-o``.
        image: the decoded image, HxWx3 BGR uint8/uint16, or ``None`` before load.
        alpha: the alpha channel (HxW, same dtype) split off the input, if it had one.
        info: how the source was stored.
        sides: resolved side inputs, e.g. ``{"mask": HxW uint8 array}`` (``None`` when not found).
        output: where the result is written.
        result: the task's output image once the model stage ran.
        extra: scratch space for a task's own per-item state between its stages.
    """

    source: Path | None
    relative: Path
    image: np.ndarray | None = None
    alpha: np.ndarray | None = None
    info: ImageInfo = field(default_factory=ImageInfo)
    sides: dict[str, np.ndarray | None] = field(default_factory=dict)
    output: Path | None = None
    result: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunContext:
    """Settings shared by every stage of one run (built from the CLI or the Python API)."""

    device: Any = "cpu"  # torch.device once resolved; kept as Any so importing this module needs no torch
    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    tile: int | None = None
    batch_size: int = 1
    quiet: bool = False


LoadFn = Callable[[RunContext], Any]
ProcessFn = Callable[[Any, list[Item], RunContext], list[np.ndarray]]
PrepareFn = Callable[[Item, RunContext], Item]
FinishFn = Callable[[Item, RunContext], np.ndarray]


@dataclass
class Task:
    """A job ``imggan <name>`` runs over images; registered through the ``register_tasks`` hook.

    Attributes:
        name: the CLI command (``inpaint``).
        help: ``--help`` text; the first line is the one-line summary in ``imggan --help``.
        load: builds the model once per run (weights, device) and returns it; called lazily so that
            ``--help`` never imports torch.
        process: the model stage: maps a batch of prepared items of the same size to output images.
        prepare: per-item CPU work run in loader threads before the model (e.g. read and check a mask).
        finish: per-item CPU work after the model (e.g. paste known pixels back); defaults to
            ``item.result``.
        options: extra click options; their values arrive in ``RunContext.options`` by parameter name.
        side_inputs: files paired with each input (masks).
        default_model: name of the model used without ``--model``.
        check_model: cheap check of ``ctx.model`` (resolve the name, read the card; no weights loaded),
            called before any input is skipped so a bad ``--model`` is reported even when every output
            exists; raise :class:`~imggan.errors.ModelNotFoundError`. ``None``: nothing to check.
        takes_images: ``False`` for a task that makes images from nothing (generation): it is then no step
            of ``imggan run``, which maps images to images.
    """

    name: str
    help: str
    load: LoadFn
    process: ProcessFn
    prepare: PrepareFn | None = None
    finish: FinishFn | None = None
    options: Sequence[click.Parameter] = ()
    side_inputs: Sequence[SideInput] = ()
    default_model: str | None = None
    check_model: Callable[[RunContext], None] | None = None
    takes_images: bool = True

    @property
    def summary(self) -> str:
        """First line of the help text."""
        return self.help.strip().splitlines()[0] if self.help.strip() else self.name
