"""Learning-rate schedules: the factor curve, the learning rates the trainer logs, and exact resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from imggan.train.schedule import lr_schedule_factor
from imggan.train.toy2d import make_recipe
from imggan.train.trainer import train

from .test_resume import CONFIG, interrupting_recipe


def test_constant_is_one_and_warmup_ramps_linearly() -> None:
    assert lr_schedule_factor({"steps": 10}, 7) == 1.0
    warm = {"steps": 10, "lr_warmup": 4}
    assert [lr_schedule_factor(warm, s) for s in range(5)] == [0.25, 0.5, 0.75, 1.0, 1.0]


@pytest.mark.parametrize("name", ["cosine", "linear"])
def test_decays_monotonically_from_the_start_step_to_the_floor(name: str) -> None:
    config = {"lr_schedule": name, "steps": 100, "lr_decay_start": 20, "lr_min_factor": 0.1}
    curve = [lr_schedule_factor(config, s) for s in range(101)]
    assert curve[:21] == [1.0] * 21
    assert all(a >= b for a, b in zip(curve, curve[1:], strict=False))
    assert curve[100] == pytest.approx(0.1)
    assert curve[60] == pytest.approx(0.55)  # half way down either way


def test_unknown_schedule_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="lr_schedule 'step'"):
        lr_schedule_factor({"lr_schedule": "step"}, 0)


def test_trainer_follows_the_schedule_and_a_sigint_resume_continues_it(tmp_path: Path, quiet, log_of) -> None:
    config = {**quiet, **CONFIG, "steps": 20, "lr_g": 1e-2, "lr_schedule": "linear", "lr_warmup": 2}
    train(make_recipe(), config, tmp_path / "whole")
    assert train(interrupting_recipe(after=7), config, tmp_path / "split")["step"] == 7
    train(make_recipe(), config, tmp_path / "split", resume=True)
    whole, split = log_of(tmp_path / "whole"), log_of(tmp_path / "split")
    # The rate logged after step s is the one its update used (0-based step s - 1).
    assert whole[1]["lr_g"] == pytest.approx(5e-3)  # warm-up: 1/2
    assert whole[2]["lr_g"] == pytest.approx(1e-2 * 18 / 18)
    assert whole[11]["lr_g"] == pytest.approx(1e-2 * 10 / 18)
    assert whole[20]["lr_g"] == pytest.approx(1e-2 * 1 / 18)
    assert sorted(split) == sorted(whole)
    for step in whole:
        assert split[step]["lr_g"] == whole[step]["lr_g"]
        assert split[step]["g/total"] == whole[step]["g/total"]
