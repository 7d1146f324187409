"""Exact resume: 2N straight steps vs N steps, a SIGINT (save and stop), then --resume for N more."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from imggan.train import checkpoint as ckpt
from imggan.train.toy2d import make_recipe
from imggan.train.trainer import train

N = 12
CONFIG = {
    "batch_size": 32,
    "width": 32,
    "log_every": 1,
    "ckpt_every": 5,
    "keep_last": 2,
    "r1_gamma": 0.5,  # lazy R1 every 4 steps: its phase must survive the resume
    "r1_every": 4,
    "ema_beta": 0.9,
}


def interrupting_recipe(after: int):
    """toy2d whose training sampler sends this process SIGINT while drawing batch number ``after``."""
    recipe = make_recipe()
    base = recipe.make_batches

    def make_batches(config, seed):
        batches = base(config, seed)
        if seed != config["seed"]:  # the fixed sample batch: leave alone
            return batches
        draw, count = batches.draw, [0]

        def counted():
            count[0] += 1
            if count[0] == after:
                os.kill(os.getpid(), signal.SIGINT)
            return draw()

        batches.draw = counted
        return batches

    recipe.make_batches = make_batches
    return recipe


def test_kill_and_resume_gives_identical_losses(tmp_path: Path, quiet, log_of, events) -> None:
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    cfg = {**quiet, **CONFIG, "steps": 2 * N}
    first = train(make_recipe(), cfg, straight)
    assert first["step"] == 2 * N and not first["interrupted"]

    handler_before = signal.getsignal(signal.SIGINT)  # SIG_IGN when pytest runs in a background shell job
    stopped = train(interrupting_recipe(after=N), cfg, resumed)  # SIGINT during step N: finish it, save, stop
    assert stopped["interrupted"] and stopped["step"] == N
    assert ckpt.latest_checkpoint(resumed).name == f"step-{N:08d}.safetensors"
    assert len(ckpt.list_checkpoints(resumed)) == 2  # keep_last
    assert signal.getsignal(signal.SIGINT) is handler_before  # handlers restored

    second = train(make_recipe(), cfg, resumed, resume=True)
    assert second["step"] == 2 * N and not second["interrupted"]
    assert any(e["event"].startswith("resumed from") for e in events(resumed))

    a, b = log_of(straight), log_of(resumed)
    assert sorted(a) == sorted(b) == list(range(1, 2 * N + 1))
    for step in a:
        assert a[step].keys() == b[step].keys()
        for key in a[step]:
            if key != "imgs_per_s":
                assert a[step][key] == b[step][key], (step, key)
    assert "d/r1" in a[1] and "d/r1" in a[N + 1] and "d/r1" not in a[N + 2]  # steps 0, 4, 8, ... (0-based)

    ta, _ = ckpt.load_checkpoint(ckpt.latest_checkpoint(straight))
    tb, _ = ckpt.load_checkpoint(ckpt.latest_checkpoint(resumed))
    for key in ta:
        if key.startswith(("G/", "D/", "G_ema/", "opt_")):
            assert __import__("torch").equal(ta[key], tb[key]), key


def test_resume_without_checkpoint_starts_fresh_and_extends(tmp_path: Path, quiet, log_of) -> None:
    cfg = {**quiet, **CONFIG, "steps": 4}
    assert train(make_recipe(), cfg, tmp_path, resume=True)["step"] == 4
    stats = train(make_recipe(), {**cfg, "steps": 6, "lr_g": 0.5}, tmp_path, resume=True)
    assert stats["step"] == 6
    assert log_of(tmp_path)[6]["lr_g"] == make_recipe().defaults["lr_g"]  # the checkpoint's config is kept
