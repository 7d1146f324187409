"""Robust data and runs: bad training images are skipped and named, missing data is one clear line (exit 2),
a corrupt newest checkpoint falls back to an older one, leftovers of killed writes go, TensorBoard warns."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from imggan.train import checkpoint as ckpt
from imggan.train.api import train
from imggan.train.cli import make_recipe_command
from imggan.train.data import StatefulBatches
from imggan.train.monitor import TENSORBOARD_MISSING, Monitor
from imggan.train.recipe import TrainRecipe
from imggan.train.toy2d import make_recipe


def crop_recipe() -> TrainRecipe:
    """Reconstruction of 16x16 photo crops by a 1x1 conv: the smallest recipe that reads a --data folder."""

    def batches(config, seed):
        from imggan.data.crops import CropSampler

        sampler = CropSampler(Path(config["data"]), crop=16, scales=(1.0,), seed=seed)
        return StatefulBatches(lambda: {"target": sampler.batch(int(config["batch_size"]))}, [sampler.rng])

    return TrainRecipe(
        name="crops",
        help="crops",
        build_generator=lambda cfg: torch.nn.Conv2d(3, 3, 1),
        build_discriminator=None,
        make_batches=batches,
        generate=lambda G, batch: G(batch["target"]),
        losses={"l1": 1.0},
        defaults={"batch_size": 2, "log_every": 1},
        required=("data",),
    )


def photo_folder(root: Path) -> Path:
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(root / f"good{i}.png"), rng.integers(0, 255, (40, 40, 3), dtype=np.uint8))
    ok, jpeg = cv2.imencode(".jpg", rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    (root / "cut.jpg").write_bytes(jpeg.tobytes()[: len(jpeg) // 2])  # a truncated download
    (root / "notes.png").write_text("not an image")
    return root


def test_a_truncated_training_image_is_skipped_and_named(tmp_path: Path, quiet, events, capsys) -> None:
    data = photo_folder(tmp_path / "data")
    stats = train(crop_recipe(), {**quiet, "data": str(data), "steps": 3}, tmp_path / "run")
    assert stats["step"] == 3
    messages = [e["event"] for e in events(tmp_path / "run")]
    assert any("cut.jpg" in m and "truncated" in m for m in messages), messages
    assert any("notes.png" in m for m in messages)
    assert any("skipped 2 of 4 training images" in m for m in messages)
    assert "cut.jpg" in capsys.readouterr().err  # on the console too


def test_missing_empty_or_unreadable_data_is_one_line_and_exit_2(tmp_path: Path) -> None:
    command = make_recipe_command(crop_recipe())
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    cases = {
        (): "--data DIR (a folder of training images) is required",
        ("--data", str(tmp_path / "nowhere")): "no such folder",
        ("--data", str(empty)): "no image files",
        ("--data", str(bad)): "no readable image",
    }
    for args, message in cases.items():
        result = CliRunner().invoke(command, ["--out", str(tmp_path / "run"), "--quiet", "--device", "cpu", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output, result.output


def test_oversized_image_is_skipped_without_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from imggan.data.crops import CropSampler

    data = photo_folder(tmp_path / "data")
    cv2.imwrite(str(data / "huge.png"), np.zeros((300, 300, 3), np.uint8))
    sampler = CropSampler(data, crop=16, scales=(1.0,), max_pixels=50_000)
    skipped = {p.name: reason for p, reason in sampler.skipped}
    assert "MP exceeds the limit" in skipped["huge.png"] and set(skipped) == {"huge.png", "cut.jpg", "notes.png"}


def test_resume_falls_back_past_a_corrupt_newest_checkpoint(tmp_path: Path, quiet, events, log_of) -> None:
    cfg = {**quiet, "steps": 6, "batch_size": 8, "width": 8, "ckpt_every": 3, "keep_last": 0, "log_every": 1}
    train(make_recipe(), cfg, tmp_path)
    newest = ckpt.checkpoint_path(tmp_path, 6)
    newest.write_bytes(newest.read_bytes()[:1000])  # a torn write (or a disk error)
    leftover = ckpt.checkpoint_dir(tmp_path) / ".step-00000009.safetensors.k1ll3d.tmp"
    leftover.write_bytes(b"partial")
    stats = train(make_recipe(), {**cfg, "steps": 8}, tmp_path, resume=True)
    assert stats["step"] == 8 and not leftover.exists()
    messages = [e["event"] for e in events(tmp_path)]
    assert any("step-00000006.safetensors is unreadable" in m for m in messages), messages
    assert "resumed from step-00000003.safetensors" in messages
    assert any("removed 1 temporary file" in m for m in messages)
    assert sorted(log_of(tmp_path)) == list(range(1, 9))  # steps 4-6 trained again, then 7-8


def test_tensorboard_asked_for_but_missing_warns_once(tmp_path: Path, capsys) -> None:
    try:
        import torch.utils.tensorboard  # noqa: F401

        pytest.skip("tensorboard is installed here")
    except ImportError:
        pass
    with Monitor(tmp_path / "a", total=1, progress=False, tensorboard=True):
        pass
    err = capsys.readouterr().err
    assert err.count("pip install tensorboard") == 1 and TENSORBOARD_MISSING in err
    with Monitor(tmp_path / "b", total=1, progress=False, tensorboard="auto"):
        pass
    assert capsys.readouterr().err == ""  # the default stays silent
