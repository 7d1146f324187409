"""Pipeline stages: the --steps parser, the built-in OpenCV stages, and the `run` task that chains them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imggan.builtin import stages as builtin
from imggan.errors import ImgganError
from imggan.pipeline import process_image
from imggan.plugins import get_registry
from imggan.stages import parse_steps


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("clahe", [("clahe", {})]),
        ("resize:0.5", [("resize", {"value": 0.5})]),
        ("resize:width=800", [("resize", {"width": 800})]),
        ("denoise:h=7,template-size=5 ; clahe", [("denoise", {"h": 7, "template_size": 5}), ("clahe", {})]),
        ("gamma:1.2+sharpen:amount=0.3,sigma=2", [("gamma", {"value": 1.2}), ("sharpen", {"amount": 0.3, "sigma": 2})]),
        ("fx:mode=fast;", [("fx", {"mode": "fast"})]),
    ],
)
def test_parse_steps(spec, expected):
    """Steps split on ';' or '+', parameters on ',', numbers converted, dashes become underscores."""
    assert parse_steps(spec) == expected


@pytest.mark.parametrize("spec", ["", " ; ", ";;"])
def test_parse_steps_empty_is_an_error(spec):
    """An empty chain is a clear error."""
    with pytest.raises(ImgganError, match="--steps is empty"):
        parse_steps(spec)


def image(dtype=np.uint8, shape=(24, 32, 3), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype=np.int64).astype(dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("name", ["nlmeans", "clahe", "sharpen", "gaussian-blur", "gamma", "grayscale"])
def test_builtin_stage_keeps_shape_and_dtype(name, dtype):
    """Every built-in stage maps an HxWx3 image to one of the same shape and dtype (8 and 16 bit)."""
    stage = get_registry().stages[name]
    params = {"value": 1.5} if name == "gamma" else {}
    out = stage.apply(image(dtype), **params)
    assert out.shape == (24, 32, 3) and out.dtype == dtype


def test_resize_variants():
    """resize by a bare factor, by scale=, to width (aspect kept) or height; without a size it is an error."""
    source = image()
    assert builtin.resize(source, 0.5).shape == (12, 16, 3)
    assert builtin.resize(source, scale=2).shape == (48, 64, 3)
    assert builtin.resize(source, width=64).shape == (48, 64, 3)
    assert builtin.resize(source, height=12).shape == (12, 16, 3)
    with pytest.raises(ImgganError, match="resize needs"):
        builtin.resize(source)


def test_stage_effects():
    """Blur smooths, sharpen adds contrast, gamma > 1 brightens, grayscale gives equal channels."""
    source = image()
    blurred = builtin.gaussian_blur(source, sigma=2)
    assert blurred.std() < source.std()
    assert (blurred == cv2.GaussianBlur(source, (0, 0), 2.0)).all()
    smooth = cv2.GaussianBlur(source, (0, 0), 3.0)
    assert builtin.sharpen(smooth).std() > smooth.std()
    assert builtin.gamma(source, 2.0).mean() > source.mean()
    assert (builtin.gamma(source, 1.0) == source).all()
    gray = builtin.grayscale(source)
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()


def test_nlmeans_reduces_noise():
    """OpenCV non-local means brings a noisy flat image closer to the clean one."""
    clean = np.full((32, 32, 3), 128, np.uint8)
    noisy = np.clip(clean + np.random.default_rng(1).normal(0, 20, clean.shape), 0, 255).astype(np.uint8)
    out = builtin.nlmeans(noisy, h=15)
    assert np.abs(out.astype(int) - 128).mean() < np.abs(noisy.astype(int) - 128).mean() / 2


def test_run_task_chains_stages_in_order():
    """The `run` task applies the steps in the given order (resize then blur != blur then resize)."""
    source = image(shape=(32, 32, 3))
    out = process_image("run", source, steps="resize:0.5;gaussian-blur:sigma=1", device="cpu")
    expected = cv2.GaussianBlur(cv2.resize(source, (16, 16), interpolation=cv2.INTER_AREA), (0, 0), 1.0)
    assert (out == expected).all()


def test_run_task_unknown_step_lists_available():
    """An unknown step name is an error listing the registered stages."""
    with pytest.raises(ImgganError, match=r"unknown step 'sparkle'; available: .*clahe.*resize"):
        process_image("run", image(), steps="sparkle", device="cpu")


def test_run_task_bad_parameters_name_the_step():
    """A parameter a stage does not take is reported with the step's name."""
    with pytest.raises(ImgganError, match=r"step 'clahe': bad parameters \{'bogus': 1\}"):
        process_image("run", image(), steps="clahe:bogus=1", device="cpu")


def test_run_task_needs_steps():
    """The run task without steps says how to give them."""
    with pytest.raises(ImgganError, match="needs --steps"):
        process_image("run", image(), device="cpu")


def test_plugin_stage_usable_in_steps(install_plugins, invoke, make_image, tmp_path):
    """A stage registered by a plugin is listed by `imggan stages` and usable in `imggan run --steps`."""
    install_plugins(
        fx_flip="""
        import imggan
        from imggan.stages import Stage


        @imggan.hookimpl
        def register_stages(register):
            register(Stage("fx-flip", "Mirror left-right (fixture).", lambda image: image[:, ::-1]))
        """
    )
    assert "fx-flip" in invoke("stages").stdout
    source = make_image(tmp_path / "a.png", size=(6, 9))
    result = invoke("run", tmp_path / "a.png", "--steps", "fx-flip", "-o", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    assert (cv2.imread(str(tmp_path / "out" / "a.png")) == source[:, ::-1]).all()
