"""Weights on disk: safetensors for tensors, a JSON model card beside them; never pickle.

A model is a pair ``NAME.safetensors`` + ``NAME.json``. The card records what the weights are (task,
architecture and its arguments) and where they came from (sources, command, steps, time, device,
benchmark figures); :mod:`imggan.cards` documents its fields and writes it. Heads register named models
through the ``register_models`` hook (:func:`entries_from_cards` turns a folder of cards into entries without
importing torch); ``--model`` takes such a name, a ``.safetensors`` path, or a training run's folder (its
``export/``). :func:`check_model` finds what makes a file unusable for a task before any tensor is loaded.

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imggan.errors import ModelLoadError, ModelNotFoundError

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
    """Read the JSON card beside ``weights``; ``{}`` when there is none.

    Raises:
        ModelLoadError: the card is not valid JSON or not a JSON object (the message names the card).
    """
    path = card_path(weights)
    if not path.is_file():
        return {}
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{path}: malformed model card (not valid JSON: {exc})") from None
    if not isinstance(card, dict):
        raise ModelLoadError(f"{path}: malformed model card (a JSON object is expected, not {type(card).__name__})")
    return card


def read_header(weights: Path) -> dict[str, Any]:
    """The JSON header of a ``.safetensors`` file (tensor names, dtypes, shapes, ``__metadata__``), no torch.

    Raises:
        ModelNotFoundError: the file does not exist.
        ModelLoadError: it is not a safetensors file.
    """
    path = Path(weights)
    if not path.is_file():
        raise ModelNotFoundError(f"weights not found: {path}")
    with path.open("rb") as handle:
        prefix = handle.read(8)
        length = int.from_bytes(prefix, "little") if len(prefix) == 8 else 0
        if not 2 <= length <= min(100_000_000, path.stat().st_size - 8):
            raise ModelLoadError(f"{path}: not a safetensors file (no valid header)")
        try:
            header = json.loads(handle.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ModelLoadError(f"{path}: not a safetensors file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise ModelLoadError(f"{path}: not a safetensors file (its header is not a JSON object)")
    return header


def parameter_count(weights: Path) -> int:
    """Number of values stored in a ``.safetensors`` file, read from its header (no tensor is loaded)."""
    total = 0
    for name, meta in read_header(weights).items():
        if name != "__metadata__" and isinstance(meta, dict):
            count = 1
            for side in meta.get("shape", []):
                count *= int(side)
            total += count
    return total


def _is_checkpoint(header: dict[str, Any], card: dict[str, Any]) -> bool:
    """A trainer checkpoint (G, D, EMA, optimizers under prefixes) rather than an exported model."""
    metadata = header.get("__metadata__") or {}
    if "imggan" in metadata or str(card.get("format", "")).startswith("imggan-train-checkpoint"):
        return True
    names = [n for n in header if n != "__metadata__"]
    return bool(names) and all("/" in n for n in names) and any(n.startswith(("G/", "G_ema/")) for n in names)


def check_model(path: Path, task: str, archs: Iterable[str] | None = None) -> dict[str, Any]:
    """Check that ``path`` is an exported model of ``task`` that this head can build; return its card.

    Cheap (reads the safetensors header and the card, no tensor): the runner calls it before skipping any
    input, so a bad ``--model`` is reported even when every output already exists.

    Args:
        path: the ``.safetensors`` file.
        task: the task that will run it.
        archs: architecture names the head builds (``card["arch"]["name"]``); ``None`` skips that check.

    Raises:
        ModelNotFoundError / ModelLoadError: one line naming the file and what is wrong with it.
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ModelLoadError(f"{path}: only .safetensors weights are loaded (never pickle files)")
    header = read_header(path)
    card = read_card(path)
    if _is_checkpoint(header, card):
        raise ModelLoadError(
            f"{path}: a training checkpoint, not a model; export one with "
            f"`imggan train {task} --out RUN --export` and pass RUN (or RUN/export/{task}.safetensors)"
        )
    if not card:
        raise ModelLoadError(f"{path}: no model card beside it ({card_path(path).name} with task and arch)")
    if card.get("task") != task:
        what = f"a {card['task']!r} model" if card.get("task") else "a model whose card names no task"
        raise ModelLoadError(f"{path}: {what}, not a {task!r} model")
    arch = card.get("arch")
    if not isinstance(arch, dict) or not isinstance(arch.get("name"), str):
        raise ModelLoadError(f"{card_path(path)}: malformed model card (no arch.name: which network to build)")
    known = sorted(archs) if archs is not None else None
    if known is not None and arch["name"] not in known:
        raise ModelLoadError(
            f"{path}: unknown architecture {arch['name']!r} for {task!r} (this head builds: {', '.join(known)})"
        )
    return card


def entries_from_cards(folder: Path) -> list[ModelEntry]:
    """One :class:`ModelEntry` per ``folder/*.safetensors`` whose card names its task (no torch imported).

    The card's ``name`` is the ``--model`` name (default: the file stem), ``default: true`` marks the model
    used without ``--model`` and ``description`` is the line ``imggan models`` shows. A head's ``zoo.py``
    is this call on its ``weights/`` folder.
    """
    entries = []
    for path in sorted(Path(folder).glob("*.safetensors")):
        card = read_card(path)
        if "task" not in card:
            continue
        entries.append(
            ModelEntry(
                name=str(card.get("name", path.stem)),
                task=str(card["task"]),
                path=path,
                default=bool(card.get("default", False)),
                description=str(card.get("description", "")),
                card=card,
            )
        )
    return entries


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
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return ModelEntry(name=path.name, task=task, path=run_export(path, task))
    if path.suffix == ".json":
        path = path.with_suffix(".safetensors")
    if path.is_file():
        return ModelEntry(name=path.stem, task=task, path=path)
    known = ", ".join(e.name for e in mine) or "none"
    if path.suffix == ".safetensors" or "/" in name_or_path:
        raise ModelNotFoundError(f"--model {name_or_path}: no such file or run folder (registered: {known})")
    raise ModelNotFoundError(
        f"model {name_or_path!r} is neither a registered {task} model (known: {known}) nor a weights file"
    )


def run_export(run_dir: Path, task: str) -> Path:
    """The model a training run exported for ``task``: ``RUN/export/<task>.safetensors``, else the one
    ``.safetensors`` there whose card names ``task`` (a folder of weights is searched the same way).

    Raises:
        ModelNotFoundError: the run exported nothing for ``task`` (the message says how to export).
    """
    run_dir = Path(run_dir)
    for folder in (run_dir / "export", run_dir):
        preferred = folder / f"{task}.safetensors"
        if preferred.is_file():
            return preferred
        if folder.is_dir():
            mine = []
            for candidate in sorted(folder.glob("*.safetensors")):
                try:
                    if read_card(candidate).get("task") == task:
                        mine.append(candidate)
                except ModelLoadError:
                    continue
            if len(mine) == 1:
                return mine[0]
            if len(mine) > 1:
                names = ", ".join(p.name for p in mine)
                raise ModelNotFoundError(f"--model {run_dir}: several {task} models in {folder} ({names}); name one")
    raise ModelNotFoundError(
        f"--model {run_dir}: a folder with no exported {task} model (no export/{task}.safetensors); "
        f"export one with `imggan train {task} --out {run_dir} --export`"
    )
