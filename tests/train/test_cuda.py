"""The trainer on a CUDA device: bf16 autocast + channels_last steps learn, a CUDA checkpoint resumes on the
CPU, and torchrun's NCCL path runs. Marked ``gpu``: skipped where no CUDA device is present (CI)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from imggan.train.checkpoint import latest_checkpoint, load_checkpoint
from imggan.train.data import StatefulBatches
from imggan.train.recipe import TrainRecipe
from imggan.train.trainer import train

pytestmark = pytest.mark.gpu


class ConvG(nn.Module):
    """A small conv net that must learn to blur-denoise 16x16 ramps."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 1, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


def conv_recipe() -> TrainRecipe:
    def batches(config, seed):
        rng = np.random.default_rng(seed)
        n = config["batch_size"]

        def draw():
            ramp = np.linspace(0, 1, 16, dtype=np.float32)[None, None, None, :].repeat(n, 0).repeat(16, 2)
            clean = np.clip(ramp + rng.uniform(-0.2, 0.2, (n, 1, 1, 1)), 0, 1).astype(np.float32)
            noisy = clean + rng.normal(0, 0.1, clean.shape).astype(np.float32)
            return {"target": torch.from_numpy(clean), "input": torch.from_numpy(noisy)}

        return StatefulBatches(draw, [rng])

    def build_d(config):
        from imggan.nn.discriminator import PatchDiscriminator

        return PatchDiscriminator(in_channels=1, width=8, layers=1, spectral_norm=True)

    return TrainRecipe(
        name="cuda-conv",
        help="CUDA test recipe",
        build_generator=lambda config: ConvG(),
        build_discriminator=build_d,
        make_batches=batches,
        prepare_batch=lambda batch, device: {k: v.to(device) for k, v in batch.items()},
        generate=lambda G, batch: G(batch["input"]),
        losses={"l1": 1.0, "adv": 0.01},
        defaults={"batch_size": 16, "log_every": 1},
    )


def test_bf16_autocast_channels_last_steps_learn_on_cuda(tmp_path: Path, quiet, log_of) -> None:
    config = {**quiet, "device": "cuda", "amp": True, "channels_last": True, "steps": 60, "lr_g": 3e-3}
    stats = train(conv_recipe(), config, tmp_path)
    log = log_of(tmp_path)
    assert stats["rollbacks"] == 0
    first = np.mean([log[s]["g/l1"] for s in range(1, 6)])
    last = np.mean([log[s]["g/l1"] for s in range(56, 61)])
    assert last < 0.7 * first, (first, last)
    assert all(np.isfinite(log[s]["d/loss"]) for s in log if "d/loss" in log[s])


def test_a_cuda_checkpoint_resumes_on_the_cpu(tmp_path: Path, quiet, log_of) -> None:
    train(conv_recipe(), {**quiet, "device": "cuda", "amp": True, "steps": 10}, tmp_path)
    tensors, meta = load_checkpoint(latest_checkpoint(tmp_path))
    assert meta["step"] == 10 and all(t.device.type == "cpu" for t in tensors.values())
    stats = train(conv_recipe(), {**quiet, "device": "cpu", "steps": 14}, tmp_path, resume=True)
    assert stats["rollbacks"] == 0 and max(log_of(tmp_path)) == 14


@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun not installed")
def test_torchrun_nccl_one_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    command = [shutil.which("torchrun"), "--standalone", "--nproc_per_node", "1", "-m", "imggan", "train", "toy2d"]
    command += ["--out", str(tmp_path / "run"), "--steps", "20", "--device", "cuda", "--quiet"]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=100)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _, meta = load_checkpoint(latest_checkpoint(tmp_path / "run"))
    assert meta["step"] == 20
