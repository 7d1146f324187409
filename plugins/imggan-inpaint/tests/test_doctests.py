"""Every module's docstring example runs and says what it shows."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["__init__", "api", "fill", "inference", "losses", "masks", "models", "recipes", "regions", "zoo"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module("imggan_inpaint" if name == "__init__" else f"imggan_inpaint.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
