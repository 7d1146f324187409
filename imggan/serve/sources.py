"""Tasks that take no input image (generators): how the server runs them from options alone.

A head whose task makes images rather than transforming them registers a :class:`Source` through the
``register_sources`` hook, under its task's name. The server then lists that task with ``"inputs": []`` and
runs ``POST /api/v1/run/{task}`` with options only: it parses them with the source's click options (the
same conversion, ranges and messages as the command line), loads the task's model once per
(model, device) through the task's own ``load`` and calls :attr:`Source.make`. Nothing here names a head.

Example:
    >>> import click, numpy as np
    >>> from imggan.task import Task
    >>> task = Task("flat", "A flat grey image.", load=lambda ctx: None, process=lambda m, items, ctx: [])
    >>> source = Source("flat", options=[click.Option(["--size"], type=click.IntRange(1, 64), default=8)],
    ...                 make=lambda model, ctx: np.full((ctx.options["size"],) * 2, 128, np.uint8))
    >>> make_image(task, source, {"size": 4}, device="cpu", model=None).shape
    (4, 4)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click
import numpy as np

from imggan.errors import ImgganError
from imggan.task import RunContext, Task

MakeFn = Callable[[Any, RunContext], np.ndarray]


@dataclass(frozen=True)
class Source:
    """How a registered task that takes no input image makes one image from its options.

    Attributes:
        name: the registered task's name (its summary, help, default model and models come from the task).
        options: click options the server offers; their values arrive in ``ctx.options`` by parameter name.
        make: ``(model, ctx) -> image``: ``model`` is what the task's ``load`` returned for ``ctx.model`` and
            ``ctx.device``; the image is ``HxW`` grey or ``HxWx3`` BGR (``uint8`` or ``uint16``), as a task's
            result. Raise :class:`~imggan.errors.ImgganError` for options that do not fit the model (the
            client gets 400 and the message).
        size: ``(model, options) -> (height, width)`` of the image those options would make, checked against
            the server's pixel limit before :attr:`make` runs; ``None``: not checked in advance.
    """

    name: str
    options: Sequence[click.Parameter]
    make: MakeFn
    size: Callable[[Any, dict[str, Any]], tuple[int, int]] | None = None


def sources_of(registry: Any) -> dict[str, Source]:
    """The registry's sources whose task is registered (a registry without ``sources`` has none)."""
    sources = getattr(registry, "sources", None) or {}
    return {name: source for name, source in sources.items() if name in registry.tasks}


class SourceModels:
    """The loaded models of one server's sources, one per (task, model, device), each loaded once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, str | None, str], Any] = {}

    def get(self, task: Task, model: str | None, device: str) -> Any:
        """What ``task.load`` returns for ``model`` on ``device``, loaded on first use."""
        key = (task.name, model, device)
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = task.load(RunContext(device=device, model=model, quiet=True))
            return self._loaded[key]


def make_image(
    task: Task,
    source: Source,
    options: dict[str, Any],
    *,
    device: str,
    model: str | None,
    max_pixels: int | None = None,
    models: SourceModels | None = None,
) -> np.ndarray:
    """Load ``task``'s model (through ``models``, the server's cache), check the image's size against
    ``max_pixels``, then make it.

    Raises:
        ImgganError: the source refused the options, or the image would exceed ``max_pixels`` (the
            message is for the user).
    """
    loaded = (models or SourceModels()).get(task, model, device)
    if max_pixels is not None and source.size is not None:
        height, width = source.size(loaded, dict(options))
        if height * width > max_pixels:
            raise ImgganError(
                f"{source.name}: these options make a {width}x{height} image ({height * width:,} pixels), over "
                f"the server's limit of {max_pixels:,} pixels; ask for fewer or smaller images"
            )
    image = source.make(loaded, RunContext(device=device, model=model, options=dict(options), quiet=True))
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"source {source.name!r} made {type(image).__name__}, not an HxW[xC] uint8/uint16 image")
    return image
