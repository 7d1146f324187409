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

import importlib
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from imggan import hookspecs

ENTRY_POINT_GROUP = "imggan"
ALLOWLIST_ENV = "IMGGAN_LOAD_PLUGINS"
BUILTIN_MODULES = ("imggan.builtin.stages", "imggan.builtin.reference_task", "imggan.builtin.training")


@dataclass
class PluginFailure:
    """A plugin that could not be loaded, with the reason users see."""

    name: str
    error: str


@dataclass
class Registry:
    """Everything the plugins registered, collected once per plugin manager."""

    tasks: dict[str, Any] = field(default_factory=dict)
    models: list[Any] = field(default_factory=list)
    stages: dict[str, Any] = field(default_factory=dict)
    losses: dict[str, Any] = field(default_factory=dict)
    augmentations: dict[str, Any] = field(default_factory=dict)
    recipes: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


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


def collect(pm: pluggy.PluginManager) -> Registry:
    """Call every ``register_*`` hook and gather the results; a duplicate name keeps the first registered
    (built-ins, then plugins in entry-point name order) and adds a warning."""
    registry = Registry()

    def keyed(target: dict[str, Any], kind: str):
        def register(obj: Any) -> None:
            name = obj.name
            if name in target:
                registry.warnings.append(f"{kind} {name!r} registered twice; keeping the first")
                return
            target[name] = obj

        return register

    def register_model(entry: Any) -> None:
        if any(m.task == entry.task and m.name == entry.name for m in registry.models):
            registry.warnings.append(f"model {entry.name!r} of task {entry.task!r} registered twice")
            return
        registry.models.append(entry)

    hook = pm.hook
    report = registry.warnings.append
    call_each(hook.register_tasks, report, register=keyed(registry.tasks, "task"))
    call_each(hook.register_models, report, register=register_model)
    call_each(hook.register_stages, report, register=keyed(registry.stages, "stage"))
    call_each(hook.register_losses, report, register=keyed(registry.losses, "loss"))
    call_each(hook.register_augmentations, report, register=keyed(registry.augmentations, "augmentation"))
    call_each(hook.register_recipes, report, register=keyed(registry.recipes, "recipe"))
    return registry


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
        _registry = collect(get_plugin_manager())
        for warning in _registry.warnings:
            print(f"imggan: {warning}", file=sys.stderr)
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
