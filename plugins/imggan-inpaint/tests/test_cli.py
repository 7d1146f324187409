"""``imggan inpaint`` through the core's CLI and batch runner (in-process, only this plugin loaded)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner, Result

import imggan.plugins
from imggan.cli import cli


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """Run the ``imggan`` CLI with exactly this plugin installed."""
    ep = EntryPoint(name="imggan_inpaint", value="imggan_inpaint.plugin", group=imggan.plugins.ENTRY_POINT_GROUP)
    monkeypatch.setattr(imggan.plugins, "entry_points", lambda group=None, **_: [ep])
    monkeypatch.delenv(imggan.plugins.ALLOWLIST_ENV, raising=False)
    monkeypatch.setattr(cli, "commands", dict(cli.commands))
    monkeypatch.setattr(cli, "_plugins_loaded", False)
    imggan.plugins.reset()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
    imggan.plugins.reset()


def _write(path: Path, image: np.ndarray) -> np.ndarray:
    assert cv2.imwrite(str(path), image)
    return image


def _photo(seed: int, h: int = 72, w: int = 96) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(seed)
    chans = [127 + 60 * np.sin(x * rng.uniform(0.05, 0.2) + y * rng.uniform(0.05, 0.2)) for _ in range(3)]
    return np.stack(chans, -1).astype(np.uint8)


def _hole(h: int = 72, w: int = 96) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    mask[20:40, 30:60] = 255
    return mask


def test_sidecar_mask_and_exact_known_pixels(invoke, tmp_path: Path) -> None:
    image = _write(tmp_path / "cat.png", _photo(0))
    _write(tmp_path / "cat_mask.png", _hole())
    out = tmp_path / "out.png"
    result = invoke("inpaint", tmp_path / "cat.png", "-o", out)
    assert result.exit_code == 0, result.output
    filled = cv2.imread(str(out))
    keep = _hole() == 0
    assert np.array_equal(filled[keep], image[keep]) and not np.array_equal(filled[~keep], image[~keep])


def test_invert_mask_and_mask_of_another_size(invoke, tmp_path: Path) -> None:
    image = _write(tmp_path / "a.png", _photo(1))
    small = np.full((36, 48), 255, np.uint8)
    small[10:20, 15:30] = 0  # black = hole, at half size
    _write(tmp_path / "m.png", small)
    out = tmp_path / "o.png"
    assert invoke("inpaint", tmp_path / "a.png", "-m", tmp_path / "m.png", "--invert-mask", "-o", out).exit_code == 0
    filled = cv2.imread(str(out))
    keep = _hole() == 0
    assert np.array_equal(filled[keep], image[keep]) and not np.array_equal(filled[~keep], image[~keep])


def test_alpha_channel_as_mask(invoke, tmp_path: Path) -> None:
    rgba = np.dstack([_photo(2), np.where(_hole() > 0, 0, 255).astype(np.uint8)])
    _write(tmp_path / "t.png", rgba)
    out = tmp_path / "t_out.png"
    assert invoke("inpaint", tmp_path / "t.png", "-o", out).exit_code == 0
    filled = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    keep = _hole() == 0
    assert np.array_equal(filled[..., :3][keep], rgba[..., :3][keep])


def test_missing_mask_fails_that_file_only(invoke, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    _write(src / "good.png", _photo(3))
    _write(src / "good_mask.png", _hole())
    _write(src / "lonely.png", _photo(4))
    result = invoke("inpaint", src, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "lonely" in result.stderr and "mask" in result.stderr
    assert (tmp_path / "out" / "good.png").is_file() and not (tmp_path / "out" / "lonely.png").exists()


def test_a_denoiser_given_as_inpaint_model_is_one_line_and_exit_2(invoke, tmp_path: Path) -> None:
    """The core's model checks reach the head (the card's task and architecture are read, not ignored)."""
    from imggan.cards import export_model
    from imggan_inpaint.models import ARCH_NAME, InpaintGenerator

    net = InpaintGenerator(widths=(8, 16, 24), blocks=1)
    image = _write(tmp_path / "a.png", _photo(0))
    _write(tmp_path / "a_mask.png", np.pad(np.full((8, 8), 255, np.uint8), ((20, 44), (30, 58))))
    wrong_task = export_model(net, tmp_path / "run-d", "denoise", {"name": ARCH_NAME, **net.config}, {})
    result = invoke("inpaint", tmp_path / "a.png", "--model", wrong_task, "-o", tmp_path / "o", "-q")
    assert result.exit_code == 2 and f"{wrong_task}: a 'denoise' model, not a 'inpaint' model" in result.output
    wrong_arch = export_model(net, tmp_path / "run-a", "inpaint", {"name": "other-net", **net.config}, {})
    result = invoke("inpaint", tmp_path / "a.png", "--model", tmp_path / "run-a", "-o", tmp_path / "o", "-q")
    assert result.exit_code == 2 and f"{wrong_arch}: unknown architecture 'other-net'" in result.output
    result = invoke("inpaint", tmp_path / "a.png", "--model", tmp_path / "run-i", "-o", tmp_path / "o", "-q")
    assert result.exit_code == 2  # no such run
    good = export_model(net, tmp_path / "run-i", "inpaint", {"name": ARCH_NAME, **net.config}, {})
    result = invoke("inpaint", tmp_path / "a.png", "--model", tmp_path / "run-i", "-o", tmp_path / "o", "-q")
    assert result.exit_code == 0 and good.is_file()
    out = cv2.imread(str(tmp_path / "o" / "a.png"))
    assert out.shape == image.shape


def test_a_mask_covering_the_whole_image_fails_that_file_only(invoke, tmp_path: Path) -> None:
    """An all-white mask leaves nothing to fill from: that file is refused (named, exit 1), the rest done."""
    (tmp_path / "in").mkdir()
    _write(tmp_path / "in" / "whole.png", _photo(3))
    _write(tmp_path / "in" / "whole_mask.png", np.full((72, 96), 255, np.uint8))
    _write(tmp_path / "in" / "fine.png", _photo(4))
    _write(tmp_path / "in" / "fine_mask.png", _hole())
    result = invoke("inpaint", tmp_path / "in", "-o", tmp_path / "out", "-q")
    assert result.exit_code == 1
    assert "whole.png: the mask covers the whole image" in result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["fine.png"]


def test_a_nonexistent_mask_is_a_usage_error_before_the_model_loads(invoke, tmp_path: Path, monkeypatch) -> None:
    import imggan_inpaint.inference

    def no_loading(*_args, **_kwargs):
        raise AssertionError("model loaded before the usage error")

    monkeypatch.setattr(imggan_inpaint.inference, "load_model", no_loading)
    _write(tmp_path / "a.png", _photo(5))
    result = invoke("inpaint", tmp_path / "a.png", "-m", tmp_path / "nowhere" / "mask.png", "-o", tmp_path / "o")
    assert result.exit_code == 2
    assert f"-m/--mask {tmp_path / 'nowhere' / 'mask.png'}: no such file or folder" in result.output


def test_inpaint_as_an_imggan_run_step_finds_the_sidecar_mask(invoke, tmp_path: Path) -> None:
    image = _write(tmp_path / "cat.png", _photo(6))
    _write(tmp_path / "cat_mask.png", _hole())
    result = invoke("run", tmp_path / "cat.png", "--steps", "inpaint;gamma:1.0", "-o", tmp_path / "o.png", "-q")
    assert result.exit_code == 0, result.output
    direct = invoke("inpaint", tmp_path / "cat.png", "-o", tmp_path / "d.png", "-q")
    assert direct.exit_code == 0
    chained, alone = cv2.imread(str(tmp_path / "o.png")), cv2.imread(str(tmp_path / "d.png"))
    keep = _hole() == 0
    assert np.array_equal(chained, alone) and np.array_equal(chained[keep], image[keep])


def test_a_run_step_without_a_mask_says_how_to_give_one(invoke, tmp_path: Path) -> None:
    _write(tmp_path / "dog.png", _photo(7))
    result = invoke("run", tmp_path / "dog.png", "--steps", "inpaint", "-o", tmp_path / "o.png", "-q")
    assert (
        result.exit_code == 1
        and "no mask found" in result.output
        and "(as a step: inpaint:mask=FILE|DIR)" in result.output
    )
    _write(tmp_path / "m.png", _hole())
    given = invoke(
        "run", tmp_path / "dog.png", "--steps", f"inpaint:mask={tmp_path / 'm.png'}", "-o", tmp_path / "o.png"
    )
    assert given.exit_code == 0
