"""The shipped trained styles: registered from their cards, loadable by name, fast on any size."""

import numpy as np

from imggan_style.zoo import shipped_models


def test_every_shipped_style_has_a_complete_card():
    entries = shipped_models()
    assert entries, "no shipped style found in imggan_style/weights"
    for entry in entries:
        card = entry.read_card()
        assert entry.task == "stylize" and not entry.default
        for key in ("name", "reference", "data_sources", "commands", "training", "benchmark", "validation", "arch"):
            assert card.get(key), f"{entry.name}: card lacks {key}"  # the core writer's card (imggan.cards)
        training = card["training"]
        assert training["device"] and training["seconds_total"] > 0 and sum(r["steps"] for r in training["runs"]) > 0


def test_the_zoo_is_the_core_reading_of_the_cards_and_names_no_default():
    """``entries_from_cards`` on ``weights/``; no card says ``default``, so ``--model`` stays optional and
    the stylize task (whose default path is the optimiser) has no default model."""
    from imggan.weights import entries_from_cards
    from imggan_style.tasks import stylize_task
    from imggan_style.zoo import ARCHS, WEIGHTS_DIR

    entries = shipped_models()
    assert entries == entries_from_cards(WEIGHTS_DIR)
    assert {e.name for e in entries} == {"swamp", "mountains"}
    assert not any(e.default or e.card.get("default") for e in entries)
    assert all(e.card["arch"]["name"] in ARCHS for e in entries)
    assert stylize_task().default_model is None


def test_a_shipped_style_runs_by_name_at_the_input_size():
    from imggan_style import stylize

    name = shipped_models()[0].name
    photo = np.random.default_rng(0).integers(0, 256, (45, 67, 3), dtype=np.uint8)
    out = stylize(photo, model=name, device="cpu")
    assert out.shape == photo.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - photo).mean() > 5
    half = stylize(photo, model=name, device="cpu", strength=0.5)
    assert np.abs(half.astype(int) - photo).mean() < np.abs(out.astype(int) - photo).mean()
