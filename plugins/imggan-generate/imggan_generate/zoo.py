"""The shipped generators: every ``weights/*.safetensors`` with a JSON card, as :class:`ModelEntry` objects.

A card's ``name`` is the ``--model`` name (``digits``: conditional 16 px digits; ``faces``: unconditional
32 px faces) and ``default: true`` marks the model used without ``--model``. Nothing here imports torch.
"""

from __future__ import annotations

from pathlib import Path

from imggan.weights import ModelEntry, read_card

WEIGHTS_DIR = Path(__file__).parent / "weights"


def shipped_models(folder: Path = WEIGHTS_DIR) -> list[ModelEntry]:
    """One entry per weights file in ``folder`` whose card names the ``generate`` task."""
    entries = []
    for path in sorted(Path(folder).glob("*.safetensors")):
        card = read_card(path)
        if card.get("task") != "generate":
            continue
        entries.append(
            ModelEntry(
                name=str(card.get("name", path.stem)),
                task="generate",
                path=path,
                default=bool(card.get("default", False)),
                description=str(card.get("description", "")),
                card=card,
            )
        )
    return entries
