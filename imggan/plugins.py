"""The plugin manager: built-ins plus everything in the ``imggan`` entry-point group.

Plugins are loaded one by one, so a plugin that fails to import is reported by name (on stderr, once, and
in ``imggan plugins``) while the others still load. ``IMGGAN_LOAD_PLUGINS=a,b`` loads only the named
entry points (an empty value loads none); built-ins always load.

Example:
    >>> from imggan.plugins import get_registry
    >>> "run" in get_registry().tasks
    True
"""

from __future__ import annotations

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

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self._report is not None:
            self._report(message)

    def _keyed(self, hook_name: str, kind: str) -> dict[str, Any]:
        target: dict[str, Any] = {}

        def register(obj: Any) -> None:
            if obj.name in target:
                self._warn(f"{kind} {obj.name!r} registered twice; keeping the first")
                return
            target[obj.name] = obj

        if self._pm is not None:
            call_each(getattr(self._pm.hook, hook_name), self._warn, register=register)
        return target

    @functools.cached_property
    def tasks(self) -> dict[str, Any]:
        """Tasks by name (``register_tasks``)."""
        return self._keyed("register_tasks", "task")

    @functools.cached_property
    def stages(self) -> dict[str, Any]:
        """Pipeline stages by name (``register_stages``)."""
        return self._keyed("register_stages", "stage")

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
    def models(self) -> list[Any]:
        """Model entries (``register_models``); unique per (task, name)."""
        models: list[Any] = []

        def register(entry: Any) -> None:
            if any(m.task == entry.task and m.name == entry.name for m in models):
                self._warn(f"model {entry.name!r} of task {entry.task!r} registered twice")
                return
            models.append(entry)

        if self._pm is not None:
            call_each(self._pm.hook.register_models, self._warn, register=register)
        return models

    def collect_all(self) -> Registry:
        """Gather every kind now (tests and ``imggan plugins`` want the full picture)."""
        for kind in ("tasks", "models", "stages", "losses", "augmentations", "recipes"):
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
    if builtins:
        for module_name in BUILTIN_MODULES:
            pm.register(importlib.import_module(module_name), name=module_name)
    eps = entry_points(group=ENTRY_POINT_GROUP) if entry_points_to_load is None else entry_points_to_load
    allowed = _allowlist()
    for ep in sorted(eps, key=lambda e: e.name):
        if allowed is not None and ep.name not in allowed:
            continue
        if pm.has_plugin(ep.name):
            pm.failures.append(PluginFailure(ep.name, "another plugin is already registered under this name"))
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # a broken plugin must not take the CLI down
            pm.failures.append(PluginFailure(ep.name, f"{type(exc).__name__}: {exc}"))
    return pm


def collect(pm: pluggy.PluginManager, report: Callable[[str], None] | None = None) -> Registry:
    """Call every ``register_*`` hook of ``pm`` and gather the results (see :class:`Registry`)."""
    return Registry(pm, report).collect_all()


def call_each(caller: pluggy.HookCaller, report: Callable[[str], None] | None = None, **kwargs: Any) -> None:
    """Call each implementation of a hook, built-ins first, then plugins in entry-point name order.

    pluggy itself calls the last registered plugin first; with "first registration wins" that would let any
    installed plugin silently replace a built-in task or stage of the same name. With ``report``, a plugin
    whose implementation raises is reported by name (``report(message)``) and the others still run.
    """
    for impl in caller.get_hookimpls():
        if impl.hookwrapper or getattr(impl, "wrapper", False):
            continue
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
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
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
