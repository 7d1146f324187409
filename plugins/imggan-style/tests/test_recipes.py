"""Training: feed-forward style steps and CUT steps lower their losses; the trainer runs both recipes and
the exported models serve ``imggan stylize --model RUN`` at the input's size."""

from pathlib import Path

import cv2
import torch
from click.testing import CliRunner

from imggan.train.losses import LossContext
from imggan.weights import read_card
from imggan_style.losses import content_term, style_term
from imggan_style.models import StyleNet
from imggan_style.translate import CUTModel


def _fixed_batch(photo, painting) -> dict[str, torch.Tensor]:
    content = torch.from_numpy(photo.transpose(2, 0, 1)).unsqueeze(0).repeat(2, 1, 1, 1)
    style = torch.from_numpy(painting[:32, :32].transpose(2, 0, 1)).unsqueeze(0).repeat(2, 1, 1, 1)
    return {"content": content[..., :32, :32].contiguous(), "style": style.contiguous()}


def _style_objective(net, batch, seed):
    torch.manual_seed(seed)  # the SWD's patches and directions come from torch's global generator here
    fake = net(batch["content"])
    ctx = LossContext(batch=batch, fake=fake, real=batch["style"], config={"swd_patches": 256})
    return style_term(ctx) + 0.3 * content_term(ctx)


def test_feed_forward_steps_lower_the_style_loss(photo, painting):
    torch.manual_seed(0)
    net = StyleNet((8, 12, 16), 1)
    batch = _fixed_batch(photo, painting)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    with torch.no_grad():
        before = _style_objective(net, batch, 123)
    for step in range(30):
        opt.zero_grad()
        _style_objective(net, batch, step).backward()
        opt.step()
    with torch.no_grad():
        after = _style_objective(net, batch, 123)
    assert after < 0.8 * before


def test_cut_steps_lower_patch_nce(photo, painting):
    torch.manual_seed(0)
    model = CUTModel((8, 12, 16), 1, nce_dim=32, patches=64)
    a = torch.from_numpy(photo[:32, :32].transpose(2, 0, 1)).unsqueeze(0).repeat(2, 1, 1, 1)
    b = torch.from_numpy(painting[:32, :32].transpose(2, 0, 1)).unsqueeze(0).repeat(2, 1, 1, 1)

    def nce(seed):
        torch.manual_seed(seed)
        batch = {"a": a, "b": b}
        model.step(batch)
        return batch["nce"]

    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    before = float(nce(7).detach())
    for step in range(30):
        opt.zero_grad()
        nce(step).backward()
        opt.step()
    assert float(nce(7).detach()) < 0.9 * before


def _cli():
    from imggan.cli import cli
    from imggan.plugins import reset

    reset()
    return cli


TINY = ["--steps", "2", "--batch-size", "2", "--set", "crop=24", "--set", "widths=[8, 8, 8]", "--set", "blocks=1",
        "--set", "sample_every=0", "--set", "progress=false", "--quiet"]  # fmt: skip


def test_train_style_then_stylize_with_the_run(files, tmp_path: Path):
    run = tmp_path / "run"
    args = ["train", "style", "--style", str(files["style"]), "--data", str(files["photos"]), "--out", str(run), *TINY]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    assert (run / "export" / "stylize.safetensors").is_file() and (run / "export" / "stylize.json").is_file()
    out = tmp_path / "styled"
    result = CliRunner().invoke(_cli(), ["stylize", str(files["photos"]), "--model", str(run), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["p0.png", "p1.png", "p2.png"]
    assert cv2.imread(str(out / "p1.png")).shape == (30, 41, 3)


def test_train_cyclegan_translates_both_ways_and_cut_refuses_b2a(files, tmp_path: Path):
    cli = _cli()
    for mode in ("cyclegan", "cut"):
        run = tmp_path / mode
        args = ["train", "translate", "--domain-a", str(files["photos"]), "--domain-b", str(files["photos"]),
                "--mode", mode, "--out", str(run), *TINY]  # fmt: skip
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
    out = tmp_path / "b2a.png"
    args = ["stylize", str(files["photo"]), "--model", str(tmp_path / "cyclegan"), "--direction", "b2a", "-o", str(out)]
    result = CliRunner().invoke(cli, [*args, "-q"])
    assert result.exit_code == 0, result.output
    assert cv2.imread(str(out)).shape == (30, 41, 3)
    card = read_card(tmp_path / "cyclegan" / "export" / "stylize.safetensors")
    assert card["kind"] == "translate" and card["arch"]["name"] == "style-translate"
    assert card["arch"]["directions"] == ["a2b", "b2a"] and card["mode"] == "cyclegan"
    assert read_card(tmp_path / "cut" / "export" / "stylize.safetensors")["arch"]["directions"] == ["a2b"]
    args = ["stylize", str(files["photo"]), "--model", str(tmp_path / "cut"), "--direction", "b2a", "-o", str(out)]
    result = CliRunner().invoke(cli, [*args, "--overwrite", "-q"])
    assert result.exit_code == 2
    assert "one-sided" in result.output


def test_train_export_ship_with_the_core_writer_and_load(files, tmp_path: Path):
    """A tiny run's export, shipped with ``python -m imggan.cards`` (no script of the head's own), is a
    registered-style entry (not the default) that gives what ``--model RUN`` gives."""
    import json

    import numpy as np

    from imggan.cards import main as ship
    from imggan.modelcache import clear_cache
    from imggan_style import stylize
    from imggan_style.zoo import shipped_models

    run = tmp_path / "run"
    args = ["train", "style", "--style", str(files["style"]), "--data", str(files["photos"]), "--out", str(run),
            "--name", "tiny", *TINY]  # fmt: skip
    assert CliRunner().invoke(_cli(), args).exit_code == 0
    exported = run / "export" / "stylize.safetensors"
    bench = json.dumps({"cpu_seconds_per_512": 0.1, "rows": []})
    weights = tmp_path / "weights"
    ship([str(exported), str(weights), "--name", "tiny", "--file", "tiny", "--description", "a tiny style",
          "--command", "imggan train style ...", "--run", str(run), "--until", "2", "--device", "test CPU",
          "--field", "reference=the test's reference (CC0)", "--field", "data_sources=three test photos",
          "--field", f"benchmark={bench}"])  # fmt: skip
    (entry,) = shipped_models(weights)
    assert (entry.name, entry.task, entry.default, entry.path.name) == ("tiny", "stylize", False, "tiny.safetensors")
    card = entry.card
    assert card["kind"] == "style" and card["arch"]["name"] == "style-net" and card["training"]["steps_total"] == 2
    assert card["reference"].startswith("the test's") and card["benchmark"]["cpu_seconds_per_512"] == 0.1
    clear_cache()
    photo = cv2.imread(str(files["photo"]))
    from_run, shipped = stylize(photo, model=str(run), device="cpu"), stylize(photo, model=str(entry.path))
    assert from_run.shape == photo.shape and np.array_equal(from_run, shipped)
