"""``imggan run --steps`` chains model tasks with stages: options and model per step, each model loaded once
per run, the run's tile and device, per-file errors, and no stage/task name ambiguity."""

from __future__ import annotations

import json

import cv2
import numpy as np

TASK_PLUGIN = """
    import json
    import os

    import click
    import numpy as np

    import imggan
    from imggan.errors import ImgganError, ModelNotFoundError
    from imggan.task import SideInput, Task

    LOG = os.environ["FX_LOG"]


    def note(**record):
        with open(LOG, "a") as handle:
            handle.write(json.dumps(record) + "\\n")


    def check(ctx):
        if ctx.model not in (None, "bright", "dark"):
            raise ModelNotFoundError(f"model {ctx.model!r} is neither a registered fx-add model nor a file")


    def load(ctx):
        note(event="load", model=ctx.model, device=str(ctx.device), tile=ctx.tile)
        return {"bright": 40, "dark": -40}.get(ctx.model, 10)


    def process(offset, items, ctx):
        out = []
        for item in items:
            if ctx.options["fail_odd"] and item.source is not None and item.source.stem.endswith("1"):
                raise ImgganError("odd file refused (fixture)")
            mask = item.sides.get("mask")
            add = offset * ctx.options["times"] * (1 if mask is None else (mask > 0)[..., None])
            out.append(np.clip(item.image.astype(int) + add, 0, 255).astype(item.image.dtype))
        return out


    @imggan.hookimpl
    def register_tasks(register):
        register(Task(
            "fx-add", "Add a model's offset (fixture).", load=load, process=process, check_model=check,
            options=(
                click.Option(["--times"], type=click.IntRange(1, 5), default=1),
                click.Option(["--fail-odd"], is_flag=True),
            ),
            side_inputs=(SideInput("mask", "Where to add.", sidecar_suffixes=("_where",)),),
        ))
"""


def _install(install_plugins, monkeypatch, tmp_path):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("FX_LOG", str(log))
    install_plugins(fx_add=TASK_PLUGIN)
    return log


def _loads(log):
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


def test_task_steps_take_options_and_models_and_load_once(install_plugins, invoke, monkeypatch, tmp_path):
    log = _install(install_plugins, monkeypatch, tmp_path)
    (tmp_path / "in").mkdir()
    for i in range(3):
        cv2.imwrite(str(tmp_path / "in" / f"p{i}.png"), np.full((6, 8, 3), 100, np.uint8))
    spec = "fx-add:model=bright,times=2;gamma:1.0;fx-add:model=dark;fx-add:2,model=bright"
    result = invoke("run", tmp_path / "in", "--steps", spec, "--tile", "64", "--device", "cpu", "-o", tmp_path / "o")
    assert result.exit_code == 0, result.stderr
    for i in range(3):  # 100 + 80 - 40 + 80
        assert (cv2.imread(str(tmp_path / "o" / f"p{i}.png")) == 220).all()
    loads = _loads(log)
    assert sorted(r["model"] for r in loads) == ["bright", "dark"]  # once per (model, options), not per file or step
    assert all(r["device"] == "cpu" and r["tile"] == 64 for r in loads)


def test_gray_stays_gray_and_side_inputs_come_from_the_step(install_plugins, invoke, monkeypatch, tmp_path):
    _install(install_plugins, monkeypatch, tmp_path)
    cv2.imwrite(str(tmp_path / "g.png"), np.full((6, 8), 100, np.uint8))
    mask = np.zeros((6, 8), np.uint8)
    mask[:, :4] = 255
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    result = invoke("run", tmp_path / "g.png", "--steps", f"fx-add:mask={tmp_path / 'm.png'}", "-o", tmp_path / "o.png")
    assert result.exit_code == 0, result.stderr
    out = cv2.imread(str(tmp_path / "o.png"), cv2.IMREAD_UNCHANGED)
    assert out.ndim == 2 and (out[:, :4] == 110).all() and (out[:, 4:] == 100).all()


def test_bad_steps_are_usage_errors_before_anything_runs(install_plugins, invoke, monkeypatch, make_image, tmp_path):
    log = _install(install_plugins, monkeypatch, tmp_path)
    make_image(tmp_path / "in" / "a.png")
    make_image(tmp_path / "o" / "a.png")  # every output exists: checks still run
    cases = {
        "fx-add:model=nosuch": "model 'nosuch' is neither a registered fx-add model",
        "fx-add:times=9": "step 'fx-add': Invalid value for '--times'",
        "fx-add:speed=2": "step 'fx-add': unknown parameter 'speed'; it takes fail_odd, mask, model, times",
        "nosuchstep": "unknown step 'nosuchstep'; available: clahe,",
    }
    for spec, message in cases.items():
        result = invoke("run", tmp_path / "in", "--steps", spec, "-o", tmp_path / "o")
        assert result.exit_code == 2 and message in result.stderr, (spec, result.stderr)
    ambiguous = invoke("run", tmp_path / "in", "--steps", "fx-add", "--model", "bright", "-o", tmp_path / "o")
    assert ambiguous.exit_code == 2 and "give each step its own" in ambiguous.stderr
    assert _loads(log) == []


def test_a_failing_task_step_fails_that_file_only(install_plugins, invoke, monkeypatch, tmp_path):
    _install(install_plugins, monkeypatch, tmp_path)
    (tmp_path / "in").mkdir()
    for i in range(3):
        cv2.imwrite(str(tmp_path / "in" / f"p{i}.png"), np.full((6, 8, 3), 100, np.uint8))
    result = invoke("run", tmp_path / "in", "--steps", "fx-add:fail-odd=1", "--batch-size", "3", "-o", tmp_path / "o")
    assert result.exit_code == 1
    assert "p1.png: odd file refused (fixture)" in result.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["p0.png", "p2.png"]


def test_stage_and_task_names_never_clash_in_the_builtins(invoke):
    from imggan.plugins import get_registry

    registry = get_registry()
    assert "nlmeans" in registry.stages and not set(registry.stages) & set(registry.tasks)


def test_a_task_that_takes_no_images_is_no_step(install_plugins, invoke, make_image, tmp_path):
    install_plugins(
        fx_gen="""
        import numpy as np
        import imggan
        from imggan.task import Task


        @imggan.hookimpl
        def register_tasks(register):
            register(Task("fx-gen", "Make images from nothing.", load=lambda ctx: None,
                          process=lambda m, items, ctx: [], takes_images=False))
        """
    )
    make_image(tmp_path / "a.png")
    result = invoke("run", tmp_path / "a.png", "--steps", "fx-gen", "-o", tmp_path / "o")
    assert result.exit_code == 2 and "unknown step 'fx-gen'" in result.stderr
    assert "fx-gen" not in invoke("stages").stdout
    listed = next(row for row in json.loads(invoke("tasks", "--json").stdout) if row["name"] == "fx-gen")
    assert listed["inputs"] == []  # it takes no image
