"""Every module's docstring example runs and shows what it says (they use the shipped ``digits`` model)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import imggan_generate

MODULES = ["imggan_generate"] + sorted(
    info.name for info in pkgutil.iter_modules(imggan_generate.__path__, "imggan_generate.")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} failing example(s)"


def test_shipped_models_are_listed():
    from imggan_generate.zoo import shipped_models

    entries = {e.name: e for e in shipped_models()}
    assert entries["digits"].default and entries["digits"].path.is_file()
    for name in ("digits", "emoji", "faces"):  # cards written by the core's writer (python -m imggan.cards)
        card = entries[name].read_card()
        for key in ("sources", "licences", "commands", "training"):
            assert card.get(key), (name, key)
        training = card["training"]
        assert training["steps_total"] > 0 and training["seconds_total"] > 0 and training["device"], name
