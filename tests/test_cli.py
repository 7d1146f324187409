"""The `imggan` command line: built-in commands, generated task commands, exit codes, per-file errors."""

from __future__ import annotations

import json
import re
import struct
import zlib

import cv2
import numpy as np
import pytest

import imggan
from imggan.errors import ImgganError

BLUR = "gaussian-blur:sigma=1"


def huge_png_header() -> bytes:
    body = b"IHDR" + struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body))


def test_version(invoke):
    """`imggan --version` prints the package version."""
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"imggan, version {imggan.__version__}"


def test_help_lists_builtin_and_task_commands(invoke):
    """`imggan --help` lists the built-in commands and the generated `run` task command."""
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("plugins", "tasks", "models", "stages", "data", "run"):
        assert re.search(rf"^\s+{command}\s", result.stdout, flags=re.MULTILINE), command
    assert invoke("-h").stdout == result.stdout


def test_task_help_has_the_common_options(invoke):
    """`imggan run --help` shows the task's own option and every common option of the CLI contract."""
    result = invoke("run", "--help")
    assert result.exit_code == 0
    for option in (
        "--steps",
        "-o, --output",
        "--model",
        "--device",
        "--batch-size",
        "--tile",
        "--format",
        "--jpeg-quality",
        "--overwrite",
        "-r, --recursive",
        "--shard",
        "--max-pixels",
        "-q, --quiet",
    ):
        assert option in result.stdout, option


def test_tasks_lists_run(invoke):
    """`imggan tasks` (and --json) lists the reference task with its summary and inputs."""
    result = invoke("tasks")
    assert result.exit_code == 0
    assert re.search(r"^run\s+Run a chain of steps over images", result.stdout, flags=re.MULTILINE)
    rows = json.loads(invoke("tasks", "--json").stdout)
    run = next(row for row in rows if row["name"] == "run")
    assert run["inputs"] == ["image"] and run["default_model"] is None


def test_stages_lists_builtin_stages(invoke):
    """`imggan stages` lists every built-in stage with its help line."""
    result = invoke("stages")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert {"resize", "nlmeans", "clahe", "sharpen", "gaussian-blur", "gamma", "grayscale"} <= set(names)


def test_models_lists_plugin_models(install_plugins, invoke, tmp_path):
    """`imggan models` (and --json, --task) lists a plugin's named weights, flags the default and missing files."""
    weights = tmp_path / "fx.safetensors"
    install_plugins(
        fx_models=f"""
        from pathlib import Path
        import imggan
        from imggan.weights import ModelEntry


        @imggan.hookimpl
        def register_models(register):
            register(ModelEntry("fx-small", "fx-task", Path({str(weights)!r}), default=True, description="Small."))
            register(ModelEntry("fx-other", "other-task", Path("missing.safetensors"), description="Other."))
        """
    )
    weights.write_bytes(b"")
    (tmp_path / "fx.json").write_text(json.dumps({"task": "fx-task", "steps": 3}))
    result = invoke("models")
    assert result.exit_code == 0
    assert "fx-task    fx-small (default): Small." in result.stdout
    assert "fx-other: Other.  [weights missing]" in result.stdout
    rows = json.loads(invoke("models", "--json", "--task", "fx-task").stdout)
    assert [(r["name"], r["default"], r["exists"], r["card"]) for r in rows] == [
        ("fx-small", True, True, {"task": "fx-task", "steps": 3})
    ]


def test_data_group_has_help(invoke):
    """`imggan data fetch --help` documents the cache root without fetching anything."""
    result = invoke("data", "fetch", "--help")
    assert result.exit_code == 0 and "--root" in result.stdout


def test_run_end_to_end(invoke, make_image, tmp_path):
    """`imggan run DIR --steps ... -o OUT` applies the chain and reports a summary on stderr."""
    source = make_image(tmp_path / "in" / "a.png", size=(20, 20))
    result = invoke("run", tmp_path / "in", "--steps", f"{BLUR};gamma:1", "-o", tmp_path / "out", "--device", "cpu")
    assert result.exit_code == 0, result.output
    out = cv2.imread(str(tmp_path / "out" / "a.png"), cv2.IMREAD_UNCHANGED)
    assert (out == cv2.GaussianBlur(source, (0, 0), 1.0)).all()
    assert re.search(r"imggan run: 1 done in \d+\.\ds", result.stderr)
    again = invoke("run", tmp_path / "in", "--steps", BLUR, "-o", tmp_path / "out")
    assert again.exit_code == 0 and "1 skipped" in again.stderr


def test_quiet_prints_nothing(invoke, make_image, tmp_path):
    """--quiet suppresses the progress bar and the summary."""
    make_image(tmp_path / "in" / "a.png")
    result = invoke("run", tmp_path / "in", "--steps", BLUR, "-o", tmp_path / "out", "-q")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""


def test_broken_files_are_reported_and_the_batch_goes_on(invoke, make_image, tmp_path):
    """Truncated JPEG, zero-byte file, text named .png and an over-limit header: each named, the rest done, exit 1."""
    folder = tmp_path / "in"
    make_image(folder / "good1.png")
    make_image(folder / "good2.jpg")
    ok, buffer = cv2.imencode(".jpg", np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    (folder / "truncated.jpg").write_bytes(buffer.tobytes()[: len(buffer) // 2])
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("hello, I am text", encoding="utf-8")
    (folder / "bomb.png").write_bytes(huge_png_header())
    result = invoke("run", folder, "--steps", BLUR, "-o", tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good1.png", "good2.jpg"]
    failures = dict(re.findall(r"imggan: failed: .*?([\w]+\.(?:png|jpg)): (.*)", result.stderr))
    assert set(failures) == {"truncated.jpg", "empty.png", "notes.png", "bomb.png"}
    assert "truncated" in failures["truncated.jpg"]
    assert "empty file (0 bytes)" in failures["empty.png"]
    assert "not a readable image" in failures["notes.png"]
    assert "exceeds the limit" in failures["bomb.png"]
    assert "2 done, 4 failed" in result.stderr
    assert "Traceback" not in result.output


def test_max_pixels_option(invoke, make_image, tmp_path):
    """--max-pixels refuses images above the limit per file (exit 1) and lets smaller ones through."""
    make_image(tmp_path / "in" / "big.png", size=(40, 40))
    make_image(tmp_path / "in" / "small.png", size=(10, 10))
    result = invoke("run", tmp_path / "in", "--steps", BLUR, "-o", tmp_path / "out", "--max-pixels", "500")
    assert result.exit_code == 1
    assert "big.png: 40x40" in result.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["small.png"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["{tmp}/does-not-exist", "--steps", BLUR], "no such file, folder or glob match"),
        (["{tmp}/in", "--steps", BLUR, "--shard", "4/4"], "--shard '4/4': need 0 <= I < N"),
        (["{tmp}/in", "--steps", BLUR, "--shard", "half"], "--shard 'half': expected I/N"),
        (["{tmp}/in", "--steps", "no-such-step"], "unknown step 'no-such-step'"),
        (["{tmp}/in", "--steps", BLUR, "-o", "{tmp}/one.png"], "need an output folder"),
        (["{tmp}/in", "--steps", BLUR, "--device", "cuda:99"], "--device"),
        (["{tmp}/in"], "Missing option '--steps'"),
        (["{tmp}/in", "--steps", BLUR, "--format", "gif"], "Invalid value for '--format'"),
        (["{tmp}/in", "--steps", BLUR, "--batch-size", "0"], "Invalid value for '--batch-size'"),
    ],
)
def test_usage_errors_exit_2(invoke, make_image, tmp_path, args, message):
    """Usage errors (bad input, shard, step, output, device, options) exit with code 2 and say why."""
    make_image(tmp_path / "in" / "a.png")
    make_image(tmp_path / "in" / "b.png")
    result = invoke("run", *[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not (tmp_path / "imggan-out").exists()


def test_unknown_command_exits_2(invoke):
    """An unknown subcommand is a usage error."""
    result = invoke("no-such-command")
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_task_errors_become_usage_errors(install_plugins, invoke, make_image, tmp_path):
    """An ImgganError from a task's load (e.g. a bad --model) is shown as one line with exit code 2."""
    install_plugins(
        fx_needs_model="""
        import imggan
        from imggan.errors import ModelNotFoundError
        from imggan.task import Task


        def load(ctx):
            raise ModelNotFoundError(f"model {ctx.model!r} not found")


        @imggan.hookimpl
        def register_tasks(register):
            register(Task("fx-model-task", "Needs a model.", load=load, process=lambda m, items, ctx: []))
        """
    )
    make_image(tmp_path / "a.png")
    result = invoke("fx-model-task", tmp_path / "a.png", "--model", "ghost", "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert "model 'ghost' not found" in result.stderr
    assert "Traceback" not in result.output


def test_side_input_with_a_dashed_name(install_plugins, invoke, make_image, tmp_path):
    """A SideInput named 'style-ref' becomes --style-ref and its file reaches the task."""
    install_plugins(
        fx_style="""
        import imggan
        from imggan.task import SideInput, Task


        def process(model, items, ctx):
            return [item.sides["style-ref"] for item in items]


        @imggan.hookimpl
        def register_tasks(register):
            register(Task("fx-style", "Copy the style image.", load=lambda ctx: None, process=process,
                          side_inputs=(SideInput("style-ref", "Style image.", grayscale=False),)))
        """
    )
    make_image(tmp_path / "a.png", size=(8, 8))
    style = make_image(tmp_path / "style.png", size=(8, 8))
    result = invoke("fx-style", tmp_path / "a.png", "--style-ref", tmp_path / "style.png", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (cv2.imread(str(tmp_path / "out" / "a.png")) == style).all()


def test_python_api_raises_imggan_error_for_cli_usage_errors(tmp_path):
    """The errors the CLI maps to exit code 2 are ImgganError in the Python API."""
    from imggan.pipeline import run_task

    with pytest.raises(ImgganError):
        run_task("run", [tmp_path / "missing"], steps=BLUR)
