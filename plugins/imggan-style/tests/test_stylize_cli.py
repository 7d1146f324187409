"""``imggan stylize`` through the core CLI (click's CliRunner): outputs, sizes, usage errors."""

import cv2
import numpy as np
from click.testing import CliRunner


def _cli():
    from imggan.cli import cli
    from imggan.plugins import reset

    reset()
    return cli


QUICK = ["--size", "24", "--quality", "fast", "-q"]


def test_stylize_writes_an_image_of_the_input_size(files, tmp_path):
    out = tmp_path / "out.png"
    args = ["stylize", str(files["photo"]), "--style", str(files["style"]), "-o", str(out), *QUICK]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    image = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert image.shape == (30, 41, 3)
    assert not np.array_equal(image, cv2.imread(str(files["photo"])))


def test_missing_style_is_a_usage_error(files, tmp_path):
    result = CliRunner().invoke(
        _cli(), ["stylize", str(files["photo"]), "--style", str(tmp_path / "nope.png"), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "nope.png" in result.output


def test_unreadable_style_is_a_usage_error(files, tmp_path):
    result = CliRunner().invoke(
        _cli(), ["stylize", str(files["photo"]), "--style", str(files["broken"]), "-o", str(tmp_path / "o"), "-q"]
    )
    assert result.exit_code == 2, result.output
    assert "not a readable image" in result.output


def test_no_style_and_no_model_is_a_usage_error(files, tmp_path):
    result = CliRunner().invoke(_cli(), ["stylize", str(files["photo"]), "-o", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 2
    assert "--style" in result.output


def test_help_teaches_the_options():
    result = CliRunner().invoke(_cli(), ["stylize", "--help"])
    assert result.exit_code == 0
    for option in ("--style", "--strength", "--preserve-color", "--size", "--seed", "--quality", "--direction"):
        assert option in result.output
