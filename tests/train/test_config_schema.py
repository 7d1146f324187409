"""The typed config: unknown keys and wrong types are usage errors that say what to do; --list-config."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from imggan.train.api import configure, list_config
from imggan.train.config import TRAINER_FIELDS
from imggan.train.recipe import TrainRecipe, prepare_on_device
from imggan.train.schema import ConfigError, ConfigField
from imggan.train.toy2d import make_recipe


def test_unknown_set_key_exits_2_and_suggests_the_right_one(invoke) -> None:
    result = invoke("train", "toy2d", "--dry-run", "--device", "cpu", "--set", "ema_bta=0.5")
    assert result.exit_code == 2
    assert "unknown config key 'ema_bta'" in result.output and "'ema_beta'" in result.output
    recipe_key = invoke("train", "toy2d", "--dry-run", "--set", "widht=8")
    assert recipe_key.exit_code == 2 and "'width'" in recipe_key.output  # a recipe's own key is suggested too


def test_wrong_typed_value_exits_2_naming_key_and_type(invoke, tmp_path: Path) -> None:
    result = invoke("train", "toy2d", "--dry-run", "--set", "steps=abc")
    assert result.exit_code == 2 and "steps expects int, got 'abc'" in result.output
    betas = invoke("train", "toy2d", "--dry-run", "--set", "betas=0.5")
    assert betas.exit_code == 2 and "betas expects list of float" in betas.output
    toml = tmp_path / "cfg.toml"
    toml.write_text("ema_beta = 0.9\nlog_evry = 5\n")
    from_file = invoke("train", "toy2d", "--dry-run", "--config", toml)
    assert from_file.exit_code == 2 and "--config" in from_file.output and "'log_every'" in from_file.output


def test_values_are_coerced_to_their_declared_types() -> None:
    config = configure(make_recipe(), {"lr_g": 1, "steps": 20.0}, sets=["amp=false", "check_every=auto"])
    assert config["lr_g"] == 1.0 and isinstance(config["lr_g"], float)
    assert config["steps"] == 20 and isinstance(config["steps"], int)
    assert config["amp"] is False and config["check_every"] == "auto"
    with pytest.raises(ConfigError, match="lr_schedule expects one of 'constant', 'cosine', 'linear'"):
        configure(make_recipe(), sets=["lr_schedule=cosin"])
    with pytest.raises(ConfigError, match="unknown config key 'nope'"):
        configure(make_recipe(), {"nope": 1})  # the Python API checks as strictly as the CLI


def test_list_config_shows_every_key_with_type_default_and_help(invoke) -> None:
    result = invoke("train", "toy2d", "--list-config")
    assert result.exit_code == 0
    listed = result.output.split("[fine-tuning")[0].splitlines()
    lines = {line.split()[0]: line for line in listed if line.startswith("  ")}
    for field in TRAINER_FIELDS:
        assert field.name in lines, field.name
        assert field.help.split()[0] in lines[field.name], field.name
    for key in make_recipe().defaults:
        assert key in lines, key
    assert "int" in lines["steps"] and "3000" in lines["steps"]  # toy2d's default, typed by the trainer
    assert "[fine-tuning" in result.output and "lr_warmup" in list_config(make_recipe())


def test_recipe_fields_from_defaults_explicit_declarations_and_namespaces() -> None:
    recipe = TrainRecipe(
        name="demo",
        help="demo",
        build_generator=lambda cfg: torch.nn.Linear(2, 2),
        build_discriminator=None,
        make_batches=lambda cfg, seed: iter(()),
        generate=lambda G, b: b,
        defaults={"crop": 64, "arch": {"width": 32, "blocks": [1, 2]}},
        config_fields=[ConfigField("crop", "crop side"), ConfigField("mode", "a mode", str, "a")],
    )
    config = configure(recipe, {"arch.width": 48}, sets=["mode=b"])
    assert config["arch.width"] == 48 and config["mode"] == "b" and config["crop"] == 64
    with pytest.raises(ConfigError, match="arch.blocks expects list of int"):
        configure(recipe, {"arch.blocks": 3})
    with pytest.raises(ConfigError, match="'arch.width'"):
        configure(recipe, {"arch.widht": 3})
    assert "crop side" in list_config(recipe) and "a mode" in list_config(recipe)


def test_prepare_batch_receives_the_run_config_and_old_signatures_still_work() -> None:
    seen = {}

    def new_style(batch, device, config):
        seen["config"] = config
        return batch

    recipe = make_recipe()
    old = prepare_on_device(recipe, {"target": torch.zeros(2, 2)}, torch.device("cpu"), {"x": 1})
    assert old["target"].shape == (2, 2)  # the two-argument default
    recipe.prepare_batch = new_style
    prepare_on_device(recipe, {"target": torch.zeros(1)}, torch.device("cpu"), {"fill_iterations": 16})
    assert seen["config"] == {"fill_iterations": 16}


def test_inpaint_batches_use_the_configured_fill_iterations(monkeypatch: pytest.MonkeyPatch) -> None:
    recipe_module = pytest.importorskip("imggan_inpaint.recipes")
    calls = []
    real_fill = recipe_module.pyramid_fill

    def recording(*args, iterations, **kwargs):
        calls.append(iterations)
        return real_fill(*args, iterations=iterations, **kwargs)

    monkeypatch.setattr(recipe_module, "pyramid_fill", recording)
    recipe = recipe_module.build_recipe()
    config = configure(recipe, sets=["fill_iterations=16"])
    batch = {"target": torch.rand(1, 3, 32, 32), "hole": torch.zeros(1, 1, 32, 32)}
    batch["hole"][..., 8:16, 8:16] = 1
    prepare_on_device(recipe, batch, torch.device("cpu"), config)
    assert calls == [16]


def test_enhance_recipes_declare_every_key_they_read_and_no_dead_ema_key() -> None:
    recipes = pytest.importorskip("imggan_enhance.recipes")
    for recipe in (recipes.denoise_recipe(), recipes.upscale_recipe()):
        assert "ema" not in recipe.defaults
        config = configure(recipe, {"data": "x", "arch.width": 8, "d.width": 16})
        assert config["arch.width"] == 8 and config["d.width"] == 16
