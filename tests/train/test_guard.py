"""The NaN/inf guard: a poisoned batch rolls the state back, lowers the learning rate, and training goes on."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from imggan.train import checkpoint as ckpt
from imggan.train.guard import TrainingDiverged
from imggan.train.toy2d import make_recipe
from imggan.train.trainer import train


def poisoned_recipe(bad_batches: set[int] | None = None, always: bool = False):
    recipe = make_recipe()
    base = recipe.make_batches

    def make_batches(config, seed):
        batches = base(config, seed)
        if seed != config["seed"]:
            return batches
        draw, count = batches.draw, [0]

        def poisoned():
            count[0] += 1
            batch = draw()
            if always or count[0] in (bad_batches or set()):
                batch["target"][0, 0] = float("nan")
            return batch

        batches.draw = poisoned
        return batches

    recipe.make_batches = make_batches
    return recipe


def test_nan_rolls_back_and_training_continues(tmp_path: Path, quiet, log_of, events) -> None:
    cfg = {**quiet, "steps": 30, "batch_size": 16, "width": 16, "guard_every": 5, "log_every": 1}
    stats = train(poisoned_recipe({13}), cfg, tmp_path)
    assert stats["step"] == 30 and stats["rollbacks"] == 1
    rolled = [e for e in events(tmp_path) if "rolled back" in e["event"]]
    assert len(rolled) == 1 and rolled[0]["step"] == 10  # back to the snapshot taken at step 10
    log = log_of(tmp_path)
    lr = make_recipe().defaults["lr_g"]
    assert log[5]["lr_g"] == lr and log[30]["lr_g"] == pytest.approx(lr * 0.5)  # steps 11-12 were redone
    assert all(math.isfinite(v) for step in log.values() for v in step.values() if isinstance(v, float))
    tensors, meta = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path))
    assert all(torch.isfinite(t).all() for k, t in tensors.items() if k.startswith(("G/", "D/", "G_ema/")))
    assert meta["guard"] == {"lr_scale": 0.5, "rollbacks": 1}


def test_gives_up_instead_of_looping(tmp_path: Path, quiet) -> None:
    cfg = {**quiet, "steps": 20, "batch_size": 8, "width": 8, "guard_max_rollbacks": 3}
    with pytest.raises(TrainingDiverged, match="3 rollback"):
        train(poisoned_recipe(always=True), cfg, tmp_path)
