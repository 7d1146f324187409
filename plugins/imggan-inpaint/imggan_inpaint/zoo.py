"""The shipped inpainting model(s): every ``weights/*.safetensors`` with its JSON card (no torch).

Example:
    >>> from imggan_inpaint.zoo import model_entries
    >>> [(e.name, e.default) for e in model_entries()]
    [('inpaint-small', True)]
"""

from __future__ import annotations

from pathlib import Path

from imggan.weights import ModelEntry, entries_from_cards

WEIGHTS_DIR = Path(__file__).parent / "weights"
EXAMPLES_DIR = Path(__file__).parent / "examples"  # astronaut.jpg + astronaut_mask.png (the README's demo)
DEFAULT_MODEL = "inpaint-small"


def model_entries(folder: Path = WEIGHTS_DIR) -> list[ModelEntry]:
    """The models in ``folder`` whose card names their task, as :class:`imggan.weights.ModelEntry`."""
    return entries_from_cards(folder)
