"""Trainer options on a tiny conv recipe: reconstruction-only, feature matching, augmentation + ADA,
spectral norm, accumulation, channels_last, WGAN-GP, init, dry run, samples and export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from imggan.nn.spectral import is_spectral_normed
from imggan.train.config import merge_config
from imggan.train.data import StatefulBatches
from imggan.train.recipe import TrainRecipe
from imggan.train.trainer import Trainer, dry_run, train
from imggan.weights import load_weights


class TinyG(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 64))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(z)).reshape(-1, 1, 8, 8)


def tiny_recipe(**fields) -> TrainRecipe:
    def batches(config, seed):
        rng = np.random.default_rng(seed)
        n = config["batch_size"]

        def draw():
            ramp = np.linspace(0, 1, 8, dtype=np.float32)[None, None, None, :].repeat(n, 0).repeat(8, 2)
            shift = rng.uniform(-0.2, 0.2, (n, 1, 1, 1)).astype(np.float32)
            z = rng.normal(size=(n, 4)).astype(np.float32)
            return {"target": torch.from_numpy(np.clip(ramp + shift, 0, 1)), "z": torch.from_numpy(z)}

        return StatefulBatches(draw, [rng])

    def build_d(config):
        from imggan.nn.discriminator import PatchDiscriminator

        return PatchDiscriminator(in_channels=1, width=8, layers=1, spectral_norm=False)

    base = dict(
        name="tiny",
        help="tiny",
        build_generator=lambda config: TinyG(),
        build_discriminator=build_d,
        make_batches=batches,
        generate=lambda G, batch: G(batch["z"]),
        losses={"adv": 1.0},
        defaults={"batch_size": 8, "log_every": 1},
    )
    base.update(fields)
    return TrainRecipe(**base)


def test_reconstruction_only_skips_the_discriminator(tmp_path: Path, quiet, log_of) -> None:
    recipe = tiny_recipe(losses={"l1": 1.0, "adv": 0.0})
    trainer = Trainer(recipe, merge_config(recipe.defaults, recipe.losses, cli=quiet), None)
    assert trainer.D is None and trainer.opt_d is None
    trainer.close()
    stats = train(recipe, {**quiet, "steps": 30, "lr_g": 1e-2}, tmp_path)
    log = log_of(tmp_path)
    assert not any(k.startswith("d/") for k in log[1]) and "g/l1" in log[1]
    assert log[30]["g/l1"] < log[1]["g/l1"]
    assert stats["rollbacks"] == 0


def test_feature_matching_augmentation_ada_sn_accum_channels_last(tmp_path: Path, quiet, log_of) -> None:
    recipe = tiny_recipe(losses={"adv": 1.0, "fm": 1.0, "l1": 0.5, "ssim": 0.1})
    config = {
        **quiet,
        "steps": 12,
        "accum": 2,
        "spectral_norm": True,
        "channels_last": True,
        "augment": ["color", "translation", "cutout"],
        "ada_target": -0.99,  # below any E[sign(D(real))] a D starts with: p must rise
        "ada_interval": 2,
        "ada_kimg": 0.05,
        "grad_clip": 1.0,
        "r1_gamma": 1.0,
        "r1_every": 3,
        "d_steps": 2,
    }
    stats = train(recipe, config, tmp_path)
    log = log_of(tmp_path)
    for key in ("g/adv", "g/fm", "g/l1", "g/ssim", "g/total", "d/loss", "d/acc", "d/r1", "ada_p", "g/grad_norm"):
        assert any(key in rec for rec in log.values()), key
    assert log[12]["g/grad_norm"] >= 0 and stats["ada_p"] > 0
    trainer_cfg = json.loads((tmp_path / "config.json").read_text())
    assert trainer_cfg["augment"] == ["color", "translation", "cutout"]
    from imggan.train import checkpoint as ckpt

    tensors, meta = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path))
    assert any("parametrizations.weight.original" in k for k in tensors if k.startswith("D/"))
    assert meta["ada"]["p"] == pytest.approx(stats["ada_p"])


def test_spectral_norm_option_wraps_every_layer_of_d() -> None:
    recipe = tiny_recipe()
    trainer = Trainer(recipe, merge_config(recipe.defaults, recipe.losses, cli={"spectral_norm": True}), None)
    convs = [m for m in trainer.D.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(is_spectral_normed(m) for m in convs)
    trainer.close()


@pytest.mark.parametrize("gan_loss", ["minimax", "hinge", "lsgan", "wgan-gp"])
def test_every_gan_loss_trains(tmp_path: Path, quiet, log_of, gan_loss: str) -> None:
    stats = train(tiny_recipe(), {**quiet, "steps": 4, "gan_loss": gan_loss}, tmp_path)
    log = log_of(tmp_path)
    assert stats["step"] == 4 and ("d/gp" in log[4]) == (gan_loss == "wgan-gp")


def test_samples_export_and_init(tmp_path: Path, quiet) -> None:
    run = tmp_path / "run"
    cfg = {**quiet, "steps": 6, "sample_every": 3, "sample_count": 10, "export": True}
    stats = train(tiny_recipe(), cfg, run)
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-00000003.png", "step-00000006.png"]
    import cv2

    grid = cv2.imread(str(run / "samples" / "step-00000006.png"))
    assert grid.shape == (2 + 3 * 10, 2 + 4 * 10, 3)  # 10 images of 8x8 in 4 columns, 2-pixel gaps
    exported = Path(stats["export"])
    tensors, card = load_weights(exported)
    assert card["task"] == "tiny" and card["steps"] == 6
    # Fine-tuning: --init starts G (and its EMA) from the exported weights.
    recipe = tiny_recipe()
    trainer = Trainer(recipe, merge_config(recipe.defaults, recipe.losses, cli={"init": str(exported)}), None)
    for name, value in trainer.G.state_dict().items():
        assert torch.equal(value, tensors[name])
    trainer.close()


def test_dry_run_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    report = dry_run(tiny_recipe(), {"progress": False, "device": "cpu"})
    assert report["batch"]["target"] == [8, 1, 8, 8] and report["generator_params"] > 0
    assert report["losses"]["g/adv"] > 0 and report["seconds_per_step"] > 0
    assert list(tmp_path.iterdir()) == []


def test_unknown_term_or_augmentation_is_a_clear_error(tmp_path: Path, quiet) -> None:
    from imggan.errors import ImgganError

    with pytest.raises(ImgganError, match="unknown loss term"):
        train(tiny_recipe(), {**quiet, "losses": {"nope": 1.0}}, tmp_path)
    with pytest.raises(ImgganError, match="unknown augmentation"):
        train(tiny_recipe(), {**quiet, "augment": ["nope"]}, tmp_path)
    with pytest.raises(ImgganError, match="no discriminator"):
        train(tiny_recipe(build_discriminator=None), quiet, tmp_path)


def test_bf16_autocast_on_cpu_when_asked(tmp_path: Path, quiet) -> None:
    recipe = tiny_recipe(losses={"adv": 1.0, "l1": 1.0})
    trainer = Trainer(recipe, merge_config(recipe.defaults, recipe.losses, cli={**quiet, "amp": True}), None)
    assert trainer.amp_dtype == torch.bfloat16 and trainer.scaler_g is None
    trainer.train_step()
    assert all(torch.isfinite(p).all() and p.dtype == torch.float32 for p in trainer.G.parameters())
    trainer.close()
    auto = Trainer(recipe, merge_config(recipe.defaults, recipe.losses, cli=quiet), None)
    assert auto.amp_dtype is None and not auto.channels_last  # fp32, contiguous on the CPU
    auto.close()


@pytest.mark.slow
def test_torch_compile(tmp_path: Path, quiet, log_of) -> None:
    stats = train(tiny_recipe(), {**quiet, "steps": 3, "compile": True, "r1_gamma": 1.0, "r1_every": 2}, tmp_path)
    eager = train(tiny_recipe(), {**quiet, "steps": 3, "r1_gamma": 1.0, "r1_every": 2}, tmp_path / "eager")
    assert stats["losses"]["g/adv"] == pytest.approx(eager["losses"]["g/adv"], rel=1e-3)


def test_a_failing_torch_compile_falls_back_to_eager(tmp_path: Path, quiet, log_of, events, monkeypatch) -> None:
    """A compiler failure in the first step (as torch 2.11's inductor gave under channels_last on an H100)
    restores the state, even updates made before the failure, and trains on eagerly, saying so in the log."""
    calls = {"n": 0}

    class Broken(nn.Module):
        def __init__(self, module: nn.Module) -> None:
            super().__init__()
            self.module = module

        def forward(self, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 3:  # G and D ran, D took its optimizer step; now the G step's D call fails
                raise AssertionError("expected size 512==512, stride 16==1 at dim=1")
            return self.module(*args, **kwargs)

    monkeypatch.setattr(torch, "compile", lambda module, **kw: Broken(module))
    recipe = tiny_recipe(losses={"adv": 1.0, "l1": 1.0})
    trainer = Trainer(recipe, merge_config(recipe.defaults, recipe.losses, cli={**quiet, "compile": True}), None)
    for _ in range(3):
        trainer.train_step()
    assert calls["n"] == 3 and trainer.step == 3
    assert len(trainer.pending_events) == 1 and "torch.compile failed (AssertionError" in trainer.pending_events[0]
    assert {int(state["step"]) for state in trainer.opt_d.state.values()} == {3}  # the failed D update undone
    trainer.close()

    calls["n"] = 0
    stats = train(recipe, {**quiet, "steps": 20, "compile": True, "lr_g": 1e-2}, tmp_path)
    assert any("torch.compile failed" in e["event"] for e in events(tmp_path))
    log = log_of(tmp_path)
    assert sorted(log) == list(range(1, 21)) and stats["rollbacks"] == 0
    assert log[20]["g/l1"] < log[1]["g/l1"]
