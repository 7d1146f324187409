"""The shipped trained styles: every ``weights/*.safetensors`` with its JSON card, as model entries (no torch).

A card's ``name`` is the ``--model`` name of ``imggan stylize`` (e.g. ``swamp``; the card schema:
:mod:`imggan.cards`). No card says ``default: true``: ``imggan stylize`` without ``--model`` runs the
reference-image optimiser, so no shipped style is the task's default.

Example:
    >>> from imggan_style.zoo import shipped_models
    >>> sorted(e.name for e in shipped_models()), any(e.default for e in shipped_models())
    (['mountains', 'swamp'], False)
"""

from __future__ import annotations

from pathlib import Path

from imggan.weights import ModelEntry, entries_from_cards

WEIGHTS_DIR = Path(__file__).parent / "weights"
# the architecture names a card may give (``arch.name``): one style network, or a translation's generators
ARCHS = {"style-net", "style-translate"}


def shipped_models(folder: Path = WEIGHTS_DIR) -> list[ModelEntry]:
    """One entry per weights file in ``folder`` whose card names its task."""
    return entries_from_cards(folder)
