"""Weights: safetensors + JSON card round trip, never unpickling, named-model resolution, atomic writes."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

import imggan.weights
from imggan.errors import ModelNotFoundError
from imggan.weights import (
    ModelEntry,
    atomic_write_bytes,
    card_path,
    load_weights,
    read_card,
    resolve_model,
    save_weights,
)

CARD = {"task": "fx", "arch": {"name": "tiny", "channels": 4}, "steps": 10}


@pytest.fixture
def no_unpickling(monkeypatch):
    """Fail the test if anything calls pickle or torch.load while it runs."""

    def forbidden(*args, **kwargs):
        raise AssertionError("weights were unpickled")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)


def test_save_and_load_round_trip(tmp_path, files_under, no_unpickling):
    """Tensors (any dtype, non-contiguous too) and the card come back identical; no temporary file stays."""
    tensors = {
        "conv.weight": torch.randn(4, 3, 3, 3),
        "conv.bias": torch.zeros(4, dtype=torch.float16),
        "steps": torch.tensor([7], dtype=torch.int64),
        "transposed": torch.randn(3, 5).t(),
    }
    save_weights(tmp_path / "m" / "tiny.safetensors", tensors, CARD)
    assert files_under(tmp_path / "m") == ["tiny.json", "tiny.safetensors"]
    loaded, card = load_weights(tmp_path / "m" / "tiny.safetensors")
    assert card == CARD
    assert set(loaded) == set(tensors)
    for name, tensor in tensors.items():
        assert loaded[name].dtype == tensor.dtype
        assert torch.equal(loaded[name], tensor)


def test_card_helpers(tmp_path):
    """card_path swaps the suffix; read_card gives {} when the card is missing; ModelEntry reads its card."""
    assert card_path(tmp_path / "a.safetensors") == tmp_path / "a.json"
    assert read_card(tmp_path / "none.safetensors") == {}
    save_weights(tmp_path / "a.safetensors", {"w": torch.ones(1)}, CARD)
    assert ModelEntry("a", "fx", tmp_path / "a.safetensors").read_card() == CARD


def test_load_refuses_a_pickle_file(tmp_path, no_unpickling):
    """A torch.save .pt file is refused with ModelNotFoundError, without ever being unpickled."""
    path = tmp_path / "model.pt"
    with path.open("wb") as handle:
        pickle.dump({"w": [1, 2, 3]}, handle)
    with pytest.raises(ModelNotFoundError, match="never pickle"):
        load_weights(path)


def test_load_refuses_a_pickle_renamed_to_safetensors(tmp_path, no_unpickling):
    """A pickle file given a .safetensors name is not a readable safetensors file, and is not unpickled."""
    path = tmp_path / "sneaky.safetensors"
    path.write_bytes(pickle.dumps({"w": list(range(100))}))
    with pytest.raises(ModelNotFoundError, match="not a readable safetensors file"):
        load_weights(path)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "bad-header"])
def test_load_refuses_a_corrupt_safetensors(tmp_path, damage):
    """Random bytes, a cut-off file, an empty file or a broken JSON header all give ModelNotFoundError."""
    path = tmp_path / "broken.safetensors"
    save_weights(path, {"w": torch.randn(64, 64)}, CARD)
    good = path.read_bytes()
    data = {
        "garbage": bytes(range(256)) * 4,
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "bad-header": good[:8] + b"{not json" + good[17:],
    }[damage]
    path.write_bytes(data)
    with pytest.raises(ModelNotFoundError, match=r"broken\.safetensors"):
        load_weights(path)


def test_load_missing_file(tmp_path):
    """A missing weights file is ModelNotFoundError naming the path."""
    with pytest.raises(ModelNotFoundError, match="weights not found"):
        load_weights(tmp_path / "absent.safetensors")


def test_resolve_model(tmp_path):
    """resolve_model picks the task's default, a name, a path (or its .json card), and lists names when lost."""
    save_weights(tmp_path / "custom.safetensors", {"w": torch.ones(1)}, CARD)
    entries = [
        ModelEntry("small", "fx", tmp_path / "small.safetensors"),
        ModelEntry("large", "fx", tmp_path / "large.safetensors", default=True),
        ModelEntry("small", "other", tmp_path / "o.safetensors", default=True),
    ]
    assert resolve_model("fx", None, entries).name == "large"
    assert resolve_model("fx", "small", entries).path == tmp_path / "small.safetensors"
    by_path = resolve_model("fx", str(tmp_path / "custom.safetensors"), entries)
    assert by_path.name == "custom" and by_path.task == "fx"
    assert resolve_model("fx", str(tmp_path / "custom.json"), entries).path == tmp_path / "custom.safetensors"
    with pytest.raises(ModelNotFoundError, match=r"known: small, large"):
        resolve_model("fx", "medium", entries)
    with pytest.raises(ModelNotFoundError, match="no model is registered for task 'nothing'"):
        resolve_model("nothing", None, entries)
    assert resolve_model("fx", None, entries[:1]).name == "small"  # no default flagged: the first one


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch, files_under):
    """If writing fails midway the previous file is intact and no temporary file remains."""
    target = tmp_path / "card.json"
    atomic_write_bytes(target, b"old")

    def failing_fsync(fd):
        raise OSError("no space left on device")

    monkeypatch.setattr(imggan.weights.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="no space"):
        atomic_write_bytes(target, b"new content")
    assert target.read_bytes() == b"old"
    assert files_under(tmp_path) == ["card.json"]


def test_card_is_stable_json(tmp_path):
    """The card is written as sorted, indented JSON ending in a newline (diff-friendly)."""
    save_weights(tmp_path / "a.safetensors", {"w": torch.ones(1)}, {"b": 1, "a": 2})
    text = Path(tmp_path / "a.json").read_text()
    assert text == json.dumps({"a": 2, "b": 1}, indent=2, sort_keys=True) + "\n"
