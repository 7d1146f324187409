"""Training recipes: batches, on-device degradations, and two real trainer steps with a tiny network."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from imggan.weights import read_card
from imggan_enhance.recipes import denoise_recipe, upscale_recipe


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for i in range(3):
        image = cv2.GaussianBlur(rng.integers(0, 255, (120, 140, 3), dtype=np.uint8), (5, 5), 2)
        cv2.imwrite(str(tmp_path / f"img{i}.png"), image)
    return tmp_path


def test_denoise_batches_are_noisy_versions_of_the_targets(data_dir):
    recipe = denoise_recipe()
    config = {"data": str(data_dir), "batch_size": 6, "crop": 32, "hint_fraction": 0.5}
    batch = recipe.prepare_batch(next(iter(recipe.make_batches(config, 0))), torch.device("cpu"))
    assert batch["input"].shape == batch["target"].shape == (6, 3, 32, 32)
    assert batch["sigma"].shape == (6,) and float(batch["sigma"].max()) <= 50
    assert torch.equal(batch["input"], torch.round(batch["input"] * 255) / 255)


def test_upscale_batches_pair_hr_with_bicubic_lr(data_dir):
    recipe = upscale_recipe()
    config = {"data": str(data_dir), "batch_size": 2, "crop": 50, "scale": 4}
    batch = recipe.prepare_batch(next(iter(recipe.make_batches(config, 0))), torch.device("cpu"))
    assert batch["target"].shape == (2, 3, 48, 48) and batch["input"].shape == (2, 3, 12, 12)


@pytest.mark.parametrize("recipe_fn,extra", [(denoise_recipe, {}), (upscale_recipe, {"scale": 2})])
def test_core_trainer_runs_the_recipe(recipe_fn, extra, data_dir, tmp_path):
    from imggan.train.trainer import train

    recipe = recipe_fn()
    config = {
        "data": str(data_dir), "steps": 2, "batch_size": 2, "crop": 32, "arch.width": 8, "arch.blocks": 1,
        "progress": False, "tensorboard": False, "threads": 1, "sample_every": 0, **extra,
    }  # fmt: skip
    if recipe.name == "denoise":
        config["arch.blocks"] = [1, 1]
    stats = train(recipe, config, tmp_path / "run")
    assert stats["step"] == 2
    exported = Path(stats["export"])
    assert exported == tmp_path / "run" / "export" / f"{recipe.name}.safetensors"
    assert exported.is_file() and read_card(exported)["task"] == recipe.name


def test_jpeg_degradation_makes_blind_jpeg_pairs(data_dir):
    recipe = denoise_recipe()
    config = {"data": str(data_dir), "batch_size": 4, "crop": 32, "degradation": "jpeg", "jpeg_quality": [10, 10]}
    batch = recipe.prepare_batch(next(iter(recipe.make_batches(config, 0))), torch.device("cpu"))
    assert batch["input"].shape == batch["target"].shape == (4, 3, 32, 32)
    assert (batch["sigma"] < 0).all()  # blind
    target = np.rint(batch["target"][0].permute(1, 2, 0).numpy()[..., ::-1] * 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", target, [cv2.IMWRITE_JPEG_QUALITY, 10])
    expected = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255
    assert np.array_equal(batch["input"][0].permute(1, 2, 0).numpy(), expected)
    with pytest.raises(ValueError, match="degradation 'blur'"):
        recipe.prepare_batch(next(iter(recipe.make_batches({**config, "degradation": "blur"}, 0))), "cpu")


def test_robust_upscale_inputs_are_degraded_beyond_bicubic(data_dir):
    from imggan_enhance.degrade import downscale, quantize

    recipe = upscale_recipe()
    config = {"data": str(data_dir), "batch_size": 16, "crop": 48, "scale": 4, "robust": True}
    torch.manual_seed(0)
    batch = recipe.prepare_batch(next(iter(recipe.make_batches(config, 0))), torch.device("cpu"))
    assert batch["input"].shape == (16, 3, 12, 12)
    assert torch.equal(batch["input"], torch.round(batch["input"] * 255) / 255)  # 8-bit like a saved file
    plain = quantize(downscale(batch["target"], 4))
    changed = (batch["input"] - plain).abs().flatten(1).amax(1) > 1.5 / 255
    assert 0 < int(changed.sum()) <= 16  # noise / JPEG on some crops (and maybe blur on all)


def test_robust_benchmark_protocol_is_deterministic():
    from imggan_enhance.degrade import robust_lowres_image

    image = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (64, 48, 3), dtype=np.uint8), (5, 5), 2)
    a = robust_lowres_image(image, 4, np.random.default_rng(1))
    b = robust_lowres_image(image, 4, np.random.default_rng(1))
    assert a.shape == (16, 12, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
