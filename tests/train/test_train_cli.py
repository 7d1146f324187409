"""``imggan train``: subcommands from the registered recipes, config layering, dry run, resume, export."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from imggan.train import checkpoint as ckpt
from imggan.weights import load_weights


def test_recipes_are_subcommands(invoke) -> None:
    result = invoke("train", "--help")
    assert result.exit_code == 0
    assert "toy2d" in result.output and "digits" in result.output
    help_text = invoke("train", "toy2d", "--help").output
    for option in ("--data", "--out", "--config", "--steps", "--loss", "--set", "--resume", "--init", "--dry-run"):
        assert option in help_text


def test_layers_dry_run(invoke, tmp_path: Path) -> None:
    toml = tmp_path / "cfg.toml"
    toml.write_text('gan_loss = "hinge"\nbatch_size = 4\nwidth = 8\n[losses]\nadv = 2.0\n')
    result = invoke(
        "train",
        "toy2d",
        "--dry-run",
        "--config",
        toml,
        "--batch-size",
        "6",
        "--set",
        "threads=1",
        "--device",
        "cpu",
        "--loss",
        "adv=3",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["batch"]["target"] == [6, 2]  # CLI beats TOML
    assert report["objective"] == {"adv": 3.0}
    assert report["generator_params"] == 8 * 8 + 8 + 2 * (8 * 8 + 8) + 8 * 2 + 2  # width 8 from the TOML


def test_train_resume_export(invoke, tmp_path: Path) -> None:
    run = tmp_path / "run"
    common = (
        "--out",
        run,
        "--quiet",
        "--device",
        "cpu",
        "--set",
        "width=8",
        "--set",
        "batch_size=8",
        "--set",
        "tensorboard=false",
        "--set",
        "sample_every=0",
    )
    first = invoke("train", "toy2d", "--steps", "5", *common)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["step"] == 5 and Path(summary["export"]).is_file()
    second = invoke("train", "toy2d", "--steps", "8", "--resume", *common)
    assert json.loads(second.stdout)["step"] == 8
    assert ckpt.latest_checkpoint(run).name == "step-00000008.safetensors"
    (run / "generator.safetensors").unlink()
    exported = invoke("train", "toy2d", "--out", run, "--export")
    assert exported.exit_code == 0 and Path(exported.stdout.strip()).is_file()
    newest = load_weights(Path(exported.stdout.strip()))[0]

    # An older checkpoint by step number (or file) exports that step's EMA generator.
    older = invoke("train", "toy2d", "--out", run, "--export", "--checkpoint", "5")
    assert older.exit_code == 0, older.output
    step5 = load_weights(Path(older.stdout.strip()))[0]
    saved5 = ckpt.strip_prefix(ckpt.load_checkpoint(ckpt.checkpoint_path(run, 5))[0], "G_ema/")
    assert all(torch.equal(step5[k], saved5[k]) for k in step5)
    assert any(not torch.equal(step5[k], newest[k]) for k in step5)
    missing = invoke("train", "toy2d", "--out", run, "--export", "--checkpoint", "6")
    assert missing.exit_code == 2 and "step-00000005" in missing.output
    assert invoke("train", "toy2d", "--out", run, "--checkpoint", "5").exit_code == 2  # only with --export


def test_usage_errors(invoke) -> None:
    assert invoke("train", "toy2d", "--steps", "3").exit_code == 2  # no --out
    bad = invoke("train", "toy2d", "--dry-run", "--loss", "nope=1", "--device", "cpu")
    assert bad.exit_code == 2 and "unknown loss term" in bad.output
    assert invoke("train", "toy2d", "--dry-run", "--loss", "adv=x").exit_code == 2


def test_resume_keeps_the_runs_own_intervals_unless_given(invoke, tmp_path: Path) -> None:
    """``--resume`` without ``--set ckpt_every=...`` keeps the checkpoint's interval, not the default's."""
    run = tmp_path / "run"
    common = ("--out", run, "--quiet", "--device", "cpu", "--set", "width=8", "--set", "batch_size=8")
    first = invoke("train", "toy2d", "--steps", "4", *common, "--set", "ckpt_every=2", "--set", "keep_last=10")
    assert first.exit_code == 0, first.output
    assert invoke("train", "toy2d", "--steps", "8", "--resume", *common).exit_code == 0
    steps = [int(p.stem.split("-")[1]) for p in ckpt.list_checkpoints(run)]
    assert steps == [2, 4, 6, 8]
    assert invoke("train", "toy2d", "--steps", "12", "--resume", *common, "--set", "ckpt_every=4").exit_code == 0
    assert [int(p.stem.split("-")[1]) for p in ckpt.list_checkpoints(run)] == [2, 4, 6, 8, 12]
