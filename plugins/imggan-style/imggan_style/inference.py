"""Loading trained style and translation models and running them on whole images of any size.

A model is a ``.safetensors`` file with its card (``kind``: ``style`` or ``translate``), or a run folder
holding ``stylize.safetensors`` (what ``imggan train style|translate`` exports). Networks are fully
convolutional and pad internally, so an image of any size (odd, rectangular) comes back at its own size.

Example:
    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> from imggan.weights import save_weights
    >>> from imggan_style.models import StyleNet
    >>> from imggan_style.inference import load_model, apply
    >>> path = Path(tempfile.mkdtemp()) / "stylize.safetensors"
    >>> arch = {"name": "style-net", "widths": [8, 8, 8], "blocks": 1}
    >>> save_weights(path, StyleNet((8, 8, 8), 1).state_dict(), {"task": "stylize", "kind": "style", "arch": arch})
    >>> model = load_model(str(path.parent))
    >>> tuple(apply(model, torch.rand(1, 3, 21, 30)).shape)
    (1, 3, 21, 30)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from imggan.errors import ImgganError
from imggan_style.models import StyleNet, build_style_net


@dataclass
class LoadedModel:
    """A trained network ready to run, with its card."""

    name: str
    net: StyleNet
    card: dict[str, Any] = field(default_factory=dict)


def resolve_path(name_or_path: str) -> str:
    """A run folder -> its ``stylize.safetensors``; anything else unchanged."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        weights = path / "stylize.safetensors"
        if not weights.is_file():
            raise ImgganError(f"--model {path}: the folder has no stylize.safetensors (train it, or --export)")
        return str(weights)
    return name_or_path


def load_model(name_or_path: str, device: str | torch.device = "cpu", direction: str = "a2b") -> LoadedModel:
    """A registered style name, a ``.safetensors`` file or a run folder -> :class:`LoadedModel`."""
    from imggan.weights import load_weights, resolve_model

    try:
        from imggan.plugins import get_registry

        entries = list(get_registry().models)
    except Exception:  # noqa: BLE001 - no registry (bare API use): paths still work
        entries = []
    entry = resolve_model("stylize", resolve_path(name_or_path), entries)
    tensors, card = load_weights(entry.path, device)
    kind = card.get("kind", "style")
    if kind == "translate":
        prefix = f"{direction}/"
        if not any(k.startswith(prefix) for k in tensors):
            have = ", ".join(card.get("directions", [])) or "a2b"
            raise ImgganError(f"model {entry.name!r} has no {direction} generator (it has: {have}; CUT is one-sided)")
        tensors = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    elif direction != "a2b":
        raise ImgganError(f"--direction {direction}: model {entry.name!r} is a style, not a translation")
    try:
        net = build_style_net(card.get("arch", {}))
        net.load_state_dict(tensors)
    except (ValueError, RuntimeError) as exc:
        raise ImgganError(f"model {entry.name!r} is not a stylize model: {exc}") from exc
    return LoadedModel(entry.name, net.to(device).eval().requires_grad_(False), card)


@torch.inference_mode()
def apply(model: LoadedModel, x: torch.Tensor) -> torch.Tensor:
    """Run the network on an NxCxHxW RGB batch in [0, 1], whole images at once.

    The networks are instance-normalised: their statistics are those of the whole image, so the image is
    never cut into tiles (tiles would each get their own statistics and show seams).
    """
    return model.net(x)
