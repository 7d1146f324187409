"""Every module's docstring example runs and shows what it says."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import imggan_enhance

MODULES = ["imggan_enhance"] + sorted(
    info.name for info in pkgutil.iter_modules(imggan_enhance.__path__, "imggan_enhance.")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} failing example(s)"
