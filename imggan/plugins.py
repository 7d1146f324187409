"""The plugin manager: built-ins plus everything in the ``imggan`` entry-point group.

Plugins are loaded one by one, so a plugin that fails to import (an exception or ``sys.exit`` at import)
is reported by name (on stderr, once, and in ``imggan plugins``) while the others still load.
``IMGGAN_LOAD_PLUGINS=a,b`` loads only the named entry points (an empty value loads none; a name no
installed plugin has is warned about); built-ins always load. A function marked ``@imggan.hookimpl`` whose
name is no hook (a misspelling), or a hook-named function left unmarked, is reported naming its plugin: it
would never be called. Names must be unique: two plugins registering one task, stage or model name, or a
stage named like a task, are reported naming both plugins, and the first registration is kept.

Example:
    >>> from imggan.plugins import get_registry
    >>> "run" in get_registry().tasks
    True
"""

from __future__ import annotations

import difflib
import functools
import importlib
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from imggan import hookspecs

ENTRY_POINT_GROUP = "imggan"
ALLOWLIST_ENV = "IMGGAN_LOAD_PLUGINS"
BUILTIN_MODULES = (
    "imggan.builtin.stages",
    "imggan.builtin.reference_task",
    "imggan.builtin.training",
    "imggan.builtin.serve",
)


@dataclass
class PluginFailure:
    """A plugin that could not be loaded, with the reason users see."""

    name: str
    error: str


class Registry:
    """Everything the plugins registered, gathered per kind on first use.

    Each kind (tasks, models, ...) calls its hook only when first asked for, so ``imggan --help`` (tasks
    and commands) never runs the model or recipe hooks, whose implementations may import torch. A
    duplicate name keeps the first registered (built-ins, then plugins in entry-point name order) and adds
    a line to ``warnings``, which ``report`` (stderr by default) also receives.
    """

    def __init__(self, pm: pluggy.PluginManager | None = None, report: Callable[[str], None] | None = None):
        self._pm = pm
        self._report = report
        self.warnings: list[str] = []
        self.owners: dict[str, dict[str, str]] = {}  # kind -> name -> plugin that registered it

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self._report is not None:
            self._report(message)

    def _keyed(self, hook_name: str, kind: str) -> dict[str, Any]:
        target: dict[str, Any] = {}
        owners = self.owners.setdefault(kind, {})
        current = [""]

        def before(plugin_name: str) -> None:
            current[0] = plugin_name

        def register(obj: Any) -> None:
            if obj.name in target:
                self._warn(
                    f"{kind} {obj.name!r} registered twice: by plugin {owners[obj.name]!r} and by plugin "
                    f"{current[0]!r}; keeping the first ({owners[obj.name]!r})"
                )
                return
            target[obj.name] = obj
            owners[obj.name] = current[0]

        if self._pm is not None:
            call_each(getattr(self._pm.hook, hook_name), self._warn, before=before, register=register)
        return target

    @functools.cached_property
    def tasks(self) -> dict[str, Any]:
        """Tasks by name (``register_tasks``)."""
        return self._keyed("register_tasks", "task")

    @functools.cached_property
    def stages(self) -> dict[str, Any]:
        """Pipeline stages by name (``register_stages``); a stage named like a task is refused.

        ``imggan run --steps`` takes stage and task names alike, so one name must mean one thing.
        """
        stages = self._keyed("register_stages", "stage")
        tasks = self.tasks
        for name in [n for n in stages if n in tasks]:
            self._warn(
                f"stage {name!r} of plugin {self.owners['stage'][name]!r} has the name of a task of plugin "
                f"{self.owners['task'][name]!r}; the stage is ignored (stage and task names must differ)"
            )
            del stages[name]
        return stages

    @functools.cached_property
    def losses(self) -> dict[str, Any]:
        """Loss terms by name (``register_losses``)."""
        return self._keyed("register_losses", "loss")

    @functools.cached_property
    def augmentations(self) -> dict[str, Any]:
        """Augmentations by name (``register_augmentations``)."""
        return self._keyed("register_augmentations", "augmentation")

    @functools.cached_property
    def recipes(self) -> dict[str, Any]:
        """Training recipes by task name (``register_recipes``)."""
        return self._keyed("register_recipes", "recipe")

    @functools.cached_property
    def sources(self) -> dict[str, Any]:
        """Image sources by task name (``register_sources``): tasks that take no input image."""
        return self._keyed("register_sources", "source")

    @functools.cached_property
    def models(self) -> list[Any]:
        """Model entries (``register_models``); unique per (task, name)."""
        models: list[Any] = []
        owners: dict[tuple[str, str], str] = {}
        current = [""]

        def before(plugin_name: str) -> None:
            current[0] = plugin_name

        def register(entry: Any) -> None:
            key = (entry.task, entry.name)
            if key in owners:
                self._warn(
                    f"model {entry.name!r} of task {entry.task!r} registered twice: by plugin {owners[key]!r} "
                    f"and by plugin {current[0]!r}; keeping the first"
                )
                return
            owners[key] = current[0]
            models.append(entry)

        if self._pm is not None:
            call_each(self._pm.hook.register_models, self._warn, before=before, register=register)
        return models

    def collect_all(self) -> Registry:
        """Gather every kind now (tests and ``imggan plugins`` want the full picture)."""
        for kind in ("tasks", "models", "stages", "losses", "augmentations", "recipes", "sources"):
            getattr(self, kind)
        return self


def _allowlist() -> set[str] | None:
    value = os.environ.get(ALLOWLIST_ENV)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def new_plugin_manager(
    entry_points_to_load: Iterable[EntryPoint] | None = None, builtins: bool = True
) -> pluggy.PluginManager:
    """Build a plugin manager with the hookspecs, the built-ins and the entry-point plugins.

    Args:
        entry_points_to_load: entry points to load instead of the installed ``imggan`` group (tests).
        builtins: register the built-in plugins (reference task, OpenCV stages, trainer losses).
    """
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    pm.failures = []  # type: ignore[attr-defined]
    pm.warnings = []  # type: ignore[attr-defined]
    if builtins:
        for module_name in BUILTIN_MODULES:
            pm.register(importlib.import_module(module_name), name=module_name)
    eps = list(entry_points(group=ENTRY_POINT_GROUP) if entry_points_to_load is None else entry_points_to_load)
    allowed = _allowlist()
    loaded: dict[str, EntryPoint] = {}
    for ep in sorted(eps, key=lambda e: e.name):
        if allowed is not None and ep.name not in allowed:
            continue
        if pm.has_plugin(ep.name):
            first = _dist_name(loaded.get(ep.name))
            pm.failures.append(
                PluginFailure(
                    ep.name,
                    f"another plugin is already registered under this name: {_dist_name(ep)} clashes with "
                    f"{first}, which loaded first; one of them must rename its entry point",
                )
            )
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except (Exception, SystemExit) as exc:  # a broken plugin must not take the CLI down, not even sys.exit
            what = f"SystemExit({exc.code!r}) at import" if isinstance(exc, SystemExit) else type(exc).__name__
            pm.failures.append(PluginFailure(ep.name, f"{what}: {exc}"))
            continue
        loaded[ep.name] = ep
        pm.warnings.extend(unknown_hooks(pm, plugin, ep.name))
    if allowed:
        known = sorted({ep.name for ep in eps})
        for name in sorted(allowed - set(known) - set(BUILTIN_MODULES)):
            pm.warnings.append(
                f"{ALLOWLIST_ENV} names {name!r}, but no installed plugin has that entry-point name "
                f"(installed: {', '.join(known) or 'none'})"
            )
    return pm


def _dist_name(ep: EntryPoint | None) -> str:
    """``distribution <name> (<value>)`` of an entry point, for messages naming both sides of a clash."""
    if ep is None:
        return "a built-in"
    dist = getattr(ep, "dist", None)
    name = dist.metadata["Name"] if dist is not None else "an unnamed distribution"
    return f"{name} ({ep.value})"


def unknown_hooks(pm: pluggy.PluginManager, plugin: Any, name: str) -> list[str]:
    """Why parts of ``plugin`` would never be called: ``@hookimpl`` functions whose name is no hook, and
    functions named like a hook but not marked ``@imggan.hookimpl``."""
    specs = {n for n in dir(hookspecs) if n.startswith("register_")}
    problems = []
    for caller in pm.get_hookcallers(plugin) or []:
        if caller.spec is None:
            close = difflib.get_close_matches(caller.name, sorted(specs), n=1, cutoff=0.8)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(
                f"plugin {name!r}: {caller.name} is marked @imggan.hookimpl but is no hook{hint}; it is never "
                f"called (hooks: {', '.join(sorted(specs))})"
            )
    marked = {caller.name for caller in pm.get_hookcallers(plugin) or []}
    for attr in sorted(specs - marked):
        if callable(getattr(plugin, attr, None)):
            problems.append(f"plugin {name!r}: {attr} is not marked @imggan.hookimpl; it is never called")
    return problems


def collect(pm: pluggy.PluginManager, report: Callable[[str], None] | None = None) -> Registry:
    """Call every ``register_*`` hook of ``pm`` and gather the results (see :class:`Registry`)."""
    return Registry(pm, report).collect_all()


def call_each(
    caller: pluggy.HookCaller,
    report: Callable[[str], None] | None = None,
    before: Callable[[str], None] | None = None,
    **kwargs: Any,
) -> None:
    """Call each implementation of a hook, built-ins first, then plugins in entry-point name order.

    pluggy itself calls the last registered plugin first; with "first registration wins" that would let any
    installed plugin silently replace a built-in task or stage of the same name. With ``report``, a plugin
    whose implementation raises is reported by name (``report(message)``) and the others still run.
    ``before(plugin_name)`` is called before each implementation (the registry records who registered what).
    """
    for impl in caller.get_hookimpls():
        if impl.hookwrapper or getattr(impl, "wrapper", False):
            continue
        if before is not None:
            before(impl.plugin_name)
        try:
            impl.function(*(kwargs[name] for name in impl.argnames))
        except Exception as exc:
            if report is None:
                raise
            report(f"plugin {impl.plugin_name!r} failed in {caller.name}: {type(exc).__name__}: {exc}")


_pm: pluggy.PluginManager | None = None
_registry: Registry | None = None


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager (built on first use; failures reported once on stderr)."""
    global _pm
    if _pm is None:
        _pm = new_plugin_manager()
        for failure in _pm.failures:
            print(f"imggan: plugin {failure.name!r} failed to load: {failure.error}", file=sys.stderr)
        for warning in _pm.warnings:
            print(f"imggan: {warning}", file=sys.stderr)
    return _pm


def get_registry() -> Registry:
    """Everything registered by the process-wide plugin manager."""
    global _registry
    if _registry is None:
        _registry = Registry(get_plugin_manager(), lambda message: print(f"imggan: {message}", file=sys.stderr))
    return _registry


def reset() -> None:
    """Forget the process-wide plugin manager (tests that install plugins call this)."""
    global _pm, _registry
    _pm = None
    _registry = None


def plugin_info(pm: pluggy.PluginManager) -> list[dict[str, Any]]:
    """One dict per plugin: name, version, hooks it implements, builtin flag; failures included."""
    dists = {}
    for dist_ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(dist_ep, "dist", None)
        if dist is not None:
            dists[dist_ep.name] = (dist.metadata["Name"], dist.version)
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [] if h.spec is not None)
        dist_name, version = dists.get(name, (None, None))
        if name.startswith("imggan.builtin."):
            from imggan import __version__

            dist_name, version = "imggan", __version__
        rows.append(
            {
                "name": name,
                "distribution": dist_name,
                "version": version,
                "hooks": hooks,
                "builtin": name.startswith("imggan.builtin."),
                "error": None,
                "warnings": [w for w in getattr(pm, "warnings", []) if w.startswith(f"plugin {name!r}:")],
            }
        )
    for failure in getattr(pm, "failures", []):
        rows.append(
            {
                "name": failure.name,
                "distribution": dists.get(failure.name, (None, None))[0],
                "version": dists.get(failure.name, (None, None))[1],
                "hooks": [],
                "builtin": False,
                "error": failure.error,
            }
        )
    return rows
