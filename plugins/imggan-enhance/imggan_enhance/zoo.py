"""The shipped models: every ``weights/*.safetensors`` with its JSON card, as model entries (no torch).

A card's ``name`` is the ``--model`` name (``default`` and ``jpeg`` for the denoiser; ``x4``, ``x2``, ``sharp``
and ``robust`` for the upscaler) and ``default: true`` marks the model used without ``--model``
(the card schema: :mod:`imggan.cards`).

Example:
    >>> from imggan_enhance.zoo import shipped_models
    >>> sorted(e.name for e in shipped_models() if e.task == "denoise")
    ['default', 'jpeg']
"""

from __future__ import annotations

from pathlib import Path

from imggan.weights import ModelEntry, entries_from_cards

WEIGHTS_DIR = Path(__file__).parent / "weights"
TASK_ARCHS = {"denoise": {"denoise-unet"}, "upscale": {"upscale-res"}}  # the architectures a card may name


def shipped_models(folder: Path = WEIGHTS_DIR) -> list[ModelEntry]:
    """One entry per weights file in ``folder`` whose card names its task."""
    return entries_from_cards(folder)
