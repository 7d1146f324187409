"""The one card writer: a run's export, then ``python -m imggan.cards`` ships it into a head's weights/ with a
complete card that the head's zoo and the loader read back."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from imggan.cards import export_model, main, run_stats
from imggan.modelcache import clear_cache, load_network
from imggan.weights import entries_from_cards, read_card


def test_ship_an_export_into_weights_with_a_complete_card(tmp_path, capsys):
    torch.manual_seed(0)
    net = torch.nn.Conv2d(3, 3, 3, padding=1)
    run = tmp_path / "run"
    exported = export_model(net, run, "fx", {"name": "fx-conv"}, {"steps": 30, "data": "/private/photos"})
    log = [{"step": s, "time": 100.0 + 2 * s} for s in (10, 20, 30)]
    log.insert(2, {"step": 20, "time": 141.0, "event": "stopping on SIGTERM"})  # then resumed 1000 s later
    log[-1]["time"] = 1141.0 + 20
    (run / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"machine": "2-core VM", "fx_psnr": 31.5, "unrelated": 1}))
    weights = tmp_path / "weights"
    main([str(exported), str(weights), "--name", "small", "--default", "--description", "A 3x3 conv.",
          "--command", "imggan train fx --steps 30", "--run", str(run), "--device", "cpu", "--bench", str(bench),
          "--bench-key", "fx_psnr", "--half"])  # fmt: skip
    target = weights / "fx-small.safetensors"
    assert capsys.readouterr().out.strip() == str(target)
    card = read_card(target)
    assert card["task"] == "fx" and card["arch"] == {"name": "fx-conv"} and card["storage_dtype"] == "float16"
    assert card["commands"] == ["imggan train fx --steps 30"] and card["benchmark"] == {
        "machine": "2-core VM",
        "fx_psnr": 31.5,
    }
    assert card["training"]["steps_total"] == 30 and card["training"]["seconds_total"] == run_stats(run)["seconds"]
    assert run_stats(run)["seconds"] == 20 + 1  # the 1020 s after the stop (until --resume) are not training
    assert "data" not in card["config"]
    (entry,) = entries_from_cards(weights)
    assert (entry.name, entry.task, entry.default, entry.description) == ("small", "fx", True, "A 3x3 conv.")
    clear_cache()
    loaded = load_network("fx", None, lambda arch: torch.nn.Conv2d(3, 3, 3, padding=1), {"fx-conv"}, entries=[entry])
    assert loaded.net.weight.dtype == torch.float32
    assert torch.allclose(loaded.net.weight, net.weight, atol=1e-3)  # float16 storage, float32 compute


def test_ship_with_a_heads_own_fields_up_to_a_checkpoint(tmp_path):
    """``--field KEY=VALUE`` (JSON or text; a repeated key is a list) and ``--until STEP`` (steps/seconds)."""
    run = tmp_path / "run"
    exported = export_model(torch.nn.Linear(2, 2), run, "fx", {"name": "fx-linear"}, {}, sources=["fx:data"])
    (run / "log.jsonl").write_text("".join(json.dumps({"step": s, "time": 3.0 * s}) + "\n" for s in (10, 20, 30)))
    main([str(exported), str(tmp_path / "w"), "--name", "n", "--file", "n", "--run", str(run), "--until", "20",
          "--field", "licences=BSD-3-Clause", "--field", "licences=CC0", "--field", 'sources=["fx: 9 images"]',
          "--field", "class_names=[]"])  # fmt: skip
    card = read_card(tmp_path / "w" / "n.safetensors")
    assert card["licences"] == ["BSD-3-Clause", "CC0"] and card["sources"] == ["fx: 9 images"]
    assert card["class_names"] == []
    assert card["training"]["steps_total"] == 20 and card["training"]["seconds_total"] == 30


def test_each_run_counts_up_to_its_own_step(tmp_path):
    """``--run A@STEP --run B``: A up to STEP, B (no ``@``) up to ``--until`` or its end."""
    runs = [tmp_path / "a", tmp_path / "b"]
    exported = export_model(torch.nn.Linear(2, 2), runs[0], "fx", {"name": "fx-linear"}, {})
    for run in runs:
        (run / "log.jsonl").parent.mkdir(parents=True, exist_ok=True)
        (run / "log.jsonl").write_text("".join(json.dumps({"step": s, "time": 2.0 * s}) + "\n" for s in (10, 20, 30)))
    base = [str(exported), str(tmp_path / "w"), "--name", "n", "--file", "n", "--run", f"{runs[0]}@10"]
    main([*base, "--run", str(runs[1])])
    stats = read_card(tmp_path / "w" / "n.safetensors")["training"]["runs"]
    assert [(r["steps"], r["seconds"]) for r in stats] == [(10, 0), (30, 40)]
    main([*base, "--run", str(runs[1]), "--until", "20"])
    stats = read_card(tmp_path / "w" / "n.safetensors")["training"]["runs"]
    assert [(r["steps"], r["seconds"]) for r in stats] == [(10, 0), (20, 20)]


def test_a_run_under_home_is_named_with_a_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert run_stats(tmp_path / "runs" / "r")["run"] == "~/runs/r"
    assert run_stats(Path("/elsewhere/r"))["run"] == "/elsewhere/r"
