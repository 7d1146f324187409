"""Typed config fields: what a key holds, its default, one line of help, and the check of a given value.

One run's schema is the trainer's fields (:data:`imggan.train.config.TRAINER_FIELDS`) plus its recipe's own:
the recipe's explicit :attr:`~imggan.train.recipe.TrainRecipe.config_fields`, then every key of its
``defaults`` (typed by the default value's type when no field declares it), then its click ``options``. A
``dict`` field with a dict default (``arch = {"width": 32, ...}``) is also a namespace: ``arch.width`` is a
key of its own, typed by the default's entry. Values are checked before anything is built: an unknown key
names the closest known ones, a wrong type names the key and what it expected.

Example:
    >>> from imggan.train.schema import ConfigField, Schema
    >>> schema = Schema([ConfigField("lr_g", "generator learning rate", float, 2e-4)])
    >>> schema.check({"lr_g": 1}, "--set")
    {'lr_g': 1.0}
    >>> try:
    ...     schema.check({"lr_q": 1e-3}, "--set")
    ... except Exception as exc:
    ...     print(exc)
    --set: unknown config key 'lr_q' (did you mean 'lr_g'?); imggan train TASK --list-config lists every key
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import Any, Literal

from imggan.errors import ImgganError


class _Missing:
    """The "no default given" marker of :class:`ConfigField` (``None`` is a valid default)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class ConfigError(ImgganError):
    """A config key that does not exist, or a value of the wrong type (a usage error: exit status 2)."""


@dataclasses.dataclass(frozen=True)
class ConfigField:
    """One config key.

    Attributes:
        name: the key (``lr_g``, ``crop``, ``arch.width``).
        help: one line saying what it does.
        type: the accepted type: ``int``, ``float``, ``bool``, ``str``, ``list[float]``, ``dict``,
            ``Literal["a", "b"]``, unions such as ``int | None`` or ``bool | Literal["auto"]``, or ``Any``.
            ``None`` takes it from the default (recipe fields that only add help text).
        default: the default value; ``MISSING`` takes it from the recipe's ``defaults``.
        owner: ``"trainer"`` or the recipe's name (for ``--list-config``).
    """

    name: str
    help: str = ""
    type: Any = None
    default: Any = MISSING
    owner: str = "trainer"


def infer_type(value: Any) -> Any:
    """The type a default value implies (``0.5`` -> ``float``, ``[1, 2]`` -> ``list[int]``, ``None`` -> Any)."""
    if value is None:
        return Any
    if isinstance(value, bool):
        return bool
    if isinstance(value, int):
        return int
    if isinstance(value, float):
        return float
    if isinstance(value, str | PurePath):
        return str
    if isinstance(value, list | tuple):
        kinds = {infer_type(v) for v in value}
        if kinds == {int, float}:
            return list[float]
        if len(kinds) == 1:
            return list[kinds.pop()]
        return list
    if isinstance(value, dict):
        return dict
    return Any


def describe(tp: Any) -> str:
    """A type as a user reads it: ``float``, ``list of float``, ``'auto' or int``, ``one of 'a', 'b'``."""
    if tp is Any:
        return "any"
    origin = typing.get_origin(tp)
    if origin is Literal:
        options = ", ".join(repr(o) for o in typing.get_args(tp))
        return options if len(typing.get_args(tp)) == 1 else f"one of {options}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join("none" if a is type(None) else describe(a) for a in typing.get_args(tp))
    if origin in (list, tuple):
        args = typing.get_args(tp)
        return f"list of {describe(args[0])}" if args else "list"
    if origin is dict or tp is dict:
        return "table"
    if tp is bool:
        return "true/false"
    return getattr(tp, "__name__", str(tp))


def coerce(value: Any, tp: Any) -> Any:
    """``value`` checked against ``tp`` (ints widen to float, integral floats narrow to int).

    Raises:
        TypeError: the value does not fit; the message is the expected type.
    """
    if tp is Any or tp is None:
        return value
    origin = typing.get_origin(tp)
    if origin is Literal:
        if value in typing.get_args(tp) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in typing.get_args(tp):
            return value.lower()
        raise TypeError(describe(tp))
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce(value, arg)
            except TypeError:
                continue
        raise TypeError(describe(tp))
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(value, list | tuple):
            raise TypeError(describe(tp))
        args = typing.get_args(tp)
        try:
            return [coerce(v, args[0]) for v in value] if args else list(value)
        except TypeError:
            raise TypeError(describe(tp)) from None
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise TypeError(describe(tp))
        args = typing.get_args(tp)
        if args:
            try:
                return {str(k): coerce(v, args[1]) for k, v in value.items()}
            except TypeError:
                raise TypeError(describe(tp)) from None
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise TypeError(describe(tp))
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise TypeError(describe(tp))
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise TypeError(describe(tp))
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, PurePath):
            return str(value)
        raise TypeError(describe(tp))
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise TypeError(describe(tp))


def fields_of_dataclass(cls: type, owner: str) -> list[ConfigField]:
    """Config fields from a dataclass: its annotations, defaults and ``metadata={"help": ...}``."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        default = MISSING if f.default is dataclasses.MISSING else f.default
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        out.append(ConfigField(f.name, str(f.metadata.get("help", "")), hints.get(f.name, Any), default, owner))
    return out


class Schema:
    """The keys of one run: their types, defaults and help; checks config layers against them.

    Args:
        fields: the fields, in the order ``--list-config`` shows them; a later field of the same name
            replaces an earlier one's default (and its type and help when it gives them).
    """

    def __init__(self, fields: Iterable[ConfigField]) -> None:
        self.fields: dict[str, ConfigField] = {}
        for f in fields:
            self.add(f)

    def add(self, f: ConfigField) -> None:
        """Add ``f``, or refine the field of that name (its default; its type and help when ``f`` has them)."""
        old = self.fields.get(f.name)
        if old is None:
            tp = f.type if f.type is not None else infer_type(None if f.default is MISSING else f.default)
            self.fields[f.name] = dataclasses.replace(f, type=tp, default=None if f.default is MISSING else f.default)
            return
        default = old.default if f.default is MISSING or f.default is None else f.default
        if f.default is not MISSING and f.default is not None:  # None: "not set", as in merge_config
            try:
                default = coerce(f.default, old.type)
            except TypeError as exc:
                raise ConfigError(f"{f.owner}: default {f.name}={f.default!r} is not {exc}") from None
        self.fields[f.name] = ConfigField(
            f.name,
            f.help or old.help,
            f.type if f.type is not None else old.type,
            default,
            old.owner if f.owner == old.owner or not f.help else f.owner,
        )

    def defaults(self) -> dict[str, Any]:
        """``{key: default}`` of every non-namespaced field."""
        import copy

        return {name: copy.deepcopy(f.default) for name, f in self.fields.items() if "." not in name}

    def _namespace(self, key: str) -> tuple[ConfigField, Any] | None:
        head, _, tail = key.partition(".")
        parent = self.fields.get(head)
        if parent is None or not tail or not (parent.type is dict or typing.get_origin(parent.type) is dict):
            return None
        known = parent.default if isinstance(parent.default, dict) else {}
        if known and tail not in known:
            return parent, None
        return parent, infer_type(known.get(tail))

    def suggest(self, key: str) -> list[str]:
        """The known keys closest to ``key`` (at most three)."""
        names = list(self.fields)
        for name, f in self.fields.items():
            if isinstance(f.default, dict) and (f.type is dict or typing.get_origin(f.type) is dict):
                names += [f"{name}.{sub}" for sub in f.default]
        close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
        if not close:
            close = [n for n in names if key.lower() in n.lower() or n.lower() in key.lower()][:3]
        return close

    def check_item(self, key: str, value: Any, source: str) -> Any:
        """One ``key = value`` checked (and coerced); ``source`` names where it came from in errors.

        Raises:
            ConfigError: unknown key or wrong type.
        """
        f = self.fields.get(key)
        tp = f.type if f is not None else None
        if f is None:
            found = self._namespace(key)
            if found is None or found[1] is None:
                close = self.suggest(key)
                hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
                raise ConfigError(
                    f"{source}: unknown config key {key!r}{hint}; imggan train TASK --list-config lists every key"
                )
            tp = found[1]
        try:
            return coerce(value, tp)
        except TypeError as exc:
            raise ConfigError(f"{source}: {key} expects {exc}, got {value!r}") from None

    def check(self, layer: Mapping[str, Any], source: str, skip_none: bool = True) -> dict[str, Any]:
        """A whole config layer checked; ``None`` values (options not given) are dropped when ``skip_none``."""
        out = {}
        for key, value in layer.items():
            if value is None and skip_none:
                continue
            out[key] = self.check_item(key, value, source)
        return out

    def table(self, finetune: Mapping[str, Any] | None = None) -> str:
        """Every key with its type, default and help, grouped by owner (``imggan train TASK --list-config``)."""
        rows: dict[str, list[tuple[str, str, str, str]]] = {}
        for name, f in self.fields.items():
            table = isinstance(f.default, dict) and f.default and (f.type is dict or typing.get_origin(f.type) is dict)
            shown = "{...}" if table else _show(f.default)
            rows.setdefault(f.owner, []).append((name, describe(f.type), shown, f.help))
            if table and name != "losses":
                for sub, value in f.default.items():
                    rows[f.owner].append((f"{name}.{sub}", describe(infer_type(value)), _show(value), f"(in {name})"))
        lines = []
        for owner, items in rows.items():
            lines.append(f"[{owner}]")
            w0 = max(len(r[0]) for r in items)
            w1 = max(len(r[1]) for r in items)
            w2 = min(28, max(len(r[2]) for r in items))
            lines += [f"  {a:<{w0}}  {b:<{w1}}  {c:<{w2}}  {d}".rstrip() for a, b, c, d in items]
            lines.append("")
        if finetune:
            lines.append("[fine-tuning: with --init these defaults replace the ones above]")
            lines += [f"  {k} = {_show(v)}" for k, v in finetune.items()]
        return "\n".join(lines).rstrip() + "\n"


def _show(value: Any) -> str:
    import json

    try:
        return json.dumps(value)
    except TypeError:
        return str(value)


def recipe_fields(recipe: Any) -> list[ConfigField]:
    """A recipe's own fields: explicit ``config_fields`` (fields or a dataclass), ``defaults``, ``options``."""
    name = str(getattr(recipe, "name", "recipe"))
    declared = getattr(recipe, "config_fields", None) or ()
    if isinstance(declared, type) and dataclasses.is_dataclass(declared):
        explicit = fields_of_dataclass(declared, name)
    else:
        explicit = [dataclasses.replace(f, owner=name) if f.owner == "trainer" else f for f in declared]
    explained = {f.name: f for f in explicit}
    defaults = dict(getattr(recipe, "defaults", None) or {})
    out: list[ConfigField] = []
    for key, value in defaults.items():
        f = explained.get(key)
        default = value if f is None or f.default is MISSING else f.default
        out.append(ConfigField(key, f.help if f else "", f.type if f else None, default, name))
    out += [f for f in explicit if f.name not in defaults]
    for param in getattr(recipe, "options", None) or ():
        if param.name and param.name not in explained and param.name not in defaults:
            out.append(ConfigField(param.name, _click_help(param), _click_type(param), MISSING, name))
    return out


def _click_help(param: Any) -> str:
    return str(getattr(param, "help", "") or "").split("\n")[0]


def _click_type(param: Any) -> Any:
    import click

    kind = getattr(param, "type", None)
    mapping = {click.INT: int, click.FLOAT: float, click.BOOL: bool, click.STRING: str}
    for click_type, tp in mapping.items():
        if kind == click_type:
            return tp | None
    if isinstance(kind, click.Choice):
        return Literal[tuple(kind.choices)] | None  # type: ignore[misc]
    if isinstance(kind, click.IntRange):
        return int | None
    if isinstance(kind, click.FloatRange):
        return float | None
    return Any


def build_schema(trainer_fields: Sequence[ConfigField], recipe: Any) -> Schema:
    """The schema of one run of ``recipe``: the trainer's fields refined and extended by the recipe's."""
    schema = Schema(trainer_fields)
    for f in recipe_fields(recipe):
        schema.add(f)
    return schema
