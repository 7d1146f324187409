"""Models load or say why: checkpoints, other tasks' models, wrong shapes, bad cards and unknown architectures
are one line naming the file (exit 2, no traceback); ``--model RUN`` picks the run's export; loads are cached;
``--model`` is checked before any input is skipped; ``imggan models`` shows size and parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from imggan.cards import export_model
from imggan.errors import ModelLoadError, ModelNotFoundError
from imggan.modelcache import clear_cache, load_network
from imggan.weights import ModelEntry, parameter_count, save_weights

ARCH = {"name": "fx-conv", "k": 3}


def build(arch: dict) -> torch.nn.Module:
    if arch.get("k") not in (1, 3, 5):
        raise ValueError(f"k must be 1, 3 or 5, not {arch.get('k')}")
    return torch.nn.Conv2d(3, 3, arch["k"], padding=arch["k"] // 2)


def load(model: str | None, entries=()) -> object:
    return load_network("fx", model, build, archs={"fx-conv"}, entries=list(entries))


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    return export_model(build(ARCH), tmp_path / "run", "fx", ARCH, {"steps": 4, "data": "/secret"})


def test_export_lands_in_run_export_with_a_card(exported: Path, tmp_path: Path) -> None:
    card = json.loads(exported.with_suffix(".json").read_text())
    assert exported == tmp_path / "run" / "export" / "fx.safetensors"
    assert card["task"] == "fx" and card["arch"] == ARCH and card["parameters"] == 3 * 3 * 9 + 3
    assert "data" not in card["config"] and card["config"]["steps"] == 4  # no local paths in a card
    assert parameter_count(exported) == card["parameters"]


def test_run_folder_file_and_name_load_the_same_cached_network(exported: Path, tmp_path: Path) -> None:
    by_run = load(str(tmp_path / "run"))
    by_file = load(str(exported))
    by_name = load("fx-small", [ModelEntry("fx-small", "fx", exported, default=True)])
    by_default = load(None, [ModelEntry("fx-small", "fx", exported, default=True)])
    assert by_run is by_file is by_name is by_default  # loaded once
    assert by_run.card["arch"] == ARCH and by_run.path == exported
    assert not by_run.net.training and not by_run.net.weight.requires_grad


def _checkpoint(tmp_path: Path) -> Path:
    from imggan.train.checkpoint import save_checkpoint

    path = tmp_path / "run" / "checkpoints" / "step-00000004.safetensors"
    path.parent.mkdir(parents=True)
    tensors = {f"G/{k}": v for k, v in build(ARCH).state_dict().items()}
    tensors.update({f"D/{k}": v.clone() for k, v in build(ARCH).state_dict().items()})
    return save_checkpoint(path, tensors, {"step": 4})


def _variant(exported: Path, name: str, card_text: str | None, tensors: dict | None = None) -> Path:
    path = exported.parent / f"{name}.safetensors"
    save_weights(path, tensors if tensors is not None else build(ARCH).state_dict(), {})
    if card_text is None:
        path.with_suffix(".json").unlink()
    else:
        path.with_suffix(".json").write_text(card_text)
    return path


@pytest.mark.parametrize(
    "case, message",
    [
        ("checkpoint", "a training checkpoint, not a model; export one with `imggan train fx --out RUN --export`"),
        ("other-task", "a 'denoise' model, not a 'fx' model"),
        (
            "wrong-shape",
            "do not fit architecture 'fx-conv' of its card: 1 tensor(s) of another shape (e.g. weight: (3, 3, 5, 5)",
        ),
        ("malformed", "malformed model card (not valid JSON"),
        ("not-an-object", "malformed model card (a JSON object is expected, not list)"),
        ("no-arch", "malformed model card (no arch.name"),
        ("unknown-arch", "unknown architecture 'fx-deconv' for 'fx' (this head builds: fx-conv)"),
        ("bad-arch-args", "cannot build architecture 'fx-conv' from its card (k must be 1, 3 or 5, not 4)"),
        ("no-card", "no model card beside it"),
        ("not-safetensors", "not a safetensors file"),
        ("pickle-suffix", "only .safetensors weights are loaded"),
        ("missing", "no such file or run folder"),
        ("empty-run", "a folder with no exported fx model"),
    ],
)
def test_every_unusable_model_is_one_line_naming_the_file(exported: Path, tmp_path: Path, case: str, message: str):
    good = json.loads(exported.with_suffix(".json").read_text())
    if case == "checkpoint":
        path = _checkpoint(tmp_path)
    elif case == "other-task":
        path = _variant(exported, case, json.dumps({**good, "task": "denoise"}))
    elif case == "wrong-shape":
        path = _variant(exported, case, json.dumps(good), build({"name": "fx-conv", "k": 5}).state_dict())
    elif case == "malformed":
        path = _variant(exported, case, '{"task": "fx", ')
    elif case == "not-an-object":
        path = _variant(exported, case, "[1, 2]")
    elif case == "no-arch":
        path = _variant(exported, case, json.dumps({"task": "fx"}))
    elif case == "unknown-arch":
        path = _variant(exported, case, json.dumps({**good, "arch": {"name": "fx-deconv"}}))
    elif case == "bad-arch-args":
        path = _variant(exported, case, json.dumps({**good, "arch": {"name": "fx-conv", "k": 4}}))
    elif case == "no-card":
        path = _variant(exported, case, None)
    elif case == "not-safetensors":
        path = exported.parent / "junk.safetensors"
        path.write_bytes(b"\x80\x04not a safetensors file at all")
    elif case == "pickle-suffix":
        path = exported.parent / "model.pt"
        path.write_bytes(b"\x80\x04")
    elif case == "missing":
        path = tmp_path / "nowhere" / "model.safetensors"
    else:
        path = tmp_path / "empty-run"
        path.mkdir()
    with pytest.raises(ModelNotFoundError) as caught:
        load(str(path))
    text = str(caught.value)
    assert message in text and "\n" not in text
    shown = path.with_suffix(".json") if case in ("malformed", "not-an-object", "no-arch") else path
    assert str(shown) in text or shown.name in text
    if case not in ("missing", "empty-run"):
        assert isinstance(caught.value, ModelLoadError)


FX_PLUGIN = """
    import numpy as np
    import torch

    import imggan
    from imggan.modelcache import load_network, resolve_checked
    from imggan.task import Task
    from imggan.weights import ModelEntry

    LOADS = []


    def build(arch):
        return torch.nn.Conv2d(3, 3, arch["k"], padding=arch["k"] // 2)


    def load(ctx):
        LOADS.append(ctx.model)
        return load_network("fx", ctx.model, build, archs={"fx-conv"}, device=ctx.device)


    @imggan.hookimpl
    def register_tasks(register):
        register(Task("fx", "Copy through a 3x3 conv (fixture).", load=load,
                      process=lambda model, items, ctx: [i.image for i in items],
                      check_model=lambda ctx: resolve_checked("fx", ctx.model, {"fx-conv"})))
"""


def test_cli_bad_model_exits_2_with_one_line_even_when_every_output_exists(
    install_plugins, invoke, make_image, exported: Path, tmp_path: Path
) -> None:
    install_plugins(fx_task=FX_PLUGIN)
    make_image(tmp_path / "in" / "a.png")
    out = tmp_path / "out"
    ok = invoke("fx", tmp_path / "in", "-o", out, "--model", tmp_path / "run", "-q")
    assert ok.exit_code == 0 and (out / "a.png").is_file()
    wrong = _variant(exported, "wrong", json.dumps({"task": "denoise", "arch": ARCH}))
    result = invoke("fx", tmp_path / "in", "-o", out, "--model", wrong, "-q")  # a.png exists: nothing to do
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert f"Error: {wrong}: a 'denoise' model, not a 'fx' model" in result.stderr


def test_models_shows_size_and_parameters(install_plugins, invoke, exported: Path) -> None:
    install_plugins(
        fx_models=f"""
        from pathlib import Path
        import imggan
        from imggan.weights import ModelEntry


        @imggan.hookimpl
        def register_models(register):
            register(ModelEntry("fx-small", "fx", Path({str(exported)!r}), default=True, description="Small."))
        """
    )
    result = invoke("models")
    size = exported.stat().st_size / 1e6
    assert f"fx         fx-small (default): Small.  [{size:.1f} MB, 0.1k parameters]" in result.stdout
    (row,) = json.loads(invoke("models", "--json").stdout)
    assert row["parameters"] == 84 and row["bytes"] == exported.stat().st_size
