"""Checkpoint files: optimizer state flattened into tensors + JSON, safetensors only, pruning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from imggan.train import checkpoint as ckpt


def test_optimizer_roundtrip_is_exact() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.0, 0.99))
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(5, 3)).square().mean().backward()
        opt.step()
    tensors, meta = ckpt.flatten_optimizer(opt.state_dict(), "opt/")
    json.dumps(meta)  # JSON-able
    restored = ckpt.unflatten_optimizer(tensors, meta, "opt/")
    twin = torch.optim.Adam(model.parameters(), lr=1.0)
    twin.load_state_dict(restored)
    a, b = opt.state_dict(), twin.state_dict()
    assert a["param_groups"] == b["param_groups"]
    for index, state in a["state"].items():
        for key, value in state.items():
            assert torch.equal(value, b["state"][index][key])


def test_save_load_is_safetensors_with_json_beside(tmp_path: Path) -> None:
    path = ckpt.checkpoint_path(tmp_path, 12)
    ckpt.save_checkpoint(path, {"G/w": torch.arange(4.0)}, {"step": 12, "config": {"a": [1, 2]}})
    raw = path.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_len])  # a safetensors header, not a pickle
    assert "G/w" in header and "imggan" in header["__metadata__"]
    tensors, meta = ckpt.load_checkpoint(path)
    assert meta["step"] == 12 and meta["config"] == {"a": [1, 2]}
    assert torch.equal(tensors["G/w"], torch.arange(4.0))
    assert json.loads(path.with_suffix(".json").read_text())["step"] == 12
    assert not list(tmp_path.rglob("*.tmp"))


def test_refuses_other_safetensors(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(1)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match="not an imggan training checkpoint"):
        ckpt.load_checkpoint(tmp_path / "model.safetensors")


def test_keep_last(tmp_path: Path) -> None:
    for step in (5, 10, 15, 20):
        ckpt.save_checkpoint(ckpt.checkpoint_path(tmp_path, step), {"x": torch.zeros(1)}, {"step": step})
    ckpt.prune_checkpoints(tmp_path, 2)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == [
        "step-00000015.safetensors",
        "step-00000020.safetensors",
    ]
    assert ckpt.latest_checkpoint(tmp_path).name == "step-00000020.safetensors"
    assert len(list(ckpt.checkpoint_dir(tmp_path).glob("*.json"))) == 2
