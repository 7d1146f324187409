"""The shipped trained styles: every ``weights/*.safetensors`` with its JSON card, as :class:`ModelEntry` objects.

A card's ``name`` is the ``--model`` name of ``imggan stylize`` (e.g. ``swamp``); no shipped style is the
default, because ``imggan stylize`` without ``--model`` runs the reference-image optimiser instead.
"""

from __future__ import annotations

from pathlib import Path

from imggan.weights import ModelEntry, read_card

WEIGHTS_DIR = Path(__file__).parent / "weights"


def shipped_models(folder: Path = WEIGHTS_DIR) -> list[ModelEntry]:
    """One entry per weights file in ``folder`` that has a card naming its task."""
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
                default=False,
                description=str(card.get("description", "")),
                card=card,
            )
        )
    return entries
