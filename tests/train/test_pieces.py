"""Small pieces of the trainer: config layering, EMA ramp, batch stream (prefetch, resume), RNG capture,
signal handling, sample grids."""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

import numpy as np
import pytest
import torch

from imggan.train.config import TRAINER_DEFAULTS, merge_config, parse_loss_spec, parse_set
from imggan.train.data import BatchStream, StatefulBatches
from imggan.train.ema import ema_beta, make_ema, update_ema
from imggan.train.interrupt import StopRequest
from imggan.train.rng import capture_rng, restore_rng
from imggan.train.samples import make_grid, save_png


def test_config_layers_in_order(tmp_path: Path) -> None:
    config = merge_config(
        {"steps": 10, "lr_g": 1e-3},
        {"adv": 1.0},
        toml={"steps": 20, "losses": {"adv": 1, "l1": 5}},
        cli={"steps": 30, "batch_size": None},
        sets=["lr_g=0.5", "betas=[0.1, 0.2]", "gan_loss=hinge", "losses=adv=2"],
    )
    assert config["steps"] == 30 and config["lr_g"] == 0.5 and config["betas"] == [0.1, 0.2]
    assert config["batch_size"] == TRAINER_DEFAULTS["batch_size"] and config["gan_loss"] == "hinge"
    assert config["losses"] == {"adv": 2.0}
    assert parse_loss_spec("adv, l1=10 ,") == {"adv": 1.0, "l1": 10.0}
    assert parse_set("augment=['color']") == ("augment", ["color"]) and parse_set("x=word") == ("x", "word")
    with pytest.raises(ValueError):
        parse_set("novalue")


def test_ema_rampup_and_update() -> None:
    assert ema_beta(0, 0.999, 10) == pytest.approx(1 / 11) and ema_beta(10**6, 0.999, 10) == 0.999
    assert ema_beta(0, 0.9, 0) == 0.9
    net = torch.nn.BatchNorm1d(2)
    ema = make_ema(net)
    with torch.no_grad():
        net.weight.fill_(3.0)
        net.running_mean.fill_(5.0)
    update_ema(ema, net, beta=0.75)
    assert torch.allclose(ema.weight, torch.full((2,), 0.75 * 1 + 0.25 * 3))
    assert torch.equal(ema.running_mean, net.running_mean) and not ema.weight.requires_grad


def counting_batches(config, seed):
    rng = np.random.default_rng(seed)
    return StatefulBatches(lambda: {"x": torch.from_numpy(rng.normal(size=(config["batch_size"], 3)))}, [rng])


def plain_batches(config, seed):
    gen = torch.Generator().manual_seed(seed)
    while True:
        yield {"x": torch.randn(config["batch_size"], 3, generator=gen)}


@pytest.mark.parametrize("make", [counting_batches, plain_batches])
@pytest.mark.parametrize("prefetch", [0, 3])
def test_stream_resumes_exactly(make, prefetch: int) -> None:
    config = {"batch_size": 2}
    stream = BatchStream(make, config, seed=7, prefetch=prefetch)
    for _ in range(5):
        next(stream)
    state = stream.state_dict()
    expected = [next(stream)["x"] for _ in range(3)]
    stream.close()
    again = BatchStream(make, config, seed=7, prefetch=prefetch)
    again.load_state_dict(state)
    assert all(torch.equal(a, next(again)["x"]) for a in expected)
    assert again.state_dict()["consumed"] == 8
    again.close()


def test_stream_hands_errors_to_the_consumer() -> None:
    def broken(config, seed):
        yield {"x": torch.zeros(1)}
        raise RuntimeError("decode failed")

    stream = BatchStream(broken, {}, 0, prefetch=2)
    next(stream)
    with pytest.raises(RuntimeError, match="decode failed"):
        next(stream)
    stream.close()


def test_rng_capture_restores_every_generator() -> None:
    tensors, meta = capture_rng()
    a = (torch.rand(2), random.random(), np.random.rand())
    restore_rng(tensors, meta)
    b = (torch.rand(2), random.random(), np.random.rand())
    assert torch.equal(a[0], b[0]) and a[1:] == b[1:]


def test_stop_request_turns_signals_into_a_flag() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with StopRequest() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested and stop.signal_name == "SIGINT"
        with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C is not swallowed
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) is before


def test_grid_png(tmp_path: Path) -> None:
    import cv2

    images = torch.zeros(3, 3, 4, 4)
    images[1, 0] = 1.0  # red
    grid = make_grid(images, columns=3, pad=1)
    assert grid.shape == (3, 6, 16)
    save_png(grid, tmp_path / "g.png")
    png = cv2.imread(str(tmp_path / "g.png"))
    assert tuple(png[2, 7]) == (0, 0, 255)  # BGR red inside the second tile


def test_every_trainer_config_key_is_documented() -> None:
    readme = (Path(__file__).parents[2] / "imggan" / "train" / "README-trainer-api.md").read_text()
    missing = [key for key in TRAINER_DEFAULTS if f" {key} " not in readme.replace("`", " ").replace("\n", " ")]
    assert not missing, f"config keys missing from imggan/train/README-trainer-api.md: {missing}"
