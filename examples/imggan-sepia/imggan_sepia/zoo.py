"""Model entries read from the cards in ``weights/`` (no torch): ``--model classic`` is the default.

Example:
    >>> from imggan_sepia.zoo import model_entries
    >>> [(e.name, e.task, e.default) for e in model_entries()]
    [('classic', 'sepia', True)]
"""

from __future__ import annotations

from pathlib import Path

from imggan.weights import ModelEntry, entries_from_cards

WEIGHTS_DIR = Path(__file__).parent / "weights"


def model_entries() -> list[ModelEntry]:
    """One entry per ``weights/*.safetensors`` whose JSON card names its task."""
    return entries_from_cards(WEIGHTS_DIR)
