"""The example plugin (examples/imggan-sepia) installed like any third-party package: found through its
entry point, listed, run over a folder in batch, usable as an ``imggan run`` step, its model listed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "imggan-sepia"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install`` the example into a fresh folder (a copy is built, so the checkout stays clean)."""
    work = tmp_path_factory.mktemp("sepia")
    shutil.copytree(EXAMPLE, work / "src", ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = work / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(work / "src")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (target / "imggan_sepia-0.1.0.dist-info" / "entry_points.txt").is_file()
    return target


@pytest.fixture
def imggan(site: Path, isolated_plugins, monkeypatch: pytest.MonkeyPatch):
    """``imggan(*args)``: the CLI in-process, with the plugins found from the installed example's metadata
    (its ``entry_points.txt``, read by importlib.metadata as for any pip-installed package)."""
    from importlib.metadata import distributions

    from click.testing import CliRunner

    import imggan.plugins
    from imggan.cli import cli

    monkeypatch.syspath_prepend(str(site))
    found = [ep for dist in distributions(path=[str(site)]) for ep in dist.entry_points if ep.group == "imggan"]
    assert [ep.value for ep in found] == ["imggan_sepia.plugin"]
    isolated_plugins.extend(found)
    imggan.plugins.reset()
    monkeypatch.setattr(cli, "_plugins_loaded", False)
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
    for name in [m for m in sys.modules if m.startswith("imggan_sepia")]:
        del sys.modules[name]


def test_listed_as_plugin_task_stage_and_model(imggan) -> None:
    plugins = imggan("plugins")
    assert plugins.exit_code == 0, plugins.stderr
    assert "imggan_sepia (imggan-sepia 0.1.0): register_models, register_stages, register_tasks" in plugins.stdout
    assert "sepia " in imggan("tasks").stdout
    assert "sepia-tone" in imggan("stages").stdout
    assert "sepia      classic (default): The usual sepia colour matrix" in imggan("models").stdout
    assert "--strength" in imggan("sepia", "--help").stdout


def test_runs_a_folder_in_batch_and_keeps_gray_and_alpha(imggan, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    rgb = np.random.default_rng(0).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    cv2.imwrite(str(folder / "colour.png"), rgb)
    cv2.imwrite(str(folder / "gray.png"), cv2.cvtColor(rgb, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(folder / "alpha.png"), np.dstack([rgb, np.full((12, 16), 77, np.uint8)]))
    (folder / "broken.png").write_bytes(b"not an image")
    done = imggan("sepia", folder, "-o", tmp_path / "out", "--batch-size", "2")
    assert done.exit_code == 1 and "broken.png" in done.stderr  # the rest processed
    colour = cv2.imread(str(tmp_path / "out" / "colour.png"))
    b, g, r = (rgb[..., i].astype(float) / 255 for i in range(3))
    expected_red = np.clip(0.393 * r + 0.769 * g + 0.189 * b, 0, 1) * 255
    assert np.abs(colour[..., 2].astype(float) - expected_red).max() <= 1.0
    assert cv2.imread(str(tmp_path / "out" / "gray.png"), cv2.IMREAD_UNCHANGED).ndim == 2  # gray in, gray out
    assert (cv2.imread(str(tmp_path / "out" / "alpha.png"), cv2.IMREAD_UNCHANGED)[..., 3] == 77).all()


def test_works_as_imggan_run_steps(imggan, tmp_path: Path) -> None:
    image = np.random.default_rng(1).integers(0, 256, (10, 14, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), image)
    task = imggan("run", tmp_path / "a.png", "--steps", "sepia:strength=1;resize:2", "-o", tmp_path / "t.png")
    stage = imggan("run", tmp_path / "a.png", "--steps", "sepia-tone:1;resize:2", "-o", tmp_path / "s.png")
    assert task.exit_code == 0 and stage.exit_code == 0, task.stderr + stage.stderr
    by_task, by_stage = cv2.imread(str(tmp_path / "t.png")), cv2.imread(str(tmp_path / "s.png"))
    assert by_task.shape == (20, 28, 3) and np.abs(by_task.astype(int) - by_stage).max() <= 2
    bad = imggan("run", tmp_path / "a.png", "--steps", "sepia:model=nosuch", "-o", tmp_path / "x.png")
    assert bad.exit_code == 2 and "model 'nosuch' is neither a registered sepia model" in bad.stderr


@pytest.mark.parametrize("module", ["imggan_sepia", "api", "models", "tasks", "zoo"])
def test_docstring_examples(imggan, module: str) -> None:
    import doctest
    import importlib

    name = module if module == "imggan_sepia" else f"imggan_sepia.{module}"
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
