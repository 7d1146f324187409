"""A task's click options as JSON and form strings back through the same options (types, ranges, callbacks)."""

from __future__ import annotations

import click
import pytest

from imggan.serve.schema import OptionError, parse_options, task_schema
from imggan.task import Task


def _task(*options: click.Option) -> Task:
    return Task("demo", "Demo task.\n\nMore text.", load=lambda ctx: None, process=lambda m, i, c: [], options=options)


def test_schema_describes_each_kind_of_option() -> None:
    task = _task(
        click.Option(["--flag"], is_flag=True, help="A switch."),
        click.Option(["-k", "--kind"], type=click.Choice(["a", "b"]), default="b"),
        click.Option(["--count"], type=click.IntRange(1, 8), default=2),
        click.Option(["--weight"], type=float, default=0.5),
        click.Option(["--label"], default="x", required=False),
        click.Option(["--path"], type=click.Path()),
    )
    schema = task_schema(task)
    assert schema["summary"] == "Demo task." and schema["inputs"] == ["image"]
    fields = {f["name"]: f for f in schema["options"]}
    assert set(fields) == {"flag", "kind", "count", "weight", "label"}  # the path option is not offered
    assert fields["flag"] == {
        "name": "flag",
        "flag": "--flag",
        "type": "boolean",
        "default": False,
        "required": False,
        "help": "A switch.",
    }
    assert fields["kind"]["choices"] == ["a", "b"] and fields["kind"]["flag"] == "--kind"
    assert (fields["count"]["minimum"], fields["count"]["maximum"]) == (1, 8)
    assert fields["weight"]["type"] == "number" and "minimum" not in fields["weight"]
    assert fields["label"]["type"] == "string"


def test_parse_runs_the_options_conversions_and_callbacks() -> None:
    task = _task(
        click.Option(["--flag"], is_flag=True),
        click.Option(
            ["-s", "--scale", "scale"], type=click.Choice(["2", "4"]), default="4", callback=lambda _c, _p, v: int(v)
        ),  # fmt: skip
        click.Option(["--count"], type=click.IntRange(1, 8), default=2),
    )
    assert parse_options(task, {}) == {"flag": False, "scale": 4, "count": 2}
    assert parse_options(task, {"flag": "true", "scale": "2", "count": ""}) == {"flag": True, "scale": 2, "count": 2}
    with pytest.raises(OptionError, match="option 'count'"):
        parse_options(task, {"count": "9"})
    with pytest.raises(OptionError, match="option 'scale'"):
        parse_options(task, {"scale": "3"})
    with pytest.raises(OptionError, match=r"unknown option 'size' for task 'demo' \(options: count, flag, scale\)"):
        parse_options(task, {"size": "1"})


def test_options_without_a_default_arrive_as_none_as_on_the_command_line() -> None:
    task = _task(click.Option(["--label"]), click.Option(["--columns"], type=click.IntRange(1, 9)))
    assert parse_options(task, {}) == {"label": None, "columns": None}
    assert parse_options(task, {"label": "", "columns": "3"}) == {"label": None, "columns": 3}
