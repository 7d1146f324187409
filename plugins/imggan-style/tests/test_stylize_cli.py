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


def test_a_model_of_another_kind_is_one_line_exit_2(files, tmp_path):
    """A checkpoint, another task's model, an unknown architecture: one line naming the file, nothing written."""
    import torch

    from imggan.weights import save_weights
    from imggan_style.models import StyleNet

    tensors = StyleNet((8, 8, 8), 1).state_dict()
    arch = {"name": "style-net", "widths": [8, 8, 8], "blocks": 1}
    cases = {
        "checkpoint": ({"G/w": torch.zeros(1), "G_ema/w": torch.zeros(1)}, {}, "a training checkpoint"),
        "other": (tensors, {"task": "denoise", "arch": arch}, "a 'denoise' model, not a 'stylize' model"),
        "unknown": (tensors, {"task": "stylize", "arch": {"name": "unet"}}, "unknown architecture 'unet'"),
        "unfit": (tensors, {"task": "stylize", "arch": {**arch, "widths": [8, 8, 16]}}, "do not fit"),
    }
    for name, (weights, card, message) in cases.items():
        path = tmp_path / f"{name}.safetensors"
        save_weights(path, weights, card)
        out = tmp_path / f"{name}.png"
        result = CliRunner().invoke(_cli(), ["stylize", str(files["photo"]), "--model", str(path), "-o", str(out)])
        assert result.exit_code == 2, (name, result.output)
        assert message in result.output and str(path) in result.output and "Traceback" not in result.output
        assert not out.exists()


def test_a_style_loads_once_and_refuses_b2a():
    import pytest

    from imggan.errors import ImgganError
    from imggan_style.inference import check_model, load_model

    first, again = load_model("swamp"), load_model("swamp")
    assert first.net is again.net  # the core's model cache
    assert check_model("swamp")["kind"] == "style"
    with pytest.raises(ImgganError, match="is a style, not a translation"):
        check_model("swamp", "b2a")


def test_a_translation_without_its_directions_says_export_again(files, tmp_path):
    from imggan.weights import save_weights
    from imggan_style.models import StyleNet

    tensors = {f"a2b/{k}": v for k, v in StyleNet((8, 8, 8), 1).state_dict().items()}
    path = tmp_path / "old.safetensors"
    arch = {"name": "style-net", "widths": [8, 8, 8], "blocks": 1}
    save_weights(path, tensors, {"task": "stylize", "kind": "translate", "arch": arch})
    result = CliRunner().invoke(_cli(), ["stylize", str(files["photo"]), "--model", str(path), "-o", str(tmp_path)])
    assert result.exit_code == 2 and "export the run again" in result.output, result.output
