"""Weights on disk: safetensors for tensors, a JSON model card beside them; never pickle.

A model is a pair ``NAME.safetensors`` + ``NAME.json``. The card records what the weights are (task,
architecture and its arguments) and where they came from (sources, command, steps, time, device,
benchmark figures). Heads register named models through the ``register_models`` hook; ``--model`` takes
such a name or a path to a ``.safetensors`` file.

Example:
    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> from imggan.weights import save_weights, load_weights
    >>> path = Path(tempfile.mkdtemp()) / "tiny.safetensors"
    >>> save_weights(path, {"w": torch.ones(2)}, {"task": "demo", "arch": {"name": "none"}})
    >>> tensors, card = load_weights(path)
    >>> card["task"], tensors["w"].tolist()
    ('demo', [1.0, 1.0])
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imggan.errors import ModelNotFoundError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class ModelEntry:
    """A named set of weights a task can load with ``--model NAME``.

    Attributes:
        name: the name users type (``inpaint-small``); unique per task.
        task: the task it serves.
        path: the ``.safetensors`` file; its card is the ``.json`` beside it.
        default: used when no ``--model`` is given.
        description: one line for ``imggan models``.
    """

    name: str
    task: str
    path: Path
    default: bool = False
    description: str = ""
    card: dict[str, Any] = field(default_factory=dict, compare=False)

    def read_card(self) -> dict[str, Any]:
        """The JSON card beside the weights (empty when missing)."""
        return read_card(self.path)


def card_path(weights: Path) -> Path:
    """``model.safetensors`` -> ``model.json``."""
    return Path(weights).with_suffix(".json")


def read_card(weights: Path) -> dict[str, Any]:
    """Read the JSON card beside ``weights``; ``{}`` when there is none."""
    path = card_path(weights)
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A crash leaves either the old file or the new one, never a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_weights(path: Path, tensors: dict[str, torch.Tensor], card: dict[str, Any]) -> None:
    """Save ``tensors`` as safetensors and ``card`` as JSON beside them, both atomically."""
    from safetensors.torch import save

    contiguous = {name: t.detach().to("cpu").contiguous() for name, t in tensors.items()}
    atomic_write_bytes(Path(path), save(contiguous))
    atomic_write_bytes(card_path(path), (json.dumps(card, indent=2, sort_keys=True) + "\n").encode())


def load_weights(path: Path, device: str | torch.device = "cpu") -> tuple[dict[str, torch.Tensor], dict]:
    """Load tensors from a ``.safetensors`` file (no pickle involved) and the card beside it.

    Raises:
        ModelNotFoundError: the file does not exist or is not a safetensors file.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"weights not found: {path}")
    if path.suffix != ".safetensors":
        raise ModelNotFoundError(f"{path}: only .safetensors weights are loaded (never pickle files)")
    try:
        tensors = load_file(str(path), device=str(device))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelNotFoundError(f"{path}: not a readable safetensors file ({exc})") from exc
    return tensors, read_card(path)


def resolve_model(task: str, name_or_path: str | None, entries: list[ModelEntry]) -> ModelEntry:
    """Find the weights for ``task``: a registered name, a path, or the task's default.

    Raises:
        ModelNotFoundError: nothing matches; the message lists the names that would.
    """
    mine = [e for e in entries if e.task == task]
    if name_or_path is None:
        defaults = [e for e in mine if e.default] or mine[:1]
        if not defaults:
            raise ModelNotFoundError(f"no model is registered for task {task!r}; pass --model PATH")
        return defaults[0]
    for entry in mine:
        if entry.name == name_or_path:
            return entry
    path = Path(name_or_path)
    if path.suffix == ".json":
        path = path.with_suffix(".safetensors")
    if path.is_file():
        return ModelEntry(name=path.stem, task=task, path=path)
    known = ", ".join(e.name for e in mine) or "none"
    raise ModelNotFoundError(
        f"model {name_or_path!r} is neither a registered {task} model (known: {known}) nor a weights file"
    )
