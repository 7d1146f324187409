"""``imggan generate`` and ``imggan audit`` from the command line."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from imggan.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_generate_images_and_seed(tiny_model: Path, tmp_path: Path):
    result = run("generate", "--model", str(tiny_model), "-n", "3", "--seed", "4", "-o", str(tmp_path / "a"))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["seed-000004.png", "seed-000005.png", "seed-000006.png"]
    again = run("generate", "--model", str(tiny_model), "-n", "1", "--seed", "5", "-o", str(tmp_path / "b.png"))
    assert again.exit_code == 0, again.output
    assert np.array_equal(cv2.imread(str(tmp_path / "a" / "seed-000005.png")), cv2.imread(str(tmp_path / "b.png")))


def test_generate_grid_walk_explore(tiny_faces: Path, tmp_path: Path):
    grid = run(
        "generate", "--model", str(tiny_faces), "--grid", "-n", "6", "--columns", "3", "-o", str(tmp_path / "g.png")
    )
    assert grid.exit_code == 0, grid.output
    assert cv2.imread(str(tmp_path / "g.png")).shape == (2 * 34 + 2, 3 * 34 + 2, 3)
    walk = run(
        "generate", "--model", str(tiny_faces), "--interpolate", "1,2", "--steps", "4", "-o", str(tmp_path / "w.png")
    )
    assert walk.exit_code == 0, walk.output
    assert (tmp_path / "w.gif").stat().st_size > 0
    frames = cv2.imreadanimation(str(tmp_path / "w.gif"))[1].frames
    assert len(frames) == 6  # 4 forward, 2 back
    explore = run(
        "generate",
        "--model",
        str(tiny_faces),
        "--explore",
        "--components",
        "3",
        "--steps",
        "5",
        "-o",
        str(tmp_path / "e.png"),
    )
    assert explore.exit_code == 0, explore.output
    meta = json.loads((tmp_path / "e.json").read_text())
    assert len(meta["stddevs"]) == 3 and meta["space"] == "features"
    again = run("generate", "--model", str(tiny_faces), "--grid", "-o", str(tmp_path / "g.png"))
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_generate_usage_errors(tiny_model: Path, tiny_faces: Path):
    assert run("generate", "--model", str(tiny_model), "--grid", "--explore").exit_code == 2
    bad = run("generate", "--model", str(tiny_model), "--interpolate", "1")
    assert bad.exit_code == 2 and "two seeds" in bad.output
    label = run("generate", "--model", str(tiny_faces), "--label", "1")
    assert label.exit_code == 2 and "unconditional" in label.output
    missing = run("generate", "--model", "no-such-model")
    assert missing.exit_code == 2


def test_listed_in_tasks_and_models():
    tasks = json.loads(run("tasks", "--json").output)
    (row,) = [t for t in tasks if t["name"] == "generate"]
    assert row["inputs"] == [] and row["default_model"] == "digits"  # it takes no image
    models = {m["name"] for m in json.loads(run("models", "--task", "generate", "--json").output)}
    assert models == {"digits", "emoji", "faces"}


def test_a_model_of_another_kind_is_one_line_exit_2(tiny_model: Path, tmp_path: Path):
    """A checkpoint-like file, another task's model, an unknown architecture: one line naming the file."""
    import torch

    from imggan.weights import read_card, save_weights

    card = read_card(tiny_model)
    other = tmp_path / "other.safetensors"
    save_weights(other, {"w": torch.zeros(2)}, {**card, "task": "denoise"})
    result = run("generate", "--model", str(other), "-n", "1", "-o", str(tmp_path / "x"))
    assert result.exit_code == 2 and "a 'denoise' model, not a 'generate' model" in result.output
    assert "Traceback" not in result.output
    unknown = tmp_path / "unknown.safetensors"
    save_weights(unknown, {"w": torch.zeros(2)}, {**card, "arch": {"name": "stylegan"}})
    result = run("generate", "--model", str(unknown), "-n", "1", "-o", str(tmp_path / "x"))
    assert result.exit_code == 2 and "unknown architecture 'stylegan'" in result.output
    assert not (tmp_path / "x").exists()


def test_a_run_folder_is_a_model(tiny_model: Path, tmp_path: Path):
    """``--model RUN`` picks the run's ``export/generate.safetensors`` (where the recipe writes it)."""
    assert tiny_model.parent.name == "export" and tiny_model.name == "generate.safetensors"
    result = run("generate", "--model", str(tiny_model.parent.parent), "-n", "1", "-o", str(tmp_path / "r.png"))
    assert result.exit_code == 0, result.output
    again = run("generate", "--model", str(tiny_model), "-n", "1", "-o", str(tmp_path / "f.png"))
    assert again.exit_code == 0, again.output
    assert np.array_equal(cv2.imread(str(tmp_path / "r.png")), cv2.imread(str(tmp_path / "f.png")))


def test_the_task_checks_its_model_and_is_no_run_step(tiny_model: Path):
    import pytest
    import torch

    from imggan.errors import ModelLoadError
    from imggan.task import RunContext
    from imggan.weights import save_weights
    from imggan_generate.tasks import generate_task

    task = generate_task()
    assert task.takes_images is False
    task.check_model(RunContext(model=str(tiny_model)))
    task.check_model(RunContext(model=None))  # the shipped default
    checkpoint = tiny_model.with_name("bad.safetensors")
    save_weights(checkpoint, {"G/w": torch.zeros(1), "G_ema/w": torch.zeros(1)}, {})
    with pytest.raises(ModelLoadError, match="a training checkpoint, not a model"):
        task.check_model(RunContext(model=str(checkpoint)))


def test_audit_command(tiny_faces: Path, tmp_path: Path):
    data = tmp_path / "faces"
    rng = np.random.default_rng(0)
    for i in range(20):
        data.mkdir(exist_ok=True)
        cv2.imwrite(str(data / f"{i}.png"), rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
    result = run(
        "audit",
        "--model",
        str(tiny_faces),
        "--data",
        str(data),
        "-n",
        "50",
        "-o",
        str(tmp_path / "au"),
        "--json",
        "--feature-steps",
        "20",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["samples"] == 50 and report["train_images"] == 20
    assert report["features"]["network"].startswith("autoencoder")
    assert (tmp_path / "au" / "closest-pairs.png").is_file()


def test_audit_command_reports_the_yardstick(tiny_faces: Path, tmp_path: Path):
    rng = np.random.default_rng(1)
    for name, count in (("train", 20), ("new", 10)):
        (tmp_path / name).mkdir()
        for i in range(count):
            cv2.imwrite(str(tmp_path / name / f"{i}.png"), rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
    args = ["audit", "--model", str(tiny_faces), "--data", str(tmp_path / "train"), "-n", "40", "-o"]
    args += [str(tmp_path / "au"), "--held-out", str(tmp_path / "new")]
    result = run(*args, "--feature-steps", "5", "--alpha", "0.01", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["held_out_data"] == str(tmp_path / "new")
    for space in ("pixels", "features"):
        verdict = report[space]["verdict"]
        assert verdict["expected_rate"] == pytest.approx(2 / 21) and verdict["alpha"] == 0.01
        assert report[space]["held_out"]["images"] == 10
    assert report["features"]["network"] == "autoencoder code (64), 5 steps"
    text = run(*args, "--no-features")
    assert "expected 2/(n+1) = 9.52%" in text.output and "leave-one-out" in text.output


def test_grid_into_a_folder_names_the_file_by_label(tiny_model: Path, tmp_path: Path):
    out = str(tmp_path / "out") + "/"
    by_name = run("generate", "--model", str(tiny_model), "--grid", "-n", "4", "--label", "c1", "-o", out)
    assert by_name.exit_code == 0, by_name.output
    by_index = run("generate", "--model", str(tiny_model), "--grid", "-n", "4", "--label", "1", "-o", out)
    assert by_index.exit_code == 0, by_index.output
    mixed = run("generate", "--model", str(tiny_model), "--grid", "-n", "6", "-o", out)
    assert mixed.exit_code == 0, mixed.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["grid-1.png", "grid-c1.png", "grid.png"]
    same = [cv2.imread(str(tmp_path / "out" / f"grid-{k}.png")) for k in ("1", "c1")]
    assert np.array_equal(*same)  # the class by name and by index: the same grid


def test_a_bad_held_out_folder_is_one_error_line_naming_the_option(tiny_faces: Path, tmp_path: Path):
    (tmp_path / "train").mkdir()
    (tmp_path / "empty").mkdir()
    for i in range(4):
        cv2.imwrite(str(tmp_path / "train" / f"{i}.png"), np.full((32, 32, 3), 60 * i, np.uint8))
    base = ["audit", "--model", str(tiny_faces), "--data", str(tmp_path / "train"), "-n", "4", "--no-features"]
    for held, why in (("empty", "no images"), ("missing", "not a folder")):
        result = run(*base, "-o", str(tmp_path / held / "au"), "--held-out", str(tmp_path / held))
        assert result.exit_code == 2, result.output
        error = [line for line in result.output.splitlines() if line.startswith("Error:")]
        assert len(error) == 1 and error[0].startswith(f"Error: --held-out {tmp_path / held}: {why}")
        assert not (tmp_path / held / "au").exists()
