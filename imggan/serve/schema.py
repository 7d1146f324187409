"""A task's declared click options as JSON (for the page's form) and form values back into option values.

The server has no per-task code: the page builds each task's form from :func:`task_schema`, and
:func:`parse_options` turns the submitted strings into the values the CLI would pass, through the very same
click parameter objects (their type conversion, ranges, choices and callbacks), so a plugin's task works in
the browser exactly as on the command line. Options whose type is a file-system path or an open file are
never exposed: a client must not make the server open a path it names.

Example:
    >>> import click
    >>> from imggan.task import Task
    >>> task = Task("demo", "Demo.", load=lambda ctx: None, process=lambda m, items, ctx: [],
    ...             options=[click.Option(["--level"], type=click.IntRange(0, 9), default=3, help="How much.")])
    >>> field = task_schema(task)["options"][0]
    >>> field["name"], field["type"], field["default"], field["minimum"], field["maximum"]
    ('level', 'integer', 3, 0, 9)
    >>> parse_options(task, {"level": "7"})
    {'level': 7}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from imggan.errors import ImgganError
from imggan.task import Task

_UNSET = getattr(click.core, "UNSET", None)  # click >= 8.2 marks "no default" with a sentinel


class OptionError(ImgganError):
    """A submitted option value that the task's option refuses (unknown name, wrong type, out of range)."""


def _hidden(param: click.Parameter) -> bool:
    """Options a client may not set: paths and files (the server never opens a client-named path)."""
    return isinstance(param.type, click.Path | click.File) or not isinstance(param, click.Option)


def _kind(param: click.Option) -> dict[str, Any]:
    """The JSON type of one option and its bounds or choices."""
    t = param.type
    if param.is_flag or isinstance(t, click.types.BoolParamType):
        return {"type": "boolean"}
    if isinstance(t, click.Choice):
        return {"type": "choice", "choices": [str(c) for c in t.choices]}
    if isinstance(t, click.types.IntParamType | click.types.FloatParamType):
        out: dict[str, Any] = {"type": "integer" if isinstance(t, click.types.IntParamType) else "number"}
        if isinstance(t, click.types._NumberRangeBase):
            if t.min is not None:
                out["minimum"] = t.min
            if t.max is not None:
                out["maximum"] = t.max
        return out
    return {"type": "string"}


def _default(param: click.Option) -> Any:
    """The option's default as the CLI shows it (before callbacks): JSON-safe."""
    default = param.default() if callable(param.default) else param.default
    if default is _UNSET:
        return False if param.is_flag else None
    if default is None or isinstance(default, bool | int | float | str):
        return default
    return str(default)


def option_schema(param: click.Option) -> dict[str, Any]:
    """One option as ``{"name", "flag", "type", "default", "help", "required", ...}``."""
    return {
        "name": param.name,
        "flag": next((o for o in param.opts if o.startswith("--")), param.opts[0]),
        **_kind(param),
        "default": _default(param),
        "required": bool(param.required),
        "help": param.help or "",
    }


def task_schema(task: Task, models: list[Any] | None = None, source: Any = None) -> dict[str, Any]:
    """What the page needs to offer ``task``: summary, help, inputs, side inputs, options and models.

    ``source`` (an :class:`imggan.serve.sources.Source`) marks a task that takes no input image: its
    ``inputs`` are ``[]`` and its options are the source's.
    """
    sides = [] if source is not None else list(task.side_inputs)
    options = source.options if source is not None else task.options
    return {
        "name": task.name,
        "summary": task.summary,
        "help": task.help.strip(),
        "inputs": [] if source is not None else ["image", *[side.name for side in sides]],
        "side_inputs": [{"name": s.name, "help": s.help, "grayscale": s.grayscale} for s in sides],
        "options": [option_schema(p) for p in options if not _hidden(p)],
        "default_model": task.default_model,
        "models": [model_schema(m) for m in (models or []) if m.task == task.name],
    }


def model_schema(entry: Any) -> dict[str, Any]:
    """A registered model as JSON (no file-system path: the client has no use for one)."""
    return {
        "name": entry.name,
        "task": entry.task,
        "default": bool(entry.default),
        "description": entry.description,
        "available": entry.path.is_file(),
    }


def parse_options(
    task: Task, form: Mapping[str, str], options: Sequence[click.Parameter] | None = None
) -> dict[str, Any]:
    """Form strings -> the task's option values, converted and checked by the task's own click options.

    Options not in ``form`` get their defaults, as on the command line. Empty strings count as not given.
    ``options`` replaces the task's own (a source's options, for a task that takes no input image).

    Raises:
        OptionError: an unknown option name, a hidden (path) option, or a value the option refuses.
    """
    params = {p.name: p for p in (task.options if options is None else options) if isinstance(p, click.Option)}
    for name in form:
        if name not in params:
            known = ", ".join(sorted(n for n, p in params.items() if not _hidden(p))) or "none"
            raise OptionError(f"unknown option {name!r} for task {task.name!r} (options: {known})")
        if _hidden(params[name]):
            raise OptionError(f"option {name!r} names a file and cannot be set over HTTP")
    ctx = click.Context(click.Command(task.name, params=list(params.values())))
    values: dict[str, Any] = {}
    for name, param in params.items():
        raw = form.get(name)
        if raw is None or raw == "":
            raw = param.get_default(ctx)
        try:
            value = param.process_value(ctx, raw)
        except click.ClickException as exc:  # BadParameter, MissingParameter
            raise OptionError(f"option {name!r}: {exc.format_message()}") from exc
        values[name] = None if value is _UNSET else value  # as the CLI passes an option without default
    return values
