"""The examples in the style head's docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["__init__", "api", "color", "histmatch", "inference", "keep", "losses", "models", "optimize", "presets",
           "recipes", "swd", "translate", "upsample", "zoo"]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module("imggan_style" if name == "__init__" else f"imggan_style.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
