"""The shipped generators: every ``weights/*.safetensors`` with a JSON card, as model entries (no torch).

A card's ``name`` is the ``--model`` name (``digits``: conditional 16 px digits; ``emoji``: conditional 32 px
emoji, 9 categories; ``faces``: unconditional 32 px faces) and ``default: true`` marks the model used without
``--model`` (the card schema: :mod:`imggan.cards`).

Example:
    >>> from imggan_generate.zoo import shipped_models
    >>> sorted(e.name for e in shipped_models())
    ['digits', 'emoji', 'faces']
"""

from __future__ import annotations

from pathlib import Path

from imggan.weights import ModelEntry, entries_from_cards

WEIGHTS_DIR = Path(__file__).parent / "weights"
ARCHS = {"generate"}  # the architecture names a card may give (``arch.name``; ``arch.arch`` picks the network)


def shipped_models(folder: Path = WEIGHTS_DIR) -> list[ModelEntry]:
    """One entry per weights file in ``folder`` whose card names its task."""
    return entries_from_cards(folder)
