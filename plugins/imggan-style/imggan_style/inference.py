"""Loading trained style and translation models and running them on whole images of any size.

A model is a ``.safetensors`` file with its card (``kind``: ``style`` or ``translate``), a shipped name, or a
training run folder (its ``export/stylize.safetensors``, what ``imggan train style|translate`` exports).
The core's :mod:`imggan.modelcache` resolves and checks the file and its card and keeps each network loaded
once per file and device; this module picks the way (``--direction``) of a translation. Networks are fully
convolutional and pad internally, so an image of any size (odd, rectangular) comes back at its own size.

Example:
    >>> import tempfile, torch
    >>> from imggan.cards import export_model
    >>> from imggan_style.models import StyleNet
    >>> from imggan_style.inference import load_model, apply
    >>> arch = {"name": "style-net", "widths": [8, 8, 8], "blocks": 1}
    >>> path = export_model(StyleNet((8, 8, 8), 1), tempfile.mkdtemp(), "stylize", arch, {}, kind="style")
    >>> model = load_model(str(path.parent.parent))
    >>> tuple(apply(model, torch.rand(1, 3, 21, 30)).shape)
    (1, 3, 21, 30)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from imggan.errors import ImgganError, ModelLoadError


@dataclass
class LoadedModel:
    """A trained network ready to run (one way of a translation), with its card."""

    name: str
    net: nn.Module
    card: dict[str, Any] = field(default_factory=dict)


def check_card(card: dict[str, Any], name: str, direction: str = "a2b") -> None:
    """Refuse a card that cannot run ``direction``: one line (a usage error) saying what the model has."""
    arch = card.get("arch") or {}
    if card.get("kind") == "translate" or arch.get("name") == "style-translate":
        if arch.get("name") != "style-translate":
            raise ModelLoadError(
                f"model {name!r}: a translation exported without its directions; export the run again "
                "(`imggan train translate --out RUN --export`)"
            )
        ways = list(arch.get("directions") or [])
        if direction not in ways:
            raise ImgganError(
                f"model {name!r} has no {direction} generator (it has: {', '.join(ways)}; CUT is one-sided)"
            )
    elif direction != "a2b":
        raise ImgganError(f"--direction {direction}: model {name!r} is a style, not a translation")


def check_model(name_or_path: str, direction: str = "a2b") -> dict[str, Any]:
    """Resolve ``--model`` and check its card for ``direction`` without loading weights; returns the card."""
    from imggan.modelcache import resolve_checked
    from imggan_style.zoo import ARCHS

    entry, card = resolve_checked("stylize", name_or_path, ARCHS)
    check_card(card, entry.name, direction)
    return card


def load_model(name_or_path: str, device: str | torch.device = "cpu", direction: str = "a2b") -> LoadedModel:
    """A registered style name, a ``.safetensors`` file or a run folder -> :class:`LoadedModel`.

    Raises:
        ModelNotFoundError / ModelLoadError: no such model, or one line naming the file when it is no
            stylize model (a checkpoint, another task's model, a bad card, tensors that do not fit).
        ImgganError: ``direction`` is not a way the model has.
    """
    from imggan.modelcache import load_network
    from imggan_style.models import build_stylize_net
    from imggan_style.zoo import ARCHS

    check_model(name_or_path, direction)
    loaded = load_network("stylize", name_or_path, build_stylize_net, archs=ARCHS, device=device)
    net = loaded.net[direction] if isinstance(loaded.net, nn.ModuleDict) else loaded.net
    return LoadedModel(loaded.name, net, loaded.card)


@torch.inference_mode()
def apply(model: LoadedModel, x: torch.Tensor) -> torch.Tensor:
    """Run the network on an NxCxHxW RGB batch in [0, 1], whole images at once.

    The networks are instance-normalised: their statistics are those of the whole image, so the image is
    never cut into tiles (tiles would each get their own statistics and show seams).
    """
    return model.net(x)
