"""Fixtures for the core's tests: isolated plugin managers, fixture plugins, a CLI runner, image factories.

Every test sees only the built-in plugins unless it installs its own with ``install_plugins``: the installed
heads (whatever state they are in) never leak into the core's tests.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
import zlib
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner, Result

import imggan.plugins
from imggan.cli import cli

_BASE_COMMANDS = dict(cli.commands)


@pytest.fixture(autouse=True)
def isolated_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EntryPoint]]:
    """Only built-ins load; the CLI group forgets plugin commands; the process-wide manager is rebuilt."""
    installed: list[EntryPoint] = []

    def fake_entry_points(group: str | None = None, **_: object) -> list[EntryPoint]:
        return [ep for ep in installed if group in (None, ep.group)]

    monkeypatch.setattr(imggan.plugins, "entry_points", fake_entry_points)
    monkeypatch.delenv(imggan.plugins.ALLOWLIST_ENV, raising=False)
    monkeypatch.setattr(cli, "commands", dict(_BASE_COMMANDS))
    monkeypatch.setattr(cli, "_plugins_loaded", False)
    imggan.plugins.reset()
    yield installed
    imggan.plugins.reset()


@pytest.fixture
def install_plugins(
    isolated_plugins: list[EntryPoint], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., list[EntryPoint]]]:
    """``install_plugins(name=source, ...)``: write modules on sys.path and expose them as entry points.

    Each keyword becomes a module ``<name>`` (source dedented) and an entry point of the same name in the
    ``imggan`` group; the process-wide plugin manager and the CLI then see them, as if pip-installed.
    """
    folder = tmp_path / "plugin_modules"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    names: list[str] = []

    def install(**sources: str) -> list[EntryPoint]:
        eps = []
        for name, source in sources.items():
            (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            sys.modules.pop(name, None)
            names.append(name)
            eps.append(EntryPoint(name=name, value=name, group=imggan.plugins.ENTRY_POINT_GROUP))
        importlib.invalidate_caches()
        isolated_plugins.extend(eps)
        imggan.plugins.reset()
        monkeypatch.setattr(cli, "_plugins_loaded", False)
        return eps

    yield install
    for name in names:
        sys.modules.pop(name, None)


@pytest.fixture
def invoke() -> Callable[..., Result]:
    """``invoke(*args)``: run the ``imggan`` CLI in-process; stdout and stderr are kept apart."""
    runner = CliRunner()

    def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)

    return run


def _pattern(name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    peak = np.iinfo(dtype).max
    return rng.integers(0, peak + 1, size=shape, dtype=np.int64).astype(dtype)


@pytest.fixture
def make_image() -> Callable[..., np.ndarray]:
    """``make_image(path, size=(h, w), channels=3, dtype=uint8)``: write a distinct random image, return it.

    The content depends on the file name only, so two files of the same name hold the same pixels. The
    format follows the suffix; writing goes through ``np.ndarray.tofile`` so unicode names work.
    """

    def make(path: Path, size: tuple[int, int] = (24, 32), channels: int = 3, dtype: type = np.uint8) -> np.ndarray:
        shape = size if channels == 1 else (*size, channels)
        image = _pattern(Path(path).name, shape, np.dtype(dtype))
        ok, buffer = cv2.imencode(Path(path).suffix, image)
        assert ok, path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        buffer.tofile(str(path))
        return image

    return make


def list_files(folder: Path) -> list[str]:
    """Every file under ``folder`` (hidden ones included), as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file())


@pytest.fixture
def files_under() -> Callable[[Path], list[str]]:
    """``files_under(folder)``: every file below ``folder`` (hidden and temporary ones included)."""
    return list_files
