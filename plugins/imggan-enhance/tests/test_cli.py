"""``imggan denoise`` / ``imggan upscale`` through the core CLI (click's CliRunner), incl. failing inputs."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

TEST_IMAGE = Path(__file__).resolve().parents[1] / "imggan_enhance" / "data" / "astronaut-128.png"


@pytest.fixture()
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    image = cv2.imread(str(TEST_IMAGE), cv2.IMREAD_COLOR)[:40, :52]
    cv2.imwrite(str(folder / "a.png"), image)
    cv2.imwrite(str(folder / "gray.png"), cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(folder / "alpha.png"), np.dstack([image, np.full(image.shape[:2], 200, np.uint8)]))
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return folder


def _cli():
    from imggan.cli import cli
    from imggan.plugins import reset

    reset()
    return cli


def test_upscale_folder_keeps_going_past_a_broken_file(inputs, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(_cli(), ["upscale", str(inputs), "-s", "2", "-o", str(out), "-q"])
    assert result.exit_code == 1, result.output
    assert "broken.png" in result.output
    a = cv2.imread(str(out / "a.png"), cv2.IMREAD_UNCHANGED)
    gray = cv2.imread(str(out / "gray.png"), cv2.IMREAD_UNCHANGED)
    alpha = cv2.imread(str(out / "alpha.png"), cv2.IMREAD_UNCHANGED)
    assert a.shape == (80, 104, 3) and gray.shape == (80, 104) and alpha.shape == (80, 104, 4)
    assert (alpha[..., 3] == 200).all()


def test_denoise_with_sigma_hint(inputs, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(_cli(), ["denoise", str(inputs / "a.png"), "--sigma", "15", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    (written,) = list(out.glob("*.png")) if out.is_dir() else [out]
    assert cv2.imread(str(written)).shape == (40, 52, 3)


def test_wrong_scale_for_the_model_is_a_usage_error(inputs, tmp_path):
    from imggan_enhance.zoo import shipped_models

    x4 = next(e for e in shipped_models() if e.task == "upscale" and e.name == "x4")
    result = CliRunner().invoke(
        _cli(), ["upscale", str(inputs / "a.png"), "-s", "2", "--model", str(x4.path), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code != 0
    assert "x4" in result.output


def test_ensemble_option_matches_the_python_api(inputs, tmp_path):
    from imggan_enhance.api import denoise

    out = tmp_path / "out.png"
    args = ["denoise", str(inputs / "a.png"), "--ensemble", "2", "-o", str(out), "-q"]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    expected = denoise(cv2.imread(str(inputs / "a.png")), ensemble=2)
    assert (cv2.imread(str(out)) == expected).all()
    bad = CliRunner().invoke(_cli(), ["denoise", str(inputs / "a.png"), "--ensemble", "3", "-o", str(out)])
    assert bad.exit_code == 2 and "--ensemble" in bad.output


def test_another_tasks_model_is_one_line_and_exit_2(inputs, tmp_path):
    """The core's model checks reach the head: an upscaler given to denoise is named, exit 2, no traceback."""
    from imggan_enhance.zoo import shipped_models

    x2 = next(e for e in shipped_models() if e.task == "upscale" and e.name == "x2")
    args = ["denoise", str(inputs / "a.png"), "--model", str(x2.path), "-o", str(tmp_path / "o"), "-q"]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 2
    assert f"Error: {x2.path}: a 'upscale' model, not a 'denoise' model" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()


def test_denoise_and_upscale_chain_in_imggan_run_like_the_api(inputs, tmp_path):
    """`imggan run --steps 'denoise;upscale:2'` uses the shipped models, as the task commands do."""
    from imggan_enhance.api import denoise, upscale

    out = tmp_path / "chain.png"
    args = ["run", str(inputs / "a.png"), "--steps", "denoise:sigma=10;upscale:2", "-o", str(out), "-q"]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    expected = upscale(denoise(cv2.imread(str(inputs / "a.png")), sigma=10), scale=2)
    assert np.array_equal(cv2.imread(str(out)), expected)
    sharp = CliRunner().invoke(_cli(), ["run", str(inputs / "a.png"), "--steps", "upscale:scale=2,model=sharp"])
    assert sharp.exit_code == 2 and "--model sharp is an x4 model only" in sharp.output
