"""Fine-tuning: --init takes the architecture from the card and keeps a shipped model's quality; a run whose
loss explodes stops with a clear message, a non-zero exit and no export."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from imggan.train.api import configure, train
from imggan.train.cli import make_recipe_command
from imggan.train.guard import TrainingDiverged


def tiny_recipe(**fields):
    """The tiny conv recipe of test_trainer_features.py (loaded by path: tests are not a package)."""
    path = Path(__file__).with_name("test_trainer_features.py")
    spec = importlib.util.spec_from_file_location("trainer_features_for_finetune", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.tiny_recipe(**fields)


def _package_file(package: str, name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        pytest.skip(f"{package} is not installed")
    found = sorted(Path(spec.origin).parent.rglob(name))
    if not found:
        pytest.skip(f"{name} is not packaged with {package}")
    return found[0]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


def test_finetuning_the_shipped_denoiser_needs_no_arch_keys_and_keeps_its_quality(tmp_path: Path) -> None:
    weights = _package_file("imggan_enhance", "denoise.safetensors")
    photo = cv2.imread(str(_package_file("imggan_enhance", "astronaut-128.png")), cv2.IMREAD_COLOR)
    from imggan_enhance.api import denoise
    from imggan_enhance.recipes import denoise_recipe

    data = tmp_path / "data"  # smooth synthetic photos: the packaged image is never trained on
    data.mkdir()
    rng = np.random.default_rng(1)
    for i in range(2):
        noise = rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)
        cv2.imwrite(str(data / f"smooth{i}.png"), cv2.GaussianBlur(noise, (0, 0), 3))
    recipe = denoise_recipe()
    given = {"data": str(data), "init": str(weights), "steps": 3, "batch_size": 2, "crop": 48}
    config = configure(recipe, given)
    card_arch = __import__("json").loads(weights.with_suffix(".json").read_text())["arch"]
    assert config["arch"] == card_arch and config["lr_warmup"] == recipe.finetune["lr_warmup"]
    quiet = {"progress": False, "tensorboard": False, "sample_every": 0, "sample_count": 4, "device": "cpu"}
    stats = train(recipe, {**given, **quiet}, tmp_path / "run")
    assert stats["step"] == 3 and stats["rollbacks"] == 0

    noisy = np.clip(photo + np.random.default_rng(0).normal(0, 25, photo.shape), 0, 255).round().astype(np.uint8)
    before = _psnr(photo, denoise(noisy, model=str(weights)))
    after = _psnr(photo, denoise(noisy, model=str(stats["export"])))
    assert before > _psnr(photo, noisy) + 6  # the shipped model works here at all
    print(f"PSNR before {before:.3f} after {after:.3f} dB")
    assert abs(after - before) <= 0.2, (before, after)


def test_init_by_registered_name_resolves_through_the_model_registry(tmp_path: Path, monkeypatch, quiet) -> None:
    run = train(tiny_recipe(), {**quiet, "steps": 2, "export": True}, tmp_path / "first")
    from imggan.train import finetune
    from imggan.weights import ModelEntry

    class Registry:
        models = [ModelEntry(name="tiny-shipped", task="tiny", path=Path(run["export"]))]

    monkeypatch.setattr("imggan.plugins.get_registry", lambda: Registry())
    assert finetune.resolve_init("tiny", "tiny-shipped") == Path(run["export"])
    config = configure(tiny_recipe(), {"init": "tiny-shipped"})
    assert config["init"] == run["export"] and config["lr_schedule"] == "cosine"
    with pytest.raises(Exception, match="tiny-shipped"):
        configure(tiny_recipe(), {"init": "no-such-model"})


def exploding_recipe():
    """A tiny recipe whose G output is scaled by 10x more every step: finite, but the L1 loss explodes."""
    factor = [1.0]

    def generate(G, batch):
        factor[0] *= 10.0
        return G(batch["z"]) * factor[0]

    return tiny_recipe(generate=generate, losses={"l1": 1.0}, defaults={"batch_size": 4, "log_every": 2})


def test_an_exploding_loss_stops_the_run_and_exports_nothing(tmp_path: Path, quiet, events) -> None:
    with pytest.raises(TrainingDiverged, match="grew from"):
        train(exploding_recipe(), {**quiet, "steps": 40, "export": True}, tmp_path)
    assert not (tmp_path / "generator.safetensors").exists()
    assert any("diverged" in e["event"] for e in events(tmp_path))

    result = CliRunner().invoke(
        make_recipe_command(exploding_recipe()),
        ["--out", str(tmp_path / "cli"), "--steps", "40", "--device", "cpu", "--quiet", "--set", "sample_every=0"],
    )
    assert result.exit_code == 1 and "training diverged" in result.output
    assert not list((tmp_path / "cli").glob("*.safetensors"))


def test_nan_after_every_rollback_still_stops_with_exit_1(tmp_path: Path) -> None:
    def generate(G, batch):
        return G(batch["z"]) * float("nan")

    recipe = tiny_recipe(generate=generate, losses={"l1": 1.0})
    result = CliRunner().invoke(
        make_recipe_command(recipe),
        ["--out", str(tmp_path), "--steps", "20", "--quiet", "--set", "guard_max_rollbacks=2", "--set", "log_every=1"],
    )
    assert result.exit_code == 1 and "2 rollback" in result.output
    assert not (tmp_path / "generator.safetensors").exists()


def test_every_shipped_model_with_a_recipe_loads_from_its_card_alone() -> None:
    """--init NAME|PATH builds G from the card (arch table, arch keys, or the recipe's card_config)."""
    from imggan.train.finetune import load_init

    cases = [
        ("imggan_enhance", "denoise.safetensors", "imggan_enhance.recipes", "denoise_recipe"),
        ("imggan_enhance", "upscale-x2.safetensors", "imggan_enhance.recipes", "upscale_recipe"),
        ("imggan_inpaint", "inpaint-small.safetensors", "imggan_inpaint.recipes", "build_recipe"),
    ]
    for package, weights_name, module_name, factory in cases:
        weights = _package_file(package, weights_name)
        recipe = getattr(importlib.import_module(module_name), factory)()
        config = configure(recipe, {"init": str(weights), "data": "unused"})
        load_init(recipe.build_generator(config), config["init"])  # raises on any name or shape mismatch
