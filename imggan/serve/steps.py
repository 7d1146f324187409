"""What a ``run`` chain may name over HTTP: no file-system path anywhere in its ``--steps``.

On the command line a task step of ``imggan run`` may name files (``inpaint:mask=masks/``,
``denoise:model=run/``); over HTTP that would let a client make the server open a path it chose. So a chain
sent to the server may use stages with their parameters and task steps with their options, but a task step's
``model`` must be a name registered for that task, and its side inputs and path-typed options cannot be set.

Example:
    >>> from types import SimpleNamespace
    >>> registry = SimpleNamespace(tasks={}, models=[])
    >>> check_steps("gamma:2;resize:scale=0.5", registry)
    >>> check_steps("denoise:model=/tmp/x.safetensors", SimpleNamespace(tasks={"denoise": None}, models=[]))
    Traceback (most recent call last):
    ...
    imggan.serve.schema.OptionError: step 'denoise': model '/tmp/x.safetensors' is not a model registered ...
"""

from __future__ import annotations

from typing import Any

import click

from imggan.serve.schema import OptionError
from imggan.stages import parse_steps


def _path_options(task: Any) -> set[str]:
    """Every name a step could use for one of ``task``'s path or file options (parameter name and flags)."""
    names: set[str] = set()
    for option in getattr(task, "options", ()):
        if isinstance(option, click.Option) and isinstance(option.type, click.Path | click.File):
            names.add(option.name)
            names.update(flag.lstrip("-").replace("-", "_") for flag in option.opts)
    return names


def check_steps(spec: str, registry: Any) -> None:
    """Refuse a ``run`` chain that names a file: a model that is not registered, a side input, a path option.

    Raises:
        OptionError: the first such parameter, named with its step.
    """
    for name, params in parse_steps(spec):
        if name not in registry.tasks:
            continue  # a stage (image -> image, no files) or an unknown name the run task reports itself
        task = registry.tasks[name]
        sides = {side.name for side in getattr(task, "side_inputs", ())}
        paths = _path_options(task)
        for key, value in params.items():
            if key == "model":
                names = sorted(m.name for m in registry.models if m.task == name)
                if str(value) not in names:
                    raise OptionError(
                        f"step {name!r}: model {value!r} is not a model registered for it "
                        f"(models: {', '.join(names) or 'none'})"
                    )
            elif key in sides:
                raise OptionError(f"step {name!r}: {key}= names a file and cannot be set over HTTP")
            elif key in paths:
                raise OptionError(f"step {name!r}: option {key!r} names a file and cannot be set over HTTP")
