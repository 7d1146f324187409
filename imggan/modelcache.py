"""Loading a head's network from ``--model`` (name, file or run folder), checked, once per process.

Every head loads its weights through :func:`load_network`: the core resolves the name
(:func:`imggan.weights.resolve_model`), checks the file and its card (:func:`imggan.weights.check_model`),
builds the network with the head's ``build(arch)`` and loads the tensors. Anything wrong becomes one
:class:`~imggan.errors.ModelLoadError` line naming the file (the CLI exits 2 on it, without a traceback).
Loaded networks are cached per (file, modification time, device), so a chain that names the same model
twice, or an API called in a loop, loads it once.

Example:
    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> from imggan.cards import export_model
    >>> from imggan.modelcache import load_network
    >>> build = lambda arch: torch.nn.Conv2d(3, 3, arch["k"], padding=arch["k"] // 2)
    >>> path = export_model(build({"k": 3}), tempfile.mkdtemp(), "demo", {"name": "conv", "k": 3}, {})
    >>> loaded = load_network("demo", str(path.parent.parent), build, archs={"conv"}, entries=[])
    >>> again = load_network("demo", str(path), build, archs={"conv"}, entries=[])
    >>> loaded.path.name, loaded.card["arch"]["k"], loaded is again
    ('demo.safetensors', 3, True)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imggan.errors import ModelLoadError
from imggan.weights import ModelEntry, check_model, resolve_model

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass
class LoadedModel:
    """A network ready for inference, with the card and file it came from."""

    net: nn.Module
    card: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    path: Path | None = None
    device: Any = "cpu"

    @property
    def scale(self) -> int:
        """Output size / input size of the network (its ``scale`` attribute; 1 when it has none)."""
        return int(getattr(self.net, "scale", 1))

    @property
    def multiple(self) -> int:
        """Side multiple the network pads to internally (its ``multiple`` attribute; tiles are cut to it)."""
        return int(getattr(self.net, "multiple", 1))


_CACHE: dict[tuple[str, int, str], LoadedModel] = {}
_LOCK = threading.Lock()


def registered_entries() -> list[ModelEntry]:
    """The model entries of the process-wide plugin registry."""
    from imggan.plugins import get_registry

    return list(get_registry().models)


def resolve_checked(
    task: str, model: str | None, archs: Collection[str] | None = None, entries: Sequence[ModelEntry] | None = None
) -> tuple[ModelEntry, dict[str, Any]]:
    """Resolve ``--model`` for ``task`` and check the file and card (no torch); returns (entry, card)."""
    entry = resolve_model(task, model, list(registered_entries() if entries is None else entries))
    return entry, check_model(entry.path, task, archs)


def _fit(net: nn.Module, tensors: dict[str, torch.Tensor], path: Path, arch: str) -> None:
    """Load ``tensors`` into ``net`` or raise one line saying how they differ from the architecture."""
    expected = net.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = [k for k in expected if k in tensors and tuple(expected[k].shape) != tuple(tensors[k].shape)]
    if missing or unexpected or wrong:
        parts = []
        if wrong:
            k = wrong[0]
            parts.append(
                f"{len(wrong)} tensor(s) of another shape (e.g. {k}: {tuple(tensors[k].shape)} in the file, "
                f"{tuple(expected[k].shape)} in the network)"
            )
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        raise ModelLoadError(f"{path}: weights do not fit architecture {arch!r} of its card: {'; '.join(parts)}")
    # weights may be stored in half precision to keep a package small; compute in the network's dtype
    net.load_state_dict({k: v.to(expected[k].dtype) if v.is_floating_point() else v for k, v in tensors.items()})


def load_network(
    task: str,
    model: str | None,
    build: Callable[[dict[str, Any]], nn.Module],
    archs: Collection[str] | None = None,
    device: str | torch.device = "cpu",
    entries: Sequence[ModelEntry] | None = None,
) -> LoadedModel:
    """Load the network ``--model`` names for ``task``; cached per (file, mtime, device).

    Args:
        task: the task the model must serve (its card's ``task``).
        model: a registered name, a ``.safetensors`` path, a run folder (its ``export/``) or ``None``
            (the task's default model).
        build: the head's ``build(arch) -> nn.Module``, given the card's ``arch`` dict (``name`` included).
        archs: the architecture names ``build`` knows; a card naming another is refused.
        device: where the network goes (eval mode, gradients off).
        entries: the registered models to resolve names against (default: the plugin registry's).

    Raises:
        ModelNotFoundError / ModelLoadError: one line naming the file and what is wrong.
    """
    import torch

    from imggan.weights import load_weights

    entry, card = resolve_checked(task, model, archs, entries)
    path = Path(entry.path)
    key = (str(path.resolve()), path.stat().st_mtime_ns, str(device))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        tensors, _ = load_weights(path)
        arch = card["arch"]
        try:
            net = build(dict(arch))
        except (TypeError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"{path}: cannot build architecture {arch['name']!r} from its card ({exc})") from None
        _fit(net, tensors, path, arch["name"])
        net.eval().requires_grad_(False).to(torch.device(device))
        loaded = LoadedModel(net=net, card=card, name=entry.name, path=path, device=torch.device(device))
        _CACHE[key] = loaded
        return loaded


def clear_cache() -> None:
    """Forget every loaded network (tests; a long-lived process that wants the memory back)."""
    with _LOCK:
        _CACHE.clear()
